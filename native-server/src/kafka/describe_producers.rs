//! DescribeProducers (KIP-664): each asked partition's producers (id, epoch, last sequence,
//! last timestamp), from the core broker's producer state (`broker/describe_producers.rs`).

use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, ProducerId};
use partita_core::ErrorCode;
use partita_core::assignor::TopicPartition;

use super::ClientInfo;
use super::convert::topic_name;
use super::node::Node;
use partita_core::acl::AclOperation;

pub async fn handle(
    request: DescribeProducersRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<DescribeProducersResponse> {
    let authz = client.authz.clone();
    let asked: Vec<(String, Vec<i32>)> = request
        .topics
        .iter()
        .map(|t| (t.name.to_string(), t.partition_indexes.clone()))
        .collect();
    node.engine
        .call(move |state| {
            let topics = asked
                .into_iter()
                .map(|(topic, partitions)| {
                    let partitions = partitions
                        .into_iter()
                        .map(|index| {
                            let tp = TopicPartition::new(topic.clone(), index);
                            // Kafka: a partition the metadata does not know is unknown; one it
                            // knows but this broker does not host is NOT_LEADER_OR_FOLLOWER.
                            // With ACLs, Read on the topic, as Kafka's
                            // `handleDescribeProducersRequest`.
                            let found = if !authz.topic(AclOperation::Read, &topic) {
                                Err(ErrorCode::TOPIC_AUTHORIZATION_FAILED)
                            } else if state.image().contains_partition(&topic, index) {
                                state.broker().describe_producers(&tp)
                            } else {
                                Err(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
                            };
                            partition_response(index, found)
                        })
                        .collect();
                    TopicResponse::default()
                        .with_name(topic_name(&topic))
                        .with_partitions(partitions)
                })
                .collect();
            DescribeProducersResponse::default().with_topics(topics)
        })
        .await
}

fn partition_response(
    index: i32,
    found: Result<Vec<partita_core::broker::ActiveProducer>, ErrorCode>,
) -> PartitionResponse {
    let response = PartitionResponse::default().with_partition_index(index);
    match found {
        Err(error) => response.with_error_code(error.code()),
        Ok(producers) => response.with_active_producers(
            producers
                .into_iter()
                .map(|p| {
                    ProducerState::default()
                        .with_producer_id(ProducerId(p.producer_id))
                        .with_producer_epoch(i32::from(p.producer_epoch))
                        .with_last_sequence(p.last_sequence)
                        .with_last_timestamp(p.last_timestamp)
                        .with_coordinator_epoch(p.coordinator_epoch)
                        .with_current_txn_start_offset(p.current_txn_start_offset)
                })
                .collect(),
        ),
    }
}
