//! ListOffsets: earliest, latest, max-timestamp or by-timestamp offsets per partition.

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use partita_core::assignor::TopicPartition;
use partita_core::broker::{ListOffsetsPartition, OffsetSpec};

use super::convert::{by_topic, topic_name};
use super::node::Node;
use partita_core::client::{Request, Response};

pub async fn handle(
    request: ListOffsetsRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<ListOffsetsResponse> {
    let partitions: Vec<ListOffsetsPartition> = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|p| ListOffsetsPartition {
                tp: TopicPartition::new(topic.name.to_string(), p.partition_index),
                spec: OffsetSpec::from_wire(p.timestamp),
                current_leader_epoch: (p.current_leader_epoch >= 0)
                    .then_some(p.current_leader_epoch),
            })
        })
        .collect();
    let Response::ListOffsets(listed) = node
        .engine
        .request(Request::ListOffsets(partitions))
        .await?
    else {
        anyhow::bail!("the node answered ListOffsets with another response");
    };
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
