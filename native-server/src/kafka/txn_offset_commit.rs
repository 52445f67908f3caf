//! TxnOffsetCommit: a transactional producer's consumer offsets, sent to the group's
//! coordinator and held there until the transaction commits (see the core node's
//! `transactions.rs`).

use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};
use partita_core::assignor::TopicPartition;
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
    let (generation_id, member_id, instance) = if version >= 3 {
        (
            request.generation_id,
            request.member_id.to_string(),
            request.group_instance_id.as_ref().map(|i| i.to_string()),
        )
    } else {
        (-1, String::new(), None)
    };
    let results = node
        .engine
        .call(move |state| {
            state.node.txn_offset_commit(
                crate::engine::now(),
                &request.group_id,
                (request.producer_id.0, request.producer_epoch),
                generation_id,
                &member_id,
                instance,
                offsets,
            )
        })
        .await?;
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
