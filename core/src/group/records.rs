//! The records of the internal compacted log (Kafka's `__consumer_offsets`), and rebuilding the
//! coordinator from them after a restart.
//!
//! Two kinds of record, each keyed so that compaction keeps only the latest per key: a committed
//! offset, keyed by (group, topic, partition), and a group's metadata (generation, protocol,
//! leader, members and their assignments), keyed by group. A record without a value is a
//! tombstone: the key is gone. Replaying the records in log order gives back every group and
//! offset. [`GroupRecord::encode`] gives their bytes in Kafka's own format.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::classic_group::ClassicGroup;
use super::coordinator::Coordinator;
use super::member::Member;
use super::messages::Protocol;
use super::offsets::CommittedOffset;
use super::state::GroupState;
use crate::Millis;
use crate::assignor::TopicPartition;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupRecord {
    Offset {
        group: String,
        partition: TopicPartition,
        value: Option<CommittedOffset>,
    },
    Group {
        group: String,
        value: Option<GroupMetadataValue>,
    },
}

/// What compaction keeps one record of.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GroupRecordKey {
    Offset {
        group: String,
        partition: TopicPartition,
    },
    Group {
        group: String,
    },
}

impl GroupRecord {
    pub fn key(&self) -> GroupRecordKey {
        match self {
            GroupRecord::Offset {
                group, partition, ..
            } => GroupRecordKey::Offset {
                group: group.clone(),
                partition: partition.clone(),
            },
            GroupRecord::Group { group, .. } => GroupRecordKey::Group {
                group: group.clone(),
            },
        }
    }

    pub fn is_tombstone(&self) -> bool {
        match self {
            GroupRecord::Offset { value, .. } => value.is_none(),
            GroupRecord::Group { value, .. } => value.is_none(),
        }
    }
}

/// What compaction leaves of a log: the latest record of each key, in the order they were
/// written, without tombstones. Replaying it rebuilds the same groups and offsets as replaying
/// the whole log.
pub fn compact(records: &[GroupRecord]) -> Vec<GroupRecord> {
    let mut latest: BTreeMap<GroupRecordKey, usize> = BTreeMap::new();
    for (position, record) in records.iter().enumerate() {
        latest.insert(record.key(), position);
    }
    let mut kept: Vec<usize> = latest.into_values().collect();
    kept.sort_unstable();
    kept.into_iter()
        .map(|position| &records[position])
        .filter(|record| !record.is_tombstone())
        .cloned()
        .collect()
}

/// A group as of its last completed rebalance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMetadataValue {
    pub protocol_type: Option<String>,
    pub generation_id: i32,
    pub protocol_name: Option<String>,
    pub leader: Option<String>,
    /// When the group entered its current state: for an empty group, where the retention of
    /// its offsets counts from, across restarts.
    pub current_state_timestamp: Millis,
    pub members: Vec<MemberMetadataValue>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberMetadataValue {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Millis,
    pub rebalance_timeout: Millis,
    /// Its metadata for the group's protocol.
    pub subscription: Vec<u8>,
    pub assignment: Vec<u8>,
}

impl ClassicGroup {
    /// The metadata record of the group as it is now.
    pub(super) fn metadata_record(&self) -> GroupRecord {
        let protocol = self.protocol_name.as_deref().unwrap_or_default();
        let members = self
            .members
            .values()
            .map(|m| MemberMetadataValue {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                session_timeout: m.session_timeout,
                rebalance_timeout: m.rebalance_timeout,
                subscription: m.metadata(protocol).to_vec(),
                assignment: m.assignment.clone(),
            })
            .collect();
        GroupRecord::Group {
            group: self.group_id.clone(),
            value: Some(GroupMetadataValue {
                protocol_type: self.protocol_type.clone(),
                generation_id: self.generation_id,
                protocol_name: self.protocol_name.clone(),
                leader: self.leader.clone(),
                current_state_timestamp: self.state_since,
                members,
            }),
        }
    }
}

impl Coordinator {
    /// Applies one record read back from the log, in log order, when the coordinator starts.
    /// A group with members comes back Stable with its assignments, as Kafka loads it; each
    /// member's session starts at `now`, so members that are really gone time out.
    pub fn replay(&mut self, record: &GroupRecord, now: Millis) {
        match record {
            GroupRecord::Offset {
                group,
                partition,
                value,
            } => {
                let entry = self
                    .groups
                    .entry(group.clone())
                    .or_insert_with(|| ClassicGroup::new(group.clone(), now));
                match value {
                    Some(offset) => {
                        entry.offsets.insert(partition.clone(), offset.clone());
                    }
                    None => {
                        entry.offsets.remove(partition);
                    }
                }
                if entry.is_unused() {
                    self.groups.remove(group);
                }
            }
            GroupRecord::Group { group, value: None } => {
                self.groups.remove(group);
            }
            GroupRecord::Group {
                group,
                value: Some(value),
            } => {
                let entry = self
                    .groups
                    .entry(group.clone())
                    .or_insert_with(|| ClassicGroup::new(group.clone(), now));
                entry.load(value, now);
            }
        }
    }
}

