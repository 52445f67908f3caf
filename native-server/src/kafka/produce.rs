//! Produce: each partition's record batch goes to the core's broker; acks decide when (and
//! whether) the answer comes.

use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use partita_core::Millis;
use partita_core::assignor::TopicPartition;
use partita_core::broker;

use partita_core::ErrorCode;
use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{by_topic, str_bytes, topic_name};
use super::node::Node;
use partita_core::client::{Request, Response};

/// `None` for acks=0: Kafka sends no response at all. With ACLs (Kafka's
/// `KafkaApis.handleProduceRequest`): a transactional request needs Write on its
/// transactional id (else every partition is TRANSACTIONAL_ID_AUTHORIZATION_FAILED), each
/// topic Write (else its partitions are TOPIC_AUTHORIZATION_FAILED, and not appended).
pub async fn handle(
    request: ProduceRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<Option<ProduceResponse>> {
    let acks = request.acks;
    let authz = &client.authz;
    let txn_denied = request
        .transactional_id
        .as_ref()
        .is_some_and(|id| !authz.transactional_id(AclOperation::Write, id));
    let mut refused = Vec::new();
    // Produce up to v11 names topics (ids arrive with v13).
    let mut partitions = Vec::new();
    for topic in &request.topic_data {
        let error = if txn_denied {
            Some(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        } else if !authz.topic(AclOperation::Write, &topic.name) {
            Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED)
        } else {
            None
        };
        for p in &topic.partition_data {
            let tp = TopicPartition::new(topic.name.to_string(), p.index);
            match error {
                Some(error) => refused.push(broker::ProducedPartition {
                    tp,
                    error,
                    error_message: None,
                    base_offset: -1,
                    log_start_offset: -1,
                    log_append_time_ms: -1,
                    record_errors: Vec::new(),
                }),
                None => partitions.push(broker::ProducePartition {
                    tp,
                    records: p.records.as_deref().unwrap_or_default().to_vec(),
                }),
            }
        }
    }
    let core_request = broker::ProduceRequest {
        acks,
        timeout_ms: Millis(u64::try_from(request.timeout_ms).unwrap_or(0)),
        partitions,
    };
    for p in &core_request.partitions {
        node.metrics.record_produce(&p.tp.topic, &p.records);
    }
    if acks == 0 {
        if !core_request.partitions.is_empty() {
            node.engine.send(Request::Produce(core_request)).await?;
        }
        return Ok(None);
    }
    let mut response = if core_request.partitions.is_empty() {
        broker::ProduceResponse {
            partitions: Vec::new(),
        }
    } else {
        let Response::Produce(response) =
            node.engine.request(Request::Produce(core_request)).await?
        else {
            anyhow::bail!("the node answered Produce with another response");
        };
        response
    };
    response.partitions.extend(refused);
    Ok(Some(encode(response, version)))
}

fn encode(response: broker::ProduceResponse, version: i16) -> ProduceResponse {
    let partitions = response.partitions.into_iter().map(|p| {
        // Per-record errors (KIP-467) exist from v8 on.
        let record_errors = p
            .record_errors
            .iter()
            .filter(|_| version >= 8)
            .map(|e| {
                BatchIndexAndErrorMessage::default()
                    .with_batch_index(e.batch_index)
                    .with_batch_index_error_message(e.message.clone().map(str_bytes))
            })
            .collect();
        let partition = PartitionProduceResponse::default()
            .with_index(p.tp.partition)
            .with_error_code(p.error.code())
            .with_base_offset(p.base_offset)
            .with_log_append_time_ms(p.log_append_time_ms)
            .with_log_start_offset(if version >= 5 { p.log_start_offset } else { -1 })
            .with_error_message(p.error_message.filter(|_| version >= 8).map(str_bytes))
            .with_record_errors(record_errors);
        (p.tp.topic, partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        TopicProduceResponse::default()
            .with_name(topic_name(name))
            .with_partition_responses(partitions)
    });
    ProduceResponse::default().with_responses(topics)
}
