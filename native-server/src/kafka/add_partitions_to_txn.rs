//! AddPartitionsToTxn, as clients send it (v0-v3: one transaction, its topics and partitions):
//! the transaction coordinator records the partitions the transaction writes to. (v4+'s
//! batched broker-to-coordinator verification, KIP-890, is not offered.) With ACLs (Kafka's
//! `handleAddPartitionsToTxnRequest`): Write on the transactional id (else every partition is
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and Write on each topic (else its partitions are
//! TOPIC_AUTHORIZATION_FAILED and the others OPERATION_NOT_ATTEMPTED: nothing is added).

use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{AddPartitionsToTxnRequest, AddPartitionsToTxnResponse};
use partita_core::assignor::TopicPartition;

use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{by_topic, topic_name};
use super::node::Node;
use super::txn::fenced_for;
use partita_core::ErrorCode;
use partita_core::client::{Request, Response};

pub async fn handle(
    request: AddPartitionsToTxnRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<AddPartitionsToTxnResponse> {
    let authz = &client.authz;
    let partitions: Vec<TopicPartition> = request
        .v3_and_below_topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|&p| TopicPartition::new(t.name.to_string(), p))
        })
        .collect();
    let refused: Option<Vec<(TopicPartition, ErrorCode)>> =
        if !authz.transactional_id(AclOperation::Write, &request.v3_and_below_transactional_id) {
            Some(
                partitions
                    .iter()
                    .map(|tp| (tp.clone(), ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED))
                    .collect(),
            )
        } else if partitions
            .iter()
            .any(|tp| !authz.topic(AclOperation::Write, &tp.topic))
        {
            Some(
                partitions
                    .iter()
                    .map(|tp| {
                        let code = if authz.topic(AclOperation::Write, &tp.topic) {
                            ErrorCode::OPERATION_NOT_ATTEMPTED
                        } else {
                            ErrorCode::TOPIC_AUTHORIZATION_FAILED
                        };
                        (tp.clone(), code)
                    })
                    .collect(),
            )
        } else {
            None
        };
    if let Some(refused) = refused {
        return Ok(encode(refused, version));
    }
    // The core answers once the state it depends on is in the ISR (NOT_COORDINATOR if that
    // write failed), a retry no sooner than the first request.
    let answer = node
        .engine
        .request(Request::AddPartitionsToTxn {
            transactional_id: request.v3_and_below_transactional_id.to_string(),
            producer_id: request.v3_and_below_producer_id.0,
            producer_epoch: request.v3_and_below_producer_epoch,
            partitions,
        })
        .await?;
    let Response::AddPartitionsToTxn(results) = answer else {
        anyhow::bail!("AddPartitionsToTxn answered {}", answer.name());
    };
    Ok(encode(results, version))
}

fn encode(results: Vec<(TopicPartition, ErrorCode)>, version: i16) -> AddPartitionsToTxnResponse {
    let answers = results.into_iter().map(|(tp, code)| {
        let result = AddPartitionsToTxnPartitionResult::default()
            .with_partition_index(tp.partition)
            .with_partition_error_code(fenced_for(code, version, 2).code());
        (tp.topic, result)
    });
    let topics = by_topic(answers, |name, results| {
        AddPartitionsToTxnTopicResult::default()
            .with_name(topic_name(name))
            .with_results_by_partition(results)
    });
    AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(topics)
}
