//! OffsetCommit: where a group resumes reading; on disk before the answer goes out.

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};
use partita_core::assignor::TopicPartition;
use partita_core::group::{self, CommitOffset};

use super::convert::{by_topic, topic_name};
use super::node::Node;
use partita_core::client::{Request, Response};

pub async fn handle(
    request: OffsetCommitRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<OffsetCommitResponse> {
    let offsets = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|p| {
                let commit = CommitOffset {
                    offset: p.committed_offset,
                    leader_epoch: (version >= 6 && p.committed_leader_epoch >= 0)
                        .then_some(p.committed_leader_epoch),
                    metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
                };
                (
                    TopicPartition::new(topic.name.to_string(), p.partition_index),
                    commit,
                )
            })
        })
        .collect();
    let commit = group::OffsetCommitRequest {
        group_id: request.group_id.to_string(),
        generation_id: request.generation_id_or_member_epoch,
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.map(|id| id.to_string()),
        offsets,
    };
    let Response::OffsetCommit(results) =
        node.engine.request(Request::OffsetCommit(commit)).await?
    else {
        anyhow::bail!("the node answered OffsetCommit with another response");
    };
    let partitions = results.into_iter().map(|(tp, result)| {
        let partition = OffsetCommitResponsePartition::default()
            .with_partition_index(tp.partition)
            .with_error_code(result.err().map_or(0, |e| e.code().code()));
        (tp.topic, partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        OffsetCommitResponseTopic::default()
            .with_name(topic_name(name))
            .with_partitions(partitions)
    });
    Ok(OffsetCommitResponse::default().with_topics(topics))
}
