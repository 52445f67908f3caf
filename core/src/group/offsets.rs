//! Committed offsets: OffsetCommit, OffsetFetch, their expiry, and their removal with a topic.
//!
//! A committed offset is the position a group resumes from: the offset of the *next* record to
//! read. Every change is also a [`GroupRecord`] for the internal compacted log, so offsets
//! survive a restart.

use serde::{Deserialize, Serialize};

use super::classic_group::ClassicGroup;
use super::config::CoordinatorConfig;
use super::coordinator::{Coordinator, Outputs};
use super::error::{OffsetCommitError, OffsetFetchError};
use super::messages::{OffsetCommitRequest, Output};
use super::records::GroupRecord;
use super::state::GroupState::*;
use crate::Millis;
use crate::assignor::TopicPartition;

/// One partition's offset in an OffsetCommit request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitOffset {
    pub offset: i64,
    /// The leader epoch of the last record consumed (OffsetCommit v6+), if the client knows it.
    pub leader_epoch: Option<i32>,
    pub metadata: Option<String>,
}

/// The answer to an OffsetFetch of one group: a group-level error, or per partition its
/// committed offset (`None`: none) or UNSTABLE_OFFSET_COMMIT (`require_stable`, KIP-447).
pub type OffsetFetchResults = Result<
    Vec<(
        TopicPartition,
        Result<Option<CommittedOffset>, OffsetFetchError>,
    )>,
    OffsetFetchError,
>;

/// An offset as the group stored it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedOffset {
    pub offset: i64,
    pub leader_epoch: Option<i32>,
    pub metadata: String,
    pub commit_timestamp: Millis,
}

impl Coordinator {
    /// Handles an OffsetCommit as a broker does: partitions for which `exists` says no are
    /// answered UNKNOWN_TOPIC_OR_PARTITION and nothing is stored for them (Kafka's
    /// `KafkaApis.handleOffsetCommitRequest` checks its metadata cache before the coordinator
    /// sees the request: when no partition exists, the group is neither checked nor created);
    /// the others go to [`Coordinator::handle_offset_commit`]. One result per partition, in the
    /// request's order.
    pub fn handle_offset_commit_of_existing(
        &mut self,
        commit: &OffsetCommitRequest,
        now: Millis,
        exists: impl Fn(&TopicPartition) -> bool,
    ) -> Vec<(TopicPartition, Result<(), OffsetCommitError>)> {
        let (known, unknown) = split_unknown(commit.offsets.iter().cloned(), exists);
        let mut results: Vec<_> = unknown
            .into_iter()
            .map(|tp| (tp, Err(OffsetCommitError::UnknownTopicOrPartition)))
            .collect();
        if !known.is_empty() {
            let known = OffsetCommitRequest {
                offsets: known,
                ..commit.clone()
            };
            results.extend(self.handle_offset_commit(&known, now));
        }
        in_request_order(commit.offsets.iter().map(|(tp, _)| tp.clone()), results)
    }

    /// Handles an OffsetCommit: one result per partition, in order. Accepted offsets come out
    /// as [`Output::Persist`] records; the shell answers once they are written and reports
    /// the write with [`Coordinator::handle_written`]: until then OffsetFetch does not see them.
    ///
    /// Whether each topic exists is not checked here (see
    /// [`Coordinator::handle_offset_commit_of_existing`]); the coordinator checks who commits.
    pub fn handle_offset_commit(
        &mut self,
        commit: &OffsetCommitRequest,
        now: Millis,
    ) -> Vec<(TopicPartition, Result<(), OffsetCommitError>)> {
        match self.validate_commit(commit, now) {
            Err(error) => commit
                .offsets
                .iter()
                .map(|(tp, _)| (tp.clone(), Err(error.clone())))
                .collect(),
            Ok(()) => {
                let max_metadata = self.config.offset_metadata_max_bytes;
                let Coordinator {
                    groups, outputs, ..
                } = self;
                let group = groups.get_mut(&commit.group_id).expect("validated above");
                let mut results = Vec::with_capacity(commit.offsets.len());
                for (tp, offset) in &commit.offsets {
                    let metadata = offset.metadata.clone().unwrap_or_default();
                    if metadata.len() > max_metadata {
                        results.push((tp.clone(), Err(OffsetCommitError::OffsetMetadataTooLarge)));
                        continue;
                    }
                    let committed = CommittedOffset {
                        offset: offset.offset,
                        leader_epoch: offset.leader_epoch,
                        metadata,
                        commit_timestamp: now,
                    };
                    // Visible once written (`handle_written`), as Kafka's pending commits.
                    group.pending_offsets.insert(tp.clone(), committed.clone());
                    outputs.push_back(Output::Persist(GroupRecord::Offset {
                        group: commit.group_id.clone(),
                        partition: tp.clone(),
                        value: Some(committed),
                    }));
                    results.push((tp.clone(), Ok(())));
                }
                results
            }
        }
    }

