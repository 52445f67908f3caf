//! OffsetDelete (KIP-496): removes a group's committed offsets for some partitions, unless a
//! member of the group is subscribed to the partition's topic (it would commit again).
//!
//! Kafka's rules (`OffsetMetadataManager.deleteOffsets`, `ClassicGroup.validateOffsetDelete`,
//! `ClassicGroup.isSubscribedToTopic`): an unknown group is GROUP_ID_NOT_FOUND; a group with
//! members whose protocol type is not "consumer" is NON_EMPTY_GROUP (nobody can tell what it
//! reads); in a consumer group, a topic is off limits when a member's subscription (the
//! consumer protocol's metadata for the group's assignor) names it, or when the subscriptions
//! cannot be read. Each deleted offset is a tombstone in the group log, so the deletion
//! survives a restart; a group left Empty without offsets is forgotten, as Kafka's
//! `cleanupGroupMetadata` does.

use std::collections::BTreeSet;

use super::classic_group::ClassicGroup;
use super::coordinator::Coordinator;
use super::error::OffsetDeleteError;
use super::messages::Output;
use super::offsets::{in_request_order, split_unknown};
use super::records::GroupRecord;
use super::state::GroupState;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::assignor::consumer_protocol::{PROTOCOL_TYPE, Subscription};

/// One result per partition of an OffsetDelete that passed the group checks.
pub type OffsetDeleteResults = Vec<(TopicPartition, Result<(), OffsetDeleteError>)>;

impl Coordinator {
    /// Handles an OffsetDelete as a broker does: partitions for which `exists` says no are
    /// answered UNKNOWN_TOPIC_OR_PARTITION (Kafka's `KafkaApis.handleOffsetDeleteRequest`),
    /// the others as [`Coordinator::delete_offsets`] decides. An error of the whole request
    /// (the group's) wins over the partitions' answers, as in Kafka. Results in request order.
    pub fn delete_offsets_of_existing(
        &mut self,
        group_id: &str,
        partitions: &[TopicPartition],
        now: Millis,
        exists: impl Fn(&TopicPartition) -> bool,
    ) -> Result<OffsetDeleteResults, OffsetDeleteError> {
        let (known, unknown) = split_unknown(partitions.iter().map(|tp| (tp.clone(), ())), exists);
        let known: Vec<TopicPartition> = known.into_iter().map(|(tp, ())| tp).collect();
        let deleted = self.delete_offsets(group_id, &known, now)?;
        let mut results: OffsetDeleteResults = unknown
            .into_iter()
            .map(|tp| (tp, Err(OffsetDeleteError::UnknownTopicOrPartition)))
            .collect();
        results.extend(deleted);
        Ok(in_request_order(partitions.iter().cloned(), results))
    }

    /// Deletes the committed offsets of `partitions` in `group_id`: one result per partition,
    /// in order (Ok also when the group had no offset there), or the group's error. Deleted
    /// offsets come out as tombstones ([`Output::Persist`]); the shell answers once written.
    pub fn delete_offsets(
        &mut self,
        group_id: &str,
        partitions: &[TopicPartition],
        now: Millis,
    ) -> Result<OffsetDeleteResults, OffsetDeleteError> {
        if group_id.is_empty() {
            return Err(OffsetDeleteError::InvalidGroupId);
        }
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(OffsetDeleteError::GroupIdNotFound)?;
        let has_members = matches!(
            group.state,
            GroupState::Stable | GroupState::PreparingRebalance | GroupState::CompletingRebalance
        );
        if has_members && !group.uses_consumer_protocol() {
            return Err(OffsetDeleteError::NonEmptyGroup);
        }
        let subscribed = group.subscribed_topics();
        let mut results = Vec::with_capacity(partitions.len());
        for tp in partitions {
            let is_subscribed = match &subscribed {
                Some(topics) => topics.contains(&tp.topic),
                None => group.uses_consumer_protocol(),
            };
            if is_subscribed {
                results.push((tp.clone(), Err(OffsetDeleteError::GroupSubscribedToTopic)));
                continue;
            }
            if let Some(was) = group.offsets.remove(tp) {
                self.deleted.offset(group_id, tp, was);
                self.outputs.push_back(Output::Persist(GroupRecord::Offset {
                    group: group_id.to_owned(),
                    partition: tp.clone(),
                    value: None,
                }));
            }
            results.push((tp.clone(), Ok(())));
        }
        self.forget_if_unused(group_id, now);
        Ok(results)
    }
}