impl ClassicGroup {
    /// Takes the metadata of a record, keeping the offsets.
    fn load(&mut self, value: &GroupMetadataValue, now: Millis) {
        self.generation_id = value.generation_id;
        self.protocol_type = value.protocol_type.clone();
        self.protocol_name = value.protocol_name.clone();
        self.leader = value.leader.clone();
        self.members.clear();
        self.static_members.clear();
        self.pending_members.clear();
        self.replaced_static_members.clear();
        self.join_deadline = None;
        self.initial_delay = None;
        self.sync_deadline = None;
        for m in &value.members {
            let protocols = match &value.protocol_name {
                Some(name) => vec![Protocol {
                    name: name.clone(),
                    metadata: m.subscription.clone(),
                }],
                None => Vec::new(),
            };
            let member = Member {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                session_timeout: m.session_timeout,
                rebalance_timeout: m.rebalance_timeout,
                protocol_type: value.protocol_type.clone().unwrap_or_default(),
                protocols,
                assignment: m.assignment.clone(),
                pending_join: None,
                pending_sync: None,
                synced: true,
                session_deadline: now.plus(m.session_timeout),
            };
            if let Some(instance) = &member.group_instance_id {
                self.static_members
                    .insert(instance.clone(), member.member_id.clone());
            }
            self.members.insert(member.member_id.clone(), member);
        }
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.state_since = value.current_state_timestamp;
        } else {
            // Members get a fresh session from `now`; their state starts now too.
            self.state = GroupState::Stable;
            self.state_since = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Millis;
    use crate::assignor::TopicPartition;
    use crate::group::test_support::*;
    use crate::group::*;

    /// A coordinator rebuilt at `now` from every record `h` persisted, written to bytes in
    /// Kafka's format and read back, as the server does.
    fn restart(h: &mut Harness, now: u64) -> Coordinator {
        h.collect();
        let records = h.persisted();
        let mut fresh = Coordinator::new(CoordinatorConfig::default(), 7);
        for record in &records {
            let (key, value) = record.encode();
            let read_back = GroupRecord::decode(&key, value.as_deref()).unwrap();
            assert_eq!(&read_back, record);
            fresh.replay(&read_back, Millis(now));
        }
        fresh
    }

    /// A commit with a leader epoch and metadata, which a restart must keep.
    fn commit(
        group_id: &str,
        member_id: &str,
        generation_id: i32,
        offset: i64,
    ) -> OffsetCommitRequest {
        let mut request = offset_commit(group_id, generation_id, member_id, offset);
        request.offsets[0].1.leader_epoch = Some(3);
        request.offsets[0].1.metadata = Some("m".into());
        request
    }

    #[test]
    fn a_restart_keeps_the_latest_offsets() {
        let mut h = Harness::new();
        h.coordinator
            .handle_offset_commit(&commit(GROUP, "", -1, 10), h.now);
        h.coordinator
            .handle_offset_commit(&commit(GROUP, "", -1, 20), h.now);
        let fresh = restart(&mut h, 50_000);
        let tp = [TopicPartition::new("t", 0)];
        let fetched = fresh.handle_offset_fetch(GROUP, Some(&tp)).unwrap();
        let offset = fetched[0].1.clone().unwrap();
        assert_eq!(
            (offset.offset, offset.leader_epoch, offset.metadata.as_str()),
            (20, Some(3), "m")
        );
        assert_eq!(fresh.describe_group(GROUP).state, GroupState::Empty);
    }

    #[test]
    fn a_restart_brings_back_members_and_assignments_which_then_time_out() {
        let mut h = Harness::new();
        let a = h.new_member_id();
        let r = h.join(join_request(&a));
        h.joined(r);
        let s = h.sync(&a, 1, &[(a.as_str(), b"assigned")]);
        h.sync_result(s).unwrap().unwrap();

        let mut fresh = restart(&mut h, 100_000);
        let description = fresh.describe_group(GROUP);
        assert_eq!(description.state, GroupState::Stable);
        assert_eq!(description.protocol_name, "range");
        assert_eq!(description.members[0].member_id, a);
        assert_eq!(description.members[0].assignment, b"assigned");
        assert_eq!(description.members[0].metadata, b"sub");
        // The member may carry on where it was...
        let heartbeat = HeartbeatRequest {
            group_id: GROUP.into(),
            generation_id: 1,
            member_id: a.clone(),
            group_instance_id: None,
        };
        assert_eq!(fresh.handle_heartbeat(&heartbeat, Millis(105_000)), Ok(()));
        // ...and if it is gone, its session ends as usual (and the group, with no offsets,
        // goes with it).
        fresh.tick(Millis(115_000));
        assert_eq!(fresh.describe_group(GROUP).state, GroupState::Dead);
    }

    #[test]
    fn offsets_retention_of_an_empty_group_counts_across_a_restart() {
        let config = CoordinatorConfig {
            group_initial_rebalance_delay_ms: Millis::ZERO,
            offsets_retention_ms: Millis(60_000),
            ..CoordinatorConfig::default()
        };
        let mut h = Harness::with_config(config.clone());
        let a = h.new_member_id();
        let r = h.join(join_request(&a));
        h.joined(r);
        let s = h.sync(&a, 1, &[]);
        h.sync_result(s).unwrap().unwrap();
        h.coordinator
            .handle_offset_commit(&commit(GROUP, &a, 1, 5), h.now);
        h.now = Millis(1_000);
        h.leave(&[(&a, None)]);
        assert_eq!(h.state(), GroupState::Empty);

        let records = h.persisted();
        let mut fresh = Coordinator::new(config, 7);
        for record in &records {
            fresh.replay(record, Millis(50_000));
        }
        assert_eq!(fresh.next_deadline(), Some(Millis(61_000)));
    }

    #[test]
    fn tombstones_remove_what_they_name() {
        let mut h = Harness::new();
        h.coordinator
            .handle_offset_commit(&commit(GROUP, "", -1, 5), h.now);
        assert_eq!(
            h.coordinator.delete_groups(&[GROUP.to_string()], h.now),
            vec![Ok(())]
        );
        let fresh = restart(&mut h, 0);
        assert!(fresh.list_groups(&[]).is_empty());
    }

    /// Everything a client can see of a coordinator.
    fn visible(c: &Coordinator) -> Vec<String> {
        c.list_groups(&[])
            .iter()
            .flat_map(|g| {
                let offsets = c.handle_offset_fetch(&g.group_id, None).unwrap();
                [
                    format!("{g:?}"),
                    format!("{:?}", c.describe_group(&g.group_id)),
                    format!("{offsets:?}"),
                ]
            })
            .collect()
    }

    #[test]
    fn replaying_the_compacted_log_gives_the_same_coordinator() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        for (offset, topic) in [(1, "a"), (2, "b"), (3, "a")] {
            let mut request = commit(GROUP, &ids[0], 1, offset);
            request.offsets[0].0.topic = topic.into();
            h.coordinator.handle_offset_commit(&request, h.now);
        }
        h.coordinator
            .handle_offset_commit(&commit("gone", "", -1, 1), h.now);
        h.coordinator.delete_groups(&["gone".to_string()], h.now);
        h.coordinator
            .handle_offset_commit(&commit("gone", "", -1, 9), h.now);
        h.coordinator.on_topic_deleted("b", h.now);
        h.leave(&[(&ids[1], None)]);
        let r = h.join(join_request(&ids[0]));
        h.joined(r);
        let s = h.sync(&ids[0], 2, &[(ids[0].as_str(), b"all")]);
        h.sync_result(s).unwrap().unwrap();

        h.collect();
        let log = h.persisted();
        let compacted = compact(&log);
        assert!(compacted.len() < log.len());
        let (mut full, mut small) = (
            Coordinator::new(CoordinatorConfig::default(), 1),
            Coordinator::new(CoordinatorConfig::default(), 1),
        );
        log.iter().for_each(|r| full.replay(r, h.now));
        compacted.iter().for_each(|r| small.replay(r, h.now));
        assert_eq!(visible(&full), visible(&small));
        assert_eq!(visible(&full), visible(&h.coordinator));
    }

    #[test]
    fn keys_and_tombstones() {
        let tp = TopicPartition::new("t", 1);
        let offset = GroupRecord::Offset {
            group: "g".into(),
            partition: tp.clone(),
            value: None,
        };
        assert!(offset.is_tombstone());
        assert_eq!(
            offset.key(),
            GroupRecordKey::Offset {
                group: "g".into(),
                partition: tp
            }
        );
        let group = GroupRecord::Group {
            group: "g".into(),
            value: None,
        };
        assert_eq!(group.key(), GroupRecordKey::Group { group: "g".into() });
    }
}