    /// Who may commit: anyone (generation -1) while the group has no members, which creates
    /// the group if needed; otherwise a current member of the current generation, outside the
    /// window where the new generation's assignment is not yet known. A commit is also a sign
    /// of life.
    pub(super) fn validate_commit(
        &mut self,
        commit: &OffsetCommitRequest,
        now: Millis,
    ) -> Result<(), OffsetCommitError> {
        if commit.group_id.is_empty() {
            return Err(OffsetCommitError::InvalidGroupId);
        }
        let Some(group) = self.groups.get_mut(&commit.group_id) else {
            if commit.generation_id < 0 {
                let group = ClassicGroup::new(commit.group_id.clone(), now);
                self.groups.insert(commit.group_id.clone(), group);
                return Ok(());
            }
            return Err(OffsetCommitError::IllegalGeneration);
        };
        if commit.generation_id < 0 && group.is(Empty) {
            return Ok(());
        }
        if group.is(CompletingRebalance) {
            return Err(OffsetCommitError::RebalanceInProgress);
        }
        if group.is_fenced(commit.group_instance_id.as_deref(), &commit.member_id) {
            return Err(OffsetCommitError::FencedInstanceId);
        }
        let generation_id = group.generation_id;
        let member = group
            .members
            .get_mut(&commit.member_id)
            .ok_or(OffsetCommitError::UnknownMemberId)?;
        if commit.generation_id != generation_id {
            return Err(OffsetCommitError::IllegalGeneration);
        }
        member.heartbeat(now);
        Ok(())
    }