impl ClassicGroup {
    fn uses_consumer_protocol(&self) -> bool {
        self.protocol_type.as_deref() == Some(PROTOCOL_TYPE)
    }

    /// The topics the members subscribe to (Kafka's `computeSubscribedTopics`): `None` when
    /// unknown (not a consumer group, no assignor chosen yet, or a subscription that does not
    /// parse), empty without members. Read from the members' metadata for the group's current
    /// assignor; only the topics (the part every version of the subscription starts with)
    /// matter.
    fn subscribed_topics(&self) -> Option<BTreeSet<String>> {
        if !self.uses_consumer_protocol() {
            return None;
        }
        if self.members.is_empty() {
            return Some(BTreeSet::new());
        }
        let protocol = self.protocol_name.as_deref()?;
        let mut topics = BTreeSet::new();
        for member in self.members.values() {
            let subscription = Subscription::decode(member.metadata(protocol)).ok()?;
            topics.extend(subscription.topics);
        }
        Some(topics)
    }
}

#[cfg(test)]
mod tests {
    use crate::assignor::TopicPartition;
    use crate::assignor::consumer_protocol::Subscription;
    use crate::group::test_support::*;
    use crate::group::*;

    fn commit_standalone(h: &mut Harness, group: &str, tps: &[TopicPartition]) {
        let request = OffsetCommitRequest {
            group_id: group.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
            offsets: tps
                .iter()
                .map(|tp| {
                    let offset = CommitOffset {
                        offset: 5,
                        leader_epoch: None,
                        metadata: None,
                    };
                    (tp.clone(), offset)
                })
                .collect(),
        };
        let results = h.coordinator.handle_offset_commit(&request, h.now);
        assert!(results.iter().all(|(_, r)| r.is_ok()));
        h.collect();
    }

    fn fetch(h: &Harness, group: &str) -> Vec<TopicPartition> {
        let offsets = h.coordinator.handle_offset_fetch(group, None).unwrap();
        offsets.into_iter().map(|(tp, _)| tp).collect()
    }

    #[test]
    fn deletes_offsets_of_an_empty_group_as_tombstones_that_replay() {
        let mut h = Harness::new();
        let (a0, a1, b0) = (
            TopicPartition::new("a", 0),
            TopicPartition::new("a", 1),
            TopicPartition::new("b", 0),
        );
        commit_standalone(&mut h, "g2", &[a0.clone(), a1.clone(), b0.clone()]);
        let mut log = h.persisted();
        let results = h
            .coordinator
            .delete_offsets("g2", &[a0.clone(), TopicPartition::new("a", 7)], h.now)
            .unwrap();
        assert_eq!(
            results,
            vec![(a0.clone(), Ok(())), (TopicPartition::new("a", 7), Ok(()))],
            "a partition without an offset is no error"
        );
        assert_eq!(fetch(&h, "g2"), vec![a1.clone(), b0.clone()]);
        h.collect();
        let tombstones = h.persisted();
        assert_eq!(
            tombstones,
            vec![GroupRecord::Offset {
                group: "g2".into(),
                partition: a0,
                value: None
            }],
            "one tombstone, only for the offset that existed"
        );
        log.extend(tombstones);
        let mut replayed = Coordinator::new(CoordinatorConfig::default(), 1);
        for record in compact(&log) {
            replayed.replay(&record, h.now);
        }
        let offsets = replayed.handle_offset_fetch("g2", None).unwrap();
        let tps: Vec<TopicPartition> = offsets.into_iter().map(|(tp, _)| tp).collect();
        assert_eq!(tps, vec![a1.clone(), b0.clone()], "survives a restart");
        // Deleting the last offsets forgets the group.
        h.coordinator
            .delete_offsets("g2", &[a1, b0], h.now)
            .unwrap();
        assert_eq!(h.coordinator.describe_group("g2").state, GroupState::Dead);
    }

