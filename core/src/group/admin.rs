//! DescribeGroups, ListGroups and DeleteGroups: what `kafka-consumer-groups.sh` asks.

use serde::{Deserialize, Serialize};

use super::coordinator::Coordinator;
use super::error::DeleteGroupError;
use super::messages::Output;
use super::records::GroupRecord;
use super::state::GroupState;
use crate::Millis;

/// A group as DescribeGroups reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDescription {
    pub group_id: String,
    /// `Dead` for a group that does not exist.
    pub state: GroupState,
    pub generation_id: i32,
    pub protocol_type: String,
    /// The assignor of the current generation; empty unless the group is Stable.
    pub protocol_name: String,
    pub members: Vec<MemberDescription>,
}

/// A member as DescribeGroups reports it. Its metadata and assignment are known (non-empty)
/// only while the group is Stable: during a rebalance they are in flux.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDescription {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Vec<u8>,
    pub assignment: Vec<u8>,
}

/// A group as ListGroups reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupListing {
    pub group_id: String,
    pub protocol_type: String,
    pub state: GroupState,
}

impl Coordinator {
    pub fn describe_group(&self, group_id: &str) -> GroupDescription {
        let Some(group) = self.groups.get(group_id) else {
            return GroupDescription {
                group_id: group_id.to_owned(),
                state: GroupState::Dead,
                generation_id: -1,
                protocol_type: String::new(),
                protocol_name: String::new(),
                members: Vec::new(),
            };
        };
        let stable = group.is(GroupState::Stable);
        let protocol_name = if stable {
            group.protocol_name.clone().unwrap_or_default()
        } else {
            String::new()
        };
        let members = group
            .members
            .values()
            .map(|m| MemberDescription {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable {
                    m.metadata(&protocol_name).to_vec()
                } else {
                    Vec::new()
                },
                assignment: if stable {
                    m.assignment.clone()
                } else {
                    Vec::new()
                },
            })
            .collect();
        GroupDescription {
            group_id: group_id.to_owned(),
            state: group.state,
            generation_id: group.generation_id,
            protocol_type: group.protocol_type.clone().unwrap_or_default(),
            protocol_name,
            members,
        }
    }

    /// Every group, in id order; with `states` non-empty, only those in one of them
    /// (ListGroups v4+).
    pub fn list_groups(&self, states: &[GroupState]) -> Vec<GroupListing> {
        self.groups
            .values()
            .filter(|g| states.is_empty() || states.contains(&g.state))
            .map(|g| GroupListing {
                group_id: g.group_id.clone(),
                protocol_type: g.protocol_type.clone().unwrap_or_default(),
                state: g.state,
            })
            .collect()
    }

    /// Deletes groups without members, with their offsets (tombstones are persisted); one
    /// result per group named, in order.
    pub fn delete_groups(
        &mut self,
        group_ids: &[String],
        now: Millis,
    ) -> Vec<Result<(), DeleteGroupError>> {
        group_ids
            .iter()
            .map(|group_id| self.delete_group(group_id, now))
            .collect()
    }

    fn delete_group(&mut self, group_id: &str, now: Millis) -> Result<(), DeleteGroupError> {
        if group_id.is_empty() {
            return Err(DeleteGroupError::InvalidGroupId);
        }
        let group = self
            .groups
            .get(group_id)
            .ok_or(DeleteGroupError::GroupIdNotFound)?;
        if !group.is(GroupState::Empty) {
            return Err(DeleteGroupError::NonEmptyGroup);
        }
        let mut group = self.groups.remove(group_id).expect("checked above");
        self.deleted.group(group.clone());
        for partition in group.offsets.keys() {
            let group = group_id.to_owned();
            let record = GroupRecord::Offset {
                group,
                partition: partition.clone(),
                value: None,
            };
            self.outputs.push_back(Output::Persist(record));
        }
        let tombstone = GroupRecord::Group {
            group: group_id.to_owned(),
            value: None,
        };
        self.outputs.push_back(Output::Persist(tombstone));
        group.transition(GroupState::Dead, now, &mut self.outputs);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::assignor::TopicPartition;
    use crate::group::test_support::*;
    use crate::group::*;

    #[test]
    fn a_stable_group_shows_its_members_assignments() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let d = h.coordinator.describe_group(GROUP);
        assert_eq!(
            (d.state, d.protocol_type.as_str(), d.protocol_name.as_str()),
            (GroupState::Stable, "consumer", "range")
        );
        assert_eq!(d.members.len(), 2);
        let leader = d.members.iter().find(|m| m.member_id == ids[0]).unwrap();
        assert_eq!(leader.assignment, ids[0].as_bytes());
        assert_eq!(
            (leader.client_id.as_str(), leader.client_host.as_str()),
            ("client", "/10.0.0.1")
        );
    }

