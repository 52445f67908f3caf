//! OffsetDelete (KIP-496): deletes a group's committed offsets for some partitions. The rules
//! (unknown group, subscribed topics, tombstones in the group log) are the core coordinator's
//! (`partita_core::group`, `offset_delete.rs`); this file translates.

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};
use partita_core::assignor::TopicPartition;

use super::convert::{by_topic, topic_name};
use super::node::Node;

pub async fn handle(
    request: OffsetDeleteRequest,
    node: &Node,
) -> anyhow::Result<OffsetDeleteResponse> {
    let group = request.group_id.to_string();
    let partitions: Vec<TopicPartition> = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic
                .partitions
                .iter()
                .map(|p| TopicPartition::new(topic.name.to_string(), p.partition_index))
        })
        .collect();
    let results = node
        .engine
        .call(move |state| {
            state
                .node
                .delete_offsets(crate::engine::now(), &group, &partitions)
        })
        .await?;
    let results = match results {
        Ok(results) => results,
        // The whole request failed: only the top-level error, as Kafka answers.
        Err(error) => {
            return Ok(OffsetDeleteResponse::default().with_error_code(error.code().code()));
        }
    };
    let partitions = results.into_iter().map(|(tp, result)| {
        let partition = OffsetDeleteResponsePartition::default()
            .with_partition_index(tp.partition)
            .with_error_code(result.err().map_or(0, |e| e.code().code()));
        (tp.topic, partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        OffsetDeleteResponseTopic::default()
            .with_name(topic_name(name))
            .with_partitions(partitions)
    });
    Ok(OffsetDeleteResponse::default().with_topics(topics))
}
