//! Transactional offset commits (KIP-98's TxnOffsetCommit, KIP-447's member checks): checked
//! like an OffsetCommit when they arrive, applied when the transaction's commit marker
//! reaches the group's offsets partition (Kafka's `GroupMetadata.prepareTxnOffsetCommit` and
//! `completePendingTxnOffsetCommit`). The node writes them to the offsets partition as a
//! transactional batch and holds them as pending in between (`node/txn_offsets.rs`).

use super::offsets::CommittedOffset;
use super::{Coordinator, OffsetCommitError, OffsetCommitRequest};
use crate::Millis;
use crate::assignor::TopicPartition;

impl Coordinator {
    /// Whether `commit` may be held for its transaction, as Kafka's
    /// `GroupCoordinator.validateOffsetCommit` decides for a transactional commit: one
    /// without member information (generation -1, no member id, no `group.instance.id`:
    /// TxnOffsetCommit before v3, and Java's `sendOffsetsToTransaction(offsets, groupId)`)
    /// is accepted whatever the group's state, since those clients cannot say who they are;
    /// one that names a member gets an OffsetCommit's checks (a member of the current
    /// generation, outside the window where its assignment is not yet known).
    pub fn validate_txn_offset_commit(
        &mut self,
        commit: &OffsetCommitRequest,
        now: Millis,
    ) -> Result<(), OffsetCommitError> {
        let anonymous = commit.generation_id < 0
            && commit.member_id.is_empty()
            && commit.group_instance_id.is_none();
        if anonymous && !commit.group_id.is_empty() {
            return Ok(());
        }
        self.validate_commit(commit, now)
    }

    /// Applies the offsets of a committed transaction, each `(group, partition, offset)`,
    /// as Kafka's `GroupMetadata.completePendingTxnOffsetCommit` does: they become the
    /// group's committed offsets, with no member checks (the transaction was checked when it
    /// wrote them) and nothing written (the transactional records are in the offsets
    /// partition already; the commit marker made them visible). A group that no longer
    /// exists is created empty, as a loaded log would create it.
    pub fn apply_txn_offsets(
        &mut self,
        offsets: Vec<(String, TopicPartition, CommittedOffset)>,
        now: Millis,
    ) {
        for (group_id, tp, committed) in offsets {
            let group = self
                .groups
                .entry(group_id.clone())
                .or_insert_with(|| super::classic_group::ClassicGroup::new(group_id, now));
            group.offsets.insert(tp, committed);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::group::test_support::*;
    use crate::group::*;

    fn txn_commit(generation_id: i32, member_id: &str) -> OffsetCommitRequest {
        offset_commit(GROUP, generation_id, member_id, 5)
    }

    /// Java's `sendOffsetsToTransaction(offsets, groupId)` (and TxnOffsetCommit before v3)
    /// names no member: Kafka accepts it for a group with members.
    #[test]
    fn a_transactional_commit_without_member_information_is_accepted_for_a_live_group() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let now = h.now;
        assert_eq!(
            h.coordinator
                .validate_txn_offset_commit(&txn_commit(-1, ""), now),
            Ok(())
        );
        // A commit that names a member is checked like an OffsetCommit.
        assert_eq!(
            h.coordinator
                .validate_txn_offset_commit(&txn_commit(1, "stranger"), now),
            Err(OffsetCommitError::UnknownMemberId)
        );
        assert_eq!(
            h.coordinator
                .validate_txn_offset_commit(&txn_commit(7, &ids[0]), now),
            Err(OffsetCommitError::IllegalGeneration)
        );
        assert_eq!(
            h.coordinator
                .validate_txn_offset_commit(&txn_commit(1, &ids[0]), now),
            Ok(())
        );
        // A plain OffsetCommit without member information is still refused there.
        let results = h.coordinator.handle_offset_commit(&txn_commit(-1, ""), now);
        assert!(results[0].1.is_err(), "{results:?}");
    }
}