    /// Handles an OffsetFetch: the committed offset of each partition asked for (`None` when
    /// there is none, answered as offset -1), or of every partition with one when `partitions`
    /// is `None`. An unknown group simply has no offsets.
    pub fn handle_offset_fetch(
        &self,
        group_id: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<Vec<(TopicPartition, Option<CommittedOffset>)>, OffsetFetchError> {
        if group_id.is_empty() {
            return Err(OffsetFetchError::InvalidGroupId);
        }
        let offsets = self.groups.get(group_id).map(|g| &g.offsets);
        Ok(match partitions {
            Some(partitions) => partitions
                .iter()
                .map(|tp| (tp.clone(), offsets.and_then(|o| o.get(tp)).cloned()))
                .collect(),
            None => offsets
                .into_iter()
                .flatten()
                .map(|(tp, offset)| (tp.clone(), Some(offset.clone())))
                .collect(),
        })
    }

    /// Whether `group_id` has a commit of `tp` that is not written yet (produced to the
    /// offsets partition, not yet acknowledged by its ISR): Kafka's
    /// `GroupMetadata.hasPendingOffsetCommitsForTopicPartition` for non-transactional
    /// commits, what an OffsetFetch with `require_stable` (KIP-447) answers
    /// UNSTABLE_OFFSET_COMMIT for.
    pub fn has_pending_commit(&self, group_id: &str, tp: &TopicPartition) -> bool {
        self.groups
            .get(group_id)
            .is_some_and(|g| g.pending_offsets.contains_key(tp))
    }

    /// A topic was deleted: every group forgets its offsets for it (tombstones are persisted),
    /// and a group left with nothing at all goes too.
    pub fn on_topic_deleted(&mut self, topic: &str, now: Millis) {
        let Coordinator {
            groups, outputs, ..
        } = self;
        let mut emptied = Vec::new();
        for group in groups.values_mut() {
            let gone: Vec<TopicPartition> = group
                .offsets
                .keys()
                .filter(|tp| tp.topic == topic)
                .cloned()
                .collect();
            if gone.is_empty() {
                continue;
            }
            for tp in gone {
                group.offsets.remove(&tp);
                outputs.push_back(Output::Persist(GroupRecord::Offset {
                    group: group.group_id.clone(),
                    partition: tp,
                    value: None,
                }));
            }
            if group.is_unused() {
                emptied.push(group.group_id.clone());
            }
        }
        for group_id in emptied {
            self.forget_if_unused(&group_id, now);
        }
    }

    /// Removes an Empty group that has no offsets left (it becomes Dead, and a tombstone of
    /// its metadata is persisted), as Kafka's `cleanupGroupMetadata` does.
    pub(super) fn forget_if_unused(&mut self, group_id: &str, now: Millis) {
        if !self.groups.get(group_id).is_some_and(|g| g.is_unused()) {
            return;
        }
        let mut group = self.groups.remove(group_id).expect("checked above");
        self.deleted.group(group.clone());
        group.transition(Dead, now, &mut self.outputs);
        self.outputs.push_back(Output::Persist(GroupRecord::Group {
            group: group_id.to_owned(),
            value: None,
        }));
    }
}

/// Splits `(partition, value)` pairs into those whose partition exists and the partitions
/// that do not, each in order (what Kafka's API layer does with OffsetCommit and OffsetDelete
/// before the coordinator sees them).
pub(super) fn split_unknown<T>(
    entries: impl IntoIterator<Item = (TopicPartition, T)>,
    exists: impl Fn(&TopicPartition) -> bool,
) -> (Vec<(TopicPartition, T)>, Vec<TopicPartition>) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for (tp, value) in entries {
        if exists(&tp) {
            known.push((tp, value));
        } else {
            unknown.push(tp);
        }
    }
    (known, unknown)
}

/// `results` sorted into the order their partitions have in `order` (a request's), so that the
/// answers to known and unknown partitions of one topic stay together.
pub(super) fn in_request_order<T>(
    order: impl IntoIterator<Item = TopicPartition>,
    mut results: Vec<(TopicPartition, T)>,
) -> Vec<(TopicPartition, T)> {
    let mut position = std::collections::BTreeMap::new();
    for (i, tp) in order.into_iter().enumerate() {
        position.entry(tp).or_insert(i);
    }
    results.sort_by_key(|(tp, _)| position.get(tp).copied().unwrap_or(usize::MAX));
    results
}

impl ClassicGroup {
    /// When the offsets of this group expire: only while it is Empty; for a group that had
    /// members, all at once, `offsets.retention.minutes` after it became empty; for a group
    /// only ever committed to from outside, each one that long after its commit (KIP-211).
    pub(super) fn offsets_expiry(&self, config: &CoordinatorConfig) -> Option<Millis> {
        if !self.is(Empty) || self.offsets.is_empty() {
            return None;
        }
        let since = match self.protocol_type {
            Some(_) => self.state_since,
            None => self
                .offsets
                .values()
                .map(|o| o.commit_timestamp)
                .min()
                .expect("not empty"),
        };
        Some(since.plus(config.offsets_retention_ms))
    }

