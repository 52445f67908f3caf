//! The shell reports the fate of the records the coordinator asked it to persist: what was
//! written takes effect, what failed is undone (Kafka's `GroupMetadata.onOffsetCommitAppend`
//! and `failPendingOffsetWrite`, and `GroupCoordinator.doSyncGroup`'s error path).

use super::coordinator::Coordinator;
use super::records::GroupRecord;
use super::state::GroupState::*;
use crate::Millis;

impl Coordinator {
    /// `records` (from [`Output::Persist`](super::Output::Persist), in the order they came
    /// out) were written (`acknowledged`: durable where they must be: synced, or acknowledged
    /// by the ISR of their offsets partition) or failed to be.
    ///
    /// - A committed offset that was written becomes what OffsetFetch answers; one whose write
    ///   failed is dropped, unless a later commit of the same partition is still pending (only
    ///   the latest pending commit of a partition is kept, as in Kafka). A group that a failed
    ///   commit created and that holds nothing else is forgotten again.
    /// - A group's metadata that failed to be written while the group is still in the
    ///   generation it describes and Stable (the leader's assignment): the assignment is
    ///   dropped and the group rebalances, as Kafka does when storing a SyncGroup's
    ///   assignment fails (its members were told NOT_COORDINATOR and rejoin).
    /// - Tombstones take effect when they are produced (Kafka removes expired and deleted
    ///   offsets from memory before writing them); a failed one leaves the record in the log.
    pub fn handle_written(&mut self, records: &[GroupRecord], acknowledged: bool, now: Millis) {
        for record in records {
            match record {
                GroupRecord::Offset {
                    group,
                    partition,
                    value: Some(committed),
                } => {
                    let Some(g) = self.groups.get_mut(group) else {
                        continue;
                    };
                    let latest = g.pending_offsets.get(partition) == Some(committed);
                    if latest {
                        g.pending_offsets.remove(partition);
                    }
                    if acknowledged {
                        g.offsets.insert(partition.clone(), committed.clone());
                    } else if latest {
                        self.forget_if_unused(group, now);
                    }
                }
                GroupRecord::Group {
                    group,
                    value: Some(metadata),
                } if !acknowledged => {
                    let Coordinator {
                        config,
                        groups,
                        outputs,
                        ..
                    } = self;
                    let Some(g) = groups.get_mut(group) else {
                        continue;
                    };
                    if g.is(Stable) && g.generation_id == metadata.generation_id {
                        for member in g.members.values_mut() {
                            member.assignment.clear();
                        }
                        g.prepare_rebalance(now, config, outputs);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Millis;
    use crate::assignor::TopicPartition;
    use crate::group::test_support::*;
    use crate::group::*;

    fn commit(generation_id: i32, member_id: &str, offset: i64) -> OffsetCommitRequest {
        OffsetCommitRequest {
            group_id: GROUP.into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: None,
            offsets: vec![(
                TopicPartition::new("t", 0),
                CommitOffset {
                    offset,
                    leader_epoch: None,
                    metadata: None,
                },
            )],
        }
    }

    fn fetched(h: &Harness) -> Option<i64> {
        let tp = TopicPartition::new("t", 0);
        let offsets = h
            .coordinator
            .handle_offset_fetch(GROUP, Some(std::slice::from_ref(&tp)))
            .expect("valid group");
        offsets[0].1.as_ref().map(|o| o.offset)
    }

    /// Commits without the harness's automatic acknowledgement; returns the records.
    fn commit_unwritten(h: &mut Harness, request: OffsetCommitRequest) -> Vec<GroupRecord> {
        let results = h.coordinator.handle_offset_commit(&request, h.now);
        assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
        let mut records = Vec::new();
        while let Some(output) = h.coordinator.poll_output() {
            if let Output::Persist(record) = output {
                records.push(record);
            }
        }
        records
    }

    #[test]
    fn a_commit_is_visible_only_once_written() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        let first = commit_unwritten(&mut h, commit(1, &ids[0], 5));
        assert_eq!(fetched(&h), None, "pending");
        h.coordinator.handle_written(&first, true, h.now);
        assert_eq!(fetched(&h), Some(5));
    }

    #[test]
    fn a_failed_commit_leaves_the_committed_offset_and_the_group_as_they_were() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        let written = commit_unwritten(&mut h, commit(1, &ids[0], 5));
        h.coordinator.handle_written(&written, true, h.now);
        let before = h.coordinator.describe_group(GROUP);
        let failed = commit_unwritten(&mut h, commit(1, &ids[0], 9));
        h.coordinator.handle_written(&failed, false, h.now);
        assert_eq!(fetched(&h), Some(5), "the failed commit is not visible");
        assert_eq!(h.coordinator.describe_group(GROUP), before);
        assert_eq!(h.state(), GroupState::Stable);
        // A later commit is still accepted and applied.
        let again = commit_unwritten(&mut h, commit(1, &ids[0], 9));
        h.coordinator.handle_written(&again, true, h.now);
        assert_eq!(fetched(&h), Some(9));
    }

    #[test]
    fn an_earlier_failure_does_not_drop_a_later_pending_commit() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        let a = commit_unwritten(&mut h, commit(1, &ids[0], 5));
        let b = commit_unwritten(&mut h, commit(1, &ids[0], 7));
        h.coordinator.handle_written(&a, false, h.now);
        assert_eq!(fetched(&h), None);
        h.coordinator.handle_written(&b, true, h.now);
        assert_eq!(fetched(&h), Some(7));
    }

    #[test]
    fn a_group_created_by_a_failed_commit_is_forgotten() {
        let mut h = Harness::new();
        let failed = commit_unwritten(&mut h, commit(-1, "", 5));
        // Until the write is answered, a tick does not drop the group with its pending offset.
        h.coordinator.tick(h.now.plus(Millis(1)));
        assert_eq!(h.coordinator.list_groups(&[]).len(), 1);
        h.coordinator.handle_written(&failed, false, h.now);
        assert_eq!(fetched(&h), None);
        assert_eq!(h.coordinator.list_groups(&[]), vec![]);
    }

    #[test]
    fn a_failed_assignment_write_makes_the_group_rebalance() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        // The record the leader's SyncGroup persisted (the group as it is now).
        let assignment = h.coordinator.groups[GROUP].metadata_record();
        h.coordinator.handle_written(&[assignment], false, h.now);
        h.collect();
        assert_eq!(h.state(), GroupState::PreparingRebalance);
        assert_eq!(
            h.heartbeat(&ids[0], 1),
            Err(HeartbeatError::RebalanceInProgress)
        );
    }
}