    #[test]
    fn group_errors_and_unknown_partitions() {
        let mut h = Harness::new();
        let tp = TopicPartition::new("t", 0);
        assert_eq!(
            h.coordinator
                .delete_offsets("nope", std::slice::from_ref(&tp), h.now),
            Err(OffsetDeleteError::GroupIdNotFound)
        );
        assert_eq!(
            h.coordinator
                .delete_offsets("", std::slice::from_ref(&tp), h.now),
            Err(OffsetDeleteError::InvalidGroupId)
        );
        commit_standalone(&mut h, "g2", std::slice::from_ref(&tp));
        let missing = TopicPartition::new("missing", 0);
        let results = h
            .coordinator
            .delete_offsets_of_existing("g2", &[missing.clone(), tp.clone()], h.now, |tp| {
                tp.topic == "t"
            })
            .unwrap();
        assert_eq!(
            results,
            vec![
                (missing, Err(OffsetDeleteError::UnknownTopicOrPartition)),
                (tp, Ok(()))
            ]
        );
    }

    #[test]
    fn topics_a_member_subscribes_to_are_kept() {
        let mut h = Harness::new();
        let subscription = Subscription::new(vec!["a".into()]).encode();
        let mut join = join_request("");
        join.protocols[0].metadata = subscription;
        let first = h.join(join.clone());
        let member_id = match h.join_result(first) {
            Some(Err(JoinGroupError::MemberIdRequired { member_id })) => member_id,
            other => panic!("expected MEMBER_ID_REQUIRED, got {other:?}"),
        };
        join.member_id = member_id.clone();
        let joined = h.join(join);
        let generation = h.joined(joined).generation_id;
        h.sync(&member_id, generation, &[(member_id.as_str(), b"")]);
        assert_eq!(h.state(), GroupState::Stable);
        let (a0, b0) = (TopicPartition::new("a", 0), TopicPartition::new("b", 0));
        let commit = OffsetCommitRequest {
            group_id: GROUP.into(),
            generation_id: generation,
            member_id: member_id.clone(),
            group_instance_id: None,
            offsets: [&a0, &b0]
                .into_iter()
                .map(|tp| {
                    let offset = CommitOffset {
                        offset: 1,
                        leader_epoch: None,
                        metadata: None,
                    };
                    (tp.clone(), offset)
                })
                .collect(),
        };
        h.coordinator.handle_offset_commit(&commit, h.now);
        h.collect(); // written
        let results = h
            .coordinator
            .delete_offsets(GROUP, &[a0.clone(), b0.clone()], h.now)
            .unwrap();
        assert_eq!(
            results,
            vec![
                (a0.clone(), Err(OffsetDeleteError::GroupSubscribedToTopic)),
                (b0, Ok(()))
            ]
        );
        assert_eq!(fetch(&h, GROUP), vec![a0]);
    }

    #[test]
    fn a_non_consumer_group_with_members_refuses() {
        let mut h = Harness::new();
        let mut join = join_request("");
        join.protocol_type = "connect".into();
        join.require_known_member_id = false;
        let joined = h.join(join);
        h.joined(joined);
        assert_eq!(
            h.coordinator
                .delete_offsets(GROUP, &[TopicPartition::new("t", 0)], h.now),
            Err(OffsetDeleteError::NonEmptyGroup)
        );
    }
}