    pub(super) fn expire_offsets(
        &mut self,
        now: Millis,
        config: &CoordinatorConfig,
        out: &mut Outputs,
    ) {
        if self
            .offsets_expiry(config)
            .is_none_or(|expiry| now < expiry)
        {
            return;
        }
        let retention = config.offsets_retention_ms;
        let state_since = self.state_since;
        let had_members = self.protocol_type.is_some();
        let expired: Vec<TopicPartition> = self
            .offsets
            .iter()
            .filter(|(_, o)| {
                now >= (if had_members {
                    state_since
                } else {
                    o.commit_timestamp
                })
                .plus(retention)
            })
            .map(|(tp, _)| tp.clone())
            .collect();
        for tp in expired {
            self.offsets.remove(&tp);
            out.push_back(Output::Persist(GroupRecord::Offset {
                group: self.group_id.clone(),
                partition: tp,
                value: None,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Millis;
    use crate::assignor::TopicPartition;
    use crate::group::test_support::*;
    use crate::group::*;

    fn commit(
        member_id: &str,
        generation_id: i32,
        offsets: &[(&str, i32, i64)],
    ) -> OffsetCommitRequest {
        OffsetCommitRequest {
            group_id: GROUP.into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: None,
            offsets: offsets
                .iter()
                .map(|&(t, p, o)| {
                    (
                        TopicPartition::new(t, p),
                        CommitOffset {
                            offset: o,
                            leader_epoch: None,
                            metadata: None,
                        },
                    )
                })
                .collect(),
        }
    }

    fn errors(
        results: Vec<(TopicPartition, Result<(), OffsetCommitError>)>,
    ) -> Vec<Result<(), OffsetCommitError>> {
        results.into_iter().map(|(_, r)| r).collect()
    }

    fn fetch(h: &Harness, topic: &str, partition: i32) -> Option<i64> {
        let tp = [TopicPartition::new(topic, partition)];
        let fetched = h.coordinator.handle_offset_fetch(GROUP, Some(&tp)).unwrap();
        fetched[0].1.as_ref().map(|o| o.offset)
    }

    #[test]
    fn a_member_commits_and_the_group_fetches_it_back() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        let results = h
            .coordinator
            .handle_offset_commit(&commit(&ids[0], 1, &[("t", 0, 42), ("t", 1, 7)]), h.now);
        assert_eq!(errors(results), vec![Ok(()), Ok(())]);
        assert_eq!(fetch(&h, "t", 0), None, "not written yet");
        h.collect(); // written
        assert_eq!(fetch(&h, "t", 0), Some(42));
        assert_eq!(fetch(&h, "t", 2), None, "no commit: answered as -1");
        let all = h.coordinator.handle_offset_fetch(GROUP, None).unwrap();
        assert_eq!(all.len(), 2);
        let unknown = h.coordinator.handle_offset_fetch("nope", None).unwrap();
        assert!(unknown.is_empty());
        assert_eq!(
            h.coordinator.handle_offset_fetch("", None),
            Err(OffsetFetchError::InvalidGroupId)
        );
    }

    #[test]
    fn every_accepted_offset_is_persisted() {
        let mut h = Harness::new();
        let request = commit("", -1, &[("t", 0, 5)]);
        h.coordinator.handle_offset_commit(&request, Millis(123));
        let record = h.coordinator.poll_output();
        let expected = GroupRecord::Offset {
            group: GROUP.into(),
            partition: TopicPartition::new("t", 0),
            value: Some(CommittedOffset {
                offset: 5,
                leader_epoch: None,
                metadata: String::new(),
                commit_timestamp: Millis(123),
            }),
        };
        assert_eq!(record, Some(Output::Persist(expected)));
    }

    #[test]
    fn a_commit_from_outside_any_generation_creates_an_empty_group() {
        let mut h = Harness::new();
        let results = h
            .coordinator
            .handle_offset_commit(&commit("", -1, &[("t", 0, 1)]), h.now);
        assert_eq!(errors(results), vec![Ok(())]);
        assert_eq!(h.state(), GroupState::Empty);
        let stale = h
            .coordinator
            .handle_offset_commit(&commit("m", 3, &[("t", 0, 1)]), h.now);
        assert_eq!(errors(stale), vec![Err(OffsetCommitError::UnknownMemberId)]);
        let no_group = OffsetCommitRequest {
            group_id: "other".into(),
            ..commit("m", 3, &[("t", 0, 1)])
        };
        let results = h.coordinator.handle_offset_commit(&no_group, h.now);
        assert_eq!(
            errors(results),
            vec![Err(OffsetCommitError::IllegalGeneration)]
        );
    }

    #[test]
    fn who_may_commit() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let check = |h: &mut Harness,
                     request: OffsetCommitRequest,
                     expected: Result<(), OffsetCommitError>| {
            let results = h.coordinator.handle_offset_commit(&request, h.now);
            assert_eq!(errors(results), vec![expected], "{request:?}");
        };
        check(
            &mut h,
            commit(&ids[0], 0, &[("t", 0, 1)]),
            Err(OffsetCommitError::IllegalGeneration),
        );
        check(
            &mut h,
            commit("stranger", 1, &[("t", 0, 1)]),
            Err(OffsetCommitError::UnknownMemberId),
        );
        check(
            &mut h,
            commit("", -1, &[("t", 0, 1)]),
            Err(OffsetCommitError::UnknownMemberId),
        );
        let empty_group = OffsetCommitRequest {
            group_id: String::new(),
            ..commit(&ids[0], 1, &[("t", 0, 1)])
        };
        check(&mut h, empty_group, Err(OffsetCommitError::InvalidGroupId));
        // During the join phase a member may still commit what it consumed (the generation it
        // names is still current)...
        h.join(join_request(&ids[0]));
        check(&mut h, commit(&ids[1], 1, &[("t", 0, 1)]), Ok(()));
        // ...but not between the join phase and the new assignment.
        h.join(join_request(&ids[1]));
        assert_eq!(h.state(), GroupState::CompletingRebalance);
        check(
            &mut h,
            commit(&ids[1], 2, &[("t", 0, 1)]),
            Err(OffsetCommitError::RebalanceInProgress),
        );
    }

    #[test]
    fn oversized_metadata_is_refused_per_partition() {
        let mut h = Harness::new();
        let mut request = commit("", -1, &[("t", 0, 1), ("t", 1, 2)]);
        request.offsets[1].1.metadata = Some("x".repeat(4_097));
        let results = h.coordinator.handle_offset_commit(&request, h.now);
        assert_eq!(
            errors(results),
            vec![Ok(()), Err(OffsetCommitError::OffsetMetadataTooLarge)]
        );
        assert_eq!(fetch(&h, "t", 1), None);
    }

    #[test]
    fn offsets_of_a_deleted_topic_go_with_it() {
        let mut h = Harness::new();
        h.coordinator
            .handle_offset_commit(&commit("", -1, &[("a", 0, 1), ("b", 0, 2)]), h.now);
        h.collect();
        h.outputs.clear();
        h.coordinator.on_topic_deleted("a", h.now);
        h.collect();
        let tombstones: Vec<GroupRecordKey> = h.persisted().iter().map(GroupRecord::key).collect();
        let key = GroupRecordKey::Offset {
            group: GROUP.into(),
            partition: TopicPartition::new("a", 0),
        };
        assert_eq!(tombstones, vec![key]);
        assert_eq!(fetch(&h, "a", 0), None);
        assert_eq!(fetch(&h, "b", 0), Some(2));
        // With its last offsets gone, an empty group goes too.
        h.coordinator.on_topic_deleted("b", h.now);
        assert_eq!(h.state(), GroupState::Dead);
    }

    #[test]
    fn offsets_of_a_group_empty_for_the_retention_period_expire() {
        let retention = 60_000;
        let mut h = Harness::with_config(CoordinatorConfig {
            group_initial_rebalance_delay_ms: Millis::ZERO,
            offsets_retention_ms: Millis(retention),
            ..CoordinatorConfig::default()
        });
        let ids = h.stable_group(1);
        h.coordinator
            .handle_offset_commit(&commit(&ids[0], 1, &[("t", 0, 9)]), h.now);
        h.leave(&[(&ids[0], None)]);
        assert_eq!(h.state(), GroupState::Empty);
        assert_eq!(h.coordinator.next_deadline(), Some(Millis(retention)));
        h.advance_to(retention - 1);
        assert_eq!(fetch(&h, "t", 0), Some(9));
        h.advance_to(retention);
        assert_eq!(fetch(&h, "t", 0), None);
        assert_eq!(h.state(), GroupState::Dead);
    }
}
