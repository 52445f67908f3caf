//! Transactional offset commits (KIP-98's TxnOffsetCommit, KIP-447's member checks): checked
//! like an OffsetCommit when they arrive, committed when the transaction's commit marker
//! reaches the group's offsets partition (Kafka's `GroupMetadata.prepareTxnOffsetCommit` and
//! `completePendingTxnOffsetCommit`). The node holds them in between.

use super::offsets::{CommitOffset, CommittedOffset};
use super::{Coordinator, GroupRecord, OffsetCommitError, OffsetCommitRequest, Output};
use crate::Millis;
use crate::assignor::TopicPartition;

impl Coordinator {
    /// Whether `commit` may be held for its transaction: the same checks as an OffsetCommit
    /// (a member of the current generation, or anyone while the group is empty).
    pub fn validate_txn_offset_commit(
        &mut self,
        commit: &OffsetCommitRequest,
        now: Millis,
    ) -> Result<(), OffsetCommitError> {
        self.validate_commit(commit, now)
    }

    /// Commits the offsets of a committed transaction, each `(group, partition, offset)`:
    /// stored and persisted like an OffsetCommit's, without member checks (the transaction
    /// was checked when it held them). A group that no longer exists is created empty.
    pub fn commit_txn_offsets(
        &mut self,
        offsets: Vec<(String, TopicPartition, CommitOffset)>,
        now: Millis,
    ) {
        for (group_id, tp, offset) in offsets {
            let group = self
                .groups
                .entry(group_id.clone())
                .or_insert_with(|| super::classic_group::ClassicGroup::new(group_id.clone(), now));
            let committed = CommittedOffset {
                offset: offset.offset,
                leader_epoch: offset.leader_epoch,
                metadata: offset.metadata.unwrap_or_default(),
                commit_timestamp: now,
            };
            group.offsets.insert(tp.clone(), committed.clone());
            self.outputs.push_back(Output::Persist(GroupRecord::Offset {
                group: group_id,
                partition: tp,
                value: Some(committed),
            }));
        }
    }
}
