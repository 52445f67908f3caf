//! OffsetDelete (KIP-496): deletes a group's committed offsets for some partitions. The rules
//! (unknown group, subscribed topics, tombstones in the group log) are the core coordinator's
//! (`partita_core::group`, `offset_delete.rs`); this file translates. With ACLs (Kafka's
//! `handleOffsetDeleteRequest`): Delete on the group (else the top-level
//! GROUP_AUTHORIZATION_FAILED) and Read on each topic (else TOPIC_AUTHORIZATION_FAILED for its
//! partitions, which keep their offsets).

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};
use partita_core::assignor::TopicPartition;

use partita_core::ErrorCode;
use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{by_topic, topic_name};
use super::node::Node;

pub async fn handle(
    request: OffsetDeleteRequest,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<OffsetDeleteResponse> {
    let group = request.group_id.to_string();
    if !client.authz.group(AclOperation::Delete, &group) {
        return Ok(OffsetDeleteResponse::default()
            .with_error_code(ErrorCode::GROUP_AUTHORIZATION_FAILED.code()));
    }
    let (partitions, refused): (Vec<TopicPartition>, Vec<TopicPartition>) = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic
                .partitions
                .iter()
                .map(|p| TopicPartition::new(topic.name.to_string(), p.partition_index))
        })
        .partition(|tp| client.authz.topic(AclOperation::Read, &tp.topic));
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
    let refused = refused
        .into_iter()
        .map(|tp| (tp, ErrorCode::TOPIC_AUTHORIZATION_FAILED.code()));
    let partitions = results
        .into_iter()
        .map(|(tp, result)| (tp, result.err().map_or(0, |e| e.code().code())))
        .chain(refused)
        .map(|(tp, code)| {
            let partition = OffsetDeleteResponsePartition::default()
                .with_partition_index(tp.partition)
                .with_error_code(code);
            (tp.topic, partition)
        });
    let topics = by_topic(partitions, |name, partitions| {
        OffsetDeleteResponseTopic::default()
            .with_name(topic_name(name))
            .with_partitions(partitions)
    });
    Ok(OffsetDeleteResponse::default().with_topics(topics))
}
