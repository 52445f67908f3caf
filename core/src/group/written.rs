//! The shell reports the fate of the records the coordinator asked it to persist: what was
//! written takes effect, what failed is undone (Kafka's `GroupMetadata.onOffsetCommitAppend`
//! and `failPendingOffsetWrite`, and `GroupCoordinator.doSyncGroup`'s error path).

use super::classic_group::ClassicGroup;
use super::coordinator::Coordinator;
use super::records::{GroupMetadataValue, GroupRecord};
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
    /// - A group's metadata naming a static member that took its earlier incarnation's place
    ///   under a new member id (a settled group, nothing rebalanced): if it failed, the
    ///   replacement is undone, the earlier member id holds the `group.instance.id` again (as
    ///   Kafka's `GroupCoordinator.updateStaticMemberAndRebalance` does; the new incarnation
    ///   was answered NOT_COORDINATOR and joins again).
    /// - Tombstones take effect when they are produced; one of DeleteGroups or OffsetDelete
    ///   that failed puts back what it deleted, since the log still holds it (`tombstones.rs`).
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
                    if g.revert_static_replacements(metadata, now) {
                        continue;
                    }
                    if g.is(Stable) && g.generation_id == metadata.generation_id {
                        for member in g.members.values_mut() {
                            member.assignment.clear();
                        }
                        g.prepare_rebalance(now, config, outputs);
                    }
                }
                GroupRecord::Group {
                    group,
                    value: Some(metadata),
                } => {
                    if let Some(g) = self.groups.get_mut(group) {
                        for member in &metadata.members {
                            g.replaced_static_members.remove(&member.member_id);
                        }
                    }
                }
                GroupRecord::Offset { value: None, .. }
                | GroupRecord::Group { value: None, .. } => {
                    self.tombstone_written(record, acknowledged);
                }
            }
        }
    }
}

impl ClassicGroup {
    /// The record `metadata` of this group failed to be written: every static member it
    /// names that replaced an earlier incarnation (and still holds its instance id) gives
    /// its place back. Returns whether one did.
    fn revert_static_replacements(&mut self, metadata: &GroupMetadataValue, now: Millis) -> bool {
        let mut reverted = false;
        for named in &metadata.members {
            let Some(mut earlier) = self.replaced_static_members.remove(&named.member_id) else {
                continue;
            };
            let new_id = named.member_id.as_str();
            let instance = earlier.group_instance_id.clone().expect("a static member");
            if self.static_members.get(&instance).map(String::as_str) != Some(new_id) {
                continue;
            }
            let replacement = self
                .members
                .remove(new_id)
                .expect("static members are members");
            earlier.assignment = replacement.assignment;
            earlier.heartbeat(now);
            if self.leader.as_deref() == Some(new_id) {
                self.leader = Some(earlier.member_id.clone());
            }
            self.static_members
                .insert(instance, earlier.member_id.clone());
            self.members.insert(earlier.member_id.clone(), earlier);
            reverted = true;
        }
        reverted
    }
}

#[cfg(test)]
mod tests {
    use crate::Millis;
    use crate::assignor::TopicPartition;
    use crate::group::test_support::*;
    use crate::group::*;

    fn commit(generation_id: i32, member_id: &str, offset: i64) -> OffsetCommitRequest {
        offset_commit(GROUP, generation_id, member_id, offset)
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
        unwritten(h)
    }

    /// The records the coordinator asked to persist since last asked, not acknowledged.
    fn unwritten(h: &mut Harness) -> Vec<GroupRecord> {
        let mut records = Vec::new();
        while let Some(output) = h.coordinator.poll_output() {
            if let Output::Persist(record) = output {
                records.push(record);
            }
        }
        records
    }

    fn static_join(h: &mut Harness) -> RequestId {
        h.join(JoinGroupRequest {
            group_instance_id: Some("pod-0".into()),
            ..join_request("")
        })
    }

