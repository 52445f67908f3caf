//! ListOffsets: earliest, latest, max-timestamp or by-timestamp offsets per partition. With
//! ACLs, each topic needs Describe (else TOPIC_AUTHORIZATION_FAILED), as Kafka's.

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use partita_core::assignor::TopicPartition;
use partita_core::broker::{IsolationLevel, ListOffsetsPartition, ListedOffset, OffsetSpec};

use partita_core::ErrorCode;
use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{by_topic, topic_name};
use super::node::Node;

pub async fn handle(
    request: ListOffsetsRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<ListOffsetsResponse> {
    // A timestamp the request's version cannot ask for is answered at once, in its place.
    let mut asked: Vec<Result<ListOffsetsPartition, ListedOffset>> = Vec::new();
    for topic in &request.topics {
        for p in &topic.partitions {
            let tp = TopicPartition::new(topic.name.to_string(), p.partition_index);
            let spec = if client.authz.topic(AclOperation::Describe, &topic.name) {
                OffsetSpec::from_wire(p.timestamp, version)
            } else {
                Err(ErrorCode::TOPIC_AUTHORIZATION_FAILED)
            };
            asked.push(match spec {
                Ok(spec) => Ok(ListOffsetsPartition {
                    tp,
                    spec,
                    current_leader_epoch: (p.current_leader_epoch >= 0)
                        .then_some(p.current_leader_epoch),
                }),
                Err(error) => Err(ListedOffset {
                    tp,
                    error,
                    timestamp: -1,
                    offset: -1,
                    leader_epoch: -1,
                }),
            });
        }
    }
    let partitions: Vec<ListOffsetsPartition> = asked
        .iter()
        .filter_map(|a| a.as_ref().ok().cloned())
        .collect();
    let mut answered = node
        .engine
        .call(move |state| {
            // v2+ (KIP-98): read_committed answers up to the last stable offset.
            let isolation = IsolationLevel::from_wire(if version >= 2 {
                request.isolation_level
            } else {
                0
            });
            state.broker().list_offsets_isolated(&partitions, isolation)
        })
        .await?
        .into_iter();
    let listed: Vec<ListedOffset> = asked
        .into_iter()
        .map(|a| match a {
            Ok(_) => answered.next().expect("one answer per partition asked"),
            Err(refused) => refused,
        })
        .collect();
    let partitions = listed.into_iter().map(|l| {
        let partition = ListOffsetsPartitionResponse::default()
            .with_partition_index(l.tp.partition)
            .with_error_code(l.error.code())
            .with_timestamp(l.timestamp)
            .with_offset(l.offset)
            .with_leader_epoch(if version >= 4 { l.leader_epoch } else { -1 });
        (l.tp.topic, partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        ListOffsetsTopicResponse::default()
            .with_name(topic_name(name))
            .with_partitions(partitions)
    });
    Ok(ListOffsetsResponse::default().with_topics(topics))
}
