//! TxnOffsetCommit: a transactional producer's consumer offsets, sent to the group's
//! coordinator, written to its offsets partition as the producer's transactional batch and
//! visible once the transaction commits (see the core node's `txn_offsets.rs`).

use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};
use partita_core::assignor::TopicPartition;
use partita_core::client::{Request, Response};
use partita_core::group::CommitOffset;

use super::convert::{by_topic, topic_name};
use super::node::Node;
use super::txn::fenced_for;

pub async fn handle(
    request: TxnOffsetCommitRequest,
    version: i16,
    node: &Node,
) -> anyhow::Result<TxnOffsetCommitResponse> {
    let offsets: Vec<(TopicPartition, CommitOffset)> = request
        .topics
        .iter()
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
    let Response::TxnOffsetCommit(results) = answer else {
        anyhow::bail!("TxnOffsetCommit answered {}", answer.name());
    };
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
    Ok(TxnOffsetCommitResponse::default().with_topics(topics))
}