    /// Kafka's `updateStaticMemberAndRebalance` error path: the group record naming the new
    /// member id is not written, so the earlier incarnation's id holds the instance again.
    #[test]
    fn a_static_member_replacement_that_is_not_written_is_undone() {
        let mut h = Harness::new();
        let r = static_join(&mut h);
        let old = h.joined(r).member_id;
        let s = h.sync(&old, 1, &[(old.as_str(), b"p0")]);
        h.sync_result(s).unwrap().unwrap();
        // The restarted member joins again; its record is not acknowledged yet.
        let r = RequestId(99);
        let request = JoinGroupRequest {
            group_instance_id: Some("pod-0".into()),
            ..join_request("")
        };
        h.coordinator.handle_join(r, request, h.now);
        let records = unwritten(&mut h);
        assert_eq!(records.len(), 1, "{records:?}");
        h.coordinator.handle_written(&records, false, h.now);
        let group = &h.coordinator.groups[GROUP];
        assert_eq!(group.static_members["pod-0"], old);
        assert_eq!(group.leader.as_deref(), Some(old.as_str()));
        assert_eq!(group.members.keys().collect::<Vec<_>>(), vec![&old]);
        assert_eq!(group.members[&old].assignment, b"p0");
        assert_eq!(h.state(), GroupState::Stable, "no rebalance, as in Kafka");
        assert_eq!(h.heartbeat(&old, 1), Ok(()));
        // A replacement that is written stays.
        let r = static_join(&mut h);
        let new = h.joined(r).member_id;
        assert_eq!(h.coordinator.groups[GROUP].static_members["pod-0"], new);
        assert!(
            h.coordinator.groups[GROUP]
                .replaced_static_members
                .is_empty()
        );
    }

    /// DeleteGroups whose tombstones are not written: the group and its offsets are still
    /// in the log, so they stay in memory too.
    #[test]
    fn a_group_deletion_that_is_not_written_is_undone() {
        let mut h = Harness::new();
        let written = commit_unwritten(&mut h, commit(-1, "", 5));
        h.coordinator.handle_written(&written, true, h.now);
        let before = h.coordinator.describe_group(GROUP);
        assert_eq!(
            h.coordinator.delete_groups(&[GROUP.to_string()], h.now),
            vec![Ok(())]
        );
        assert_eq!(fetched(&h), None);
        let tombstones = unwritten(&mut h);
        assert!(tombstones.iter().all(GroupRecord::is_tombstone));
        h.coordinator.handle_written(&tombstones, false, h.now);
        assert_eq!(fetched(&h), Some(5));
        assert_eq!(h.coordinator.describe_group(GROUP), before);
        // Written this time: gone.
        h.coordinator.delete_groups(&[GROUP.to_string()], h.now);
        let tombstones = unwritten(&mut h);
        h.coordinator.handle_written(&tombstones, true, h.now);
        assert_eq!(fetched(&h), None);
        assert!(h.coordinator.list_groups(&[]).is_empty());
    }

    /// OffsetDelete whose tombstone is not written: the offset comes back (with the group
    /// it was the last offset of).
    #[test]
    fn an_offset_deletion_that_is_not_written_is_undone() {
        let mut h = Harness::new();
        let written = commit_unwritten(&mut h, commit(-1, "", 5));
        h.coordinator.handle_written(&written, true, h.now);
        let tp = TopicPartition::new("t", 0);
        let results = h
            .coordinator
            .delete_offsets(GROUP, std::slice::from_ref(&tp), h.now)
            .unwrap();
        assert_eq!(results, vec![(tp, Ok(()))]);
        assert_eq!(fetched(&h), None);
        let tombstones = unwritten(&mut h);
        assert_eq!(
            tombstones.len(),
            2,
            "the offset's and the forgotten group's"
        );
        h.coordinator.handle_written(&tombstones, false, h.now);
        assert_eq!(fetched(&h), Some(5));
        assert_eq!(h.coordinator.list_groups(&[]).len(), 1);
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
