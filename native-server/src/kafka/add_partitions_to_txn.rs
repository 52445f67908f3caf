//! AddPartitionsToTxn, as clients send it (v0-v3: one transaction, its topics and partitions):
//! the transaction coordinator records the partitions the transaction writes to. (v4+'s
//! batched broker-to-coordinator verification, KIP-890, is not offered.)

use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{AddPartitionsToTxnRequest, AddPartitionsToTxnResponse};
use partita_core::assignor::TopicPartition;

use super::convert::{by_topic, topic_name};
use super::node::Node;
use super::txn::fenced_for;
use partita_core::client::{Request, Response};

pub async fn handle(
    request: AddPartitionsToTxnRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<AddPartitionsToTxnResponse> {
    let partitions: Vec<TopicPartition> = request
        .v3_and_below_topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|&p| TopicPartition::new(t.name.to_string(), p))
        })
        .collect();
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
    Ok(AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(topics))
}
