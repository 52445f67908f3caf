//! TxnOffsetCommit: a transactional producer's consumer offsets, sent to the group's
//! coordinator, written to its offsets partition as the producer's transactional batch and
//! visible once the transaction commits (see the core node's `txn_offsets.rs`). With ACLs (Kafka's `handleTxnOffsetCommitRequest`): Write on the
//! transactional id, then Read on the group (else every partition gets
//! TRANSACTIONAL_ID_ or GROUP_AUTHORIZATION_FAILED), and Read on each topic (else its
//! partitions are TOPIC_AUTHORIZATION_FAILED and not committed).

use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};
use partita_core::assignor::TopicPartition;
use partita_core::client::{Request, Response};
use partita_core::group::CommitOffset;

use partita_core::ErrorCode;
use partita_core::acl::AclOperation;

use super::ClientInfo;
use super::convert::{by_topic, topic_name};
use super::node::Node;
use super::txn::fenced_for;

pub async fn handle(
    request: TxnOffsetCommitRequest,
    version: i16,
    client: &ClientInfo,
    node: &Node,
) -> anyhow::Result<TxnOffsetCommitResponse> {
    let authz = &client.authz;
    let whole = if !authz.transactional_id(AclOperation::Write, &request.transactional_id) {
        Some(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    } else if !authz.group(AclOperation::Read, &request.group_id) {
        Some(ErrorCode::GROUP_AUTHORIZATION_FAILED)
    } else {
        None
    };
    let mut refused: Vec<(TopicPartition, ErrorCode)> = Vec::new();
    for t in &request.topics {
        let code = whole.or((!authz.topic(AclOperation::Read, &t.name))
            .then_some(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
        if let Some(code) = code {
            refused.extend(t.partitions.iter().map(|p| {
                (
                    TopicPartition::new(t.name.to_string(), p.partition_index),
                    code,
                )
            }));
        }
    }
    if whole.is_some() {
        return Ok(encode(refused, version));
    }
    let offsets: Vec<(TopicPartition, CommitOffset)> = request
        .topics
        .iter()
        .filter(|t| authz.topic(AclOperation::Read, &t.name))
        .flat_map(|t| {
            t.partitions.iter().map(|p| {
                let offset = CommitOffset {
                    offset: p.committed_offset,
                    leader_epoch: (p.committed_leader_epoch >= 0)
                        .then_some(p.committed_leader_epoch),
                    metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
                };
                (
                    TopicPartition::new(t.name.to_string(), p.partition_index),
                    offset,
                )
            })
        })
        .collect();
    // v3+ (KIP-447) names the member; older clients commit outside any generation.
    let (generation_id, member_id, group_instance_id) = if version >= 3 {
        (
            request.generation_id,
            request.member_id.to_string(),
            request.group_instance_id.as_ref().map(|i| i.to_string()),
        )
    } else {
        (-1, String::new(), None)
    };
    if offsets.is_empty() && !refused.is_empty() {
        return Ok(encode(refused, version));
    }
    // Answered once the offsets' transactional batch is in the ISR of the group's offsets
    // partition (or with the write's error).
    let answer = node
        .engine
        .request(Request::TxnOffsetCommit {
            group_id: request.group_id.to_string(),
            producer_id: request.producer_id.0,
            producer_epoch: request.producer_epoch,
            generation_id,
            member_id,
            group_instance_id,
            offsets,
        })
        .await?;
    let Response::TxnOffsetCommit(mut results) = answer else {
        anyhow::bail!("TxnOffsetCommit answered {}", answer.name());
    };
    results.extend(refused);
    Ok(encode(results, version))
}

fn encode(results: Vec<(TopicPartition, ErrorCode)>, version: i16) -> TxnOffsetCommitResponse {
    let answers = results.into_iter().map(|(tp, code)| {
        let partition = TxnOffsetCommitResponsePartition::default()
            .with_partition_index(tp.partition)
            .with_error_code(fenced_for(code, version, 3).code());
        (tp.topic, partition)
    });
    let topics = by_topic(answers, |name, partitions| {
        TxnOffsetCommitResponseTopic::default()
            .with_name(topic_name(name))
            .with_partitions(partitions)
    });
    TxnOffsetCommitResponse::default().with_topics(topics)
}
