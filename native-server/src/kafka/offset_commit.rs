//! OffsetCommit: where a group resumes reading; on disk before the answer goes out. With
//! ACLs (Kafka's `handleOffsetCommitRequest`): Read on the group (else every partition is
//! GROUP_AUTHORIZATION_FAILED) and Read on each topic (else its partitions are
//! TOPIC_AUTHORIZATION_FAILED and not committed).

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};
use partita_core::assignor::TopicPartition;
use partita_core::group::{self, CommitOffset};

use partita_core::ErrorCode;
use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{by_topic, topic_name};
use super::node::Node;
use partita_core::client::{Request, Response};

pub async fn handle(
    request: OffsetCommitRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<OffsetCommitResponse> {
    let authz = &client.authz;
    let group_error = (!authz.group(AclOperation::Read, &request.group_id))
        .then_some(ErrorCode::GROUP_AUTHORIZATION_FAILED);
    let mut refused: Vec<(TopicPartition, i16)> = Vec::new();
    let offsets = request
        .topics
        .iter()
        .filter(|topic| {
            let error = group_error.or((!authz.topic(AclOperation::Read, &topic.name))
                .then_some(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
            if let Some(error) = error {
                refused.extend(topic.partitions.iter().map(|p| {
                    (
                        TopicPartition::new(topic.name.to_string(), p.partition_index),
                        error.code(),
                    )
                }));
            }
            error.is_none()
        })
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
        .collect::<Vec<_>>();
    if group_error.is_some() || (offsets.is_empty() && !refused.is_empty()) {
        return Ok(encode(refused));
    }
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
    let mut results: Vec<(TopicPartition, i16)> = results
        .into_iter()
        .map(|(tp, result)| (tp, result.err().map_or(0, |e| e.code().code())))
        .collect();
    results.extend(refused);
    Ok(encode(results))
}

fn encode(results: Vec<(TopicPartition, i16)>) -> OffsetCommitResponse {
    let partitions = results.into_iter().map(|(tp, code)| {
        let partition = OffsetCommitResponsePartition::default()
            .with_partition_index(tp.partition)
            .with_error_code(code);
        (tp.topic, partition)
    });
    let topics = by_topic(partitions, |name, partitions| {
        OffsetCommitResponseTopic::default()
            .with_name(topic_name(name))
            .with_partitions(partitions)
    });
    OffsetCommitResponse::default().with_topics(topics)
}