    #[test]
    fn a_rebalancing_group_hides_assignments() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        h.join(join_request(&ids[0]));
        let d = h.coordinator.describe_group(GROUP);
        assert_eq!(d.state, GroupState::PreparingRebalance);
        assert_eq!(d.protocol_name, "");
        assert!(
            d.members
                .iter()
                .all(|m| m.assignment.is_empty() && m.metadata.is_empty())
        );
    }

    #[test]
    fn an_unknown_group_is_dead() {
        let h = Harness::new();
        let d = h.coordinator.describe_group("nope");
        assert_eq!(d.state, GroupState::Dead);
        assert!(d.members.is_empty());
    }

    #[test]
    fn listing_filters_by_state() {
        let mut h = Harness::new();
        h.stable_group(1);
        let standalone = OffsetCommitRequest {
            group_id: "offsets-only".into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
            offsets: vec![(
                TopicPartition::new("t", 0),
                CommitOffset {
                    offset: 1,
                    leader_epoch: None,
                    metadata: None,
                },
            )],
        };
        h.coordinator.handle_offset_commit(&standalone, h.now);
        let all: Vec<(String, GroupState)> = h
            .coordinator
            .list_groups(&[])
            .into_iter()
            .map(|g| (g.group_id, g.state))
            .collect();
        assert_eq!(
            all,
            vec![
                (GROUP.to_string(), GroupState::Stable),
                ("offsets-only".to_string(), GroupState::Empty)
            ]
        );
        let empty = h.coordinator.list_groups(&[GroupState::Empty]);
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0].protocol_type, "");
    }

    #[test]
    fn only_empty_groups_can_be_deleted() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        let group = vec![GROUP.to_string()];
        assert_eq!(
            h.coordinator.delete_groups(&group, h.now),
            vec![Err(DeleteGroupError::NonEmptyGroup)]
        );
        let names = vec!["nope".to_string(), String::new()];
        assert_eq!(
            h.coordinator.delete_groups(&names, h.now),
            vec![
                Err(DeleteGroupError::GroupIdNotFound),
                Err(DeleteGroupError::InvalidGroupId)
            ]
        );
        let commit = OffsetCommitRequest {
            group_id: GROUP.into(),
            generation_id: 1,
            member_id: ids[0].clone(),
            group_instance_id: None,
            offsets: vec![(
                TopicPartition::new("t", 0),
                CommitOffset {
                    offset: 1,
                    leader_epoch: None,
                    metadata: None,
                },
            )],
        };
        h.coordinator.handle_offset_commit(&commit, h.now);
        h.leave(&[(&ids[0], None)]);
        assert_eq!(h.state(), GroupState::Empty);
        h.outputs.clear();
        assert_eq!(h.coordinator.delete_groups(&group, h.now), vec![Ok(())]);
        h.collect();
        let tombstones: Vec<GroupRecordKey> = h.persisted().iter().map(GroupRecord::key).collect();
        assert_eq!(
            tombstones,
            vec![
                GroupRecordKey::Offset {
                    group: GROUP.into(),
                    partition: TopicPartition::new("t", 0)
                },
                GroupRecordKey::Group {
                    group: GROUP.into()
                },
            ]
        );
        assert_eq!(h.state(), GroupState::Dead);
        assert!(
            h.coordinator
                .handle_offset_fetch(GROUP, None)
                .unwrap()
                .is_empty()
        );
    }
}
