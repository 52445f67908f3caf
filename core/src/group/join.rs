//! JoinGroup: a member asks to be part of the next generation.
//!
//! Its answer usually waits: the join phase ends when every known member has rejoined, or when
//! the rebalance timeout passes (members still missing are then removed), or, for a group that
//! was empty, after `group.initial.rebalance.delay.ms`. A member whose metadata did not change
//! rejoining a settled group is answered at once with the current generation.

use super::classic_group::ClassicGroup;
use super::config::CoordinatorConfig;
use super::coordinator::{Coordinator, Outputs};
use super::error::{JoinGroupError, SyncGroupError};
use super::member::Member;
use super::messages::{GroupEvent, JoinGroupRequest, Output, RemovalReason, RequestId};
use super::state::GroupState::*;
use crate::Millis;

impl Coordinator {
    /// Handles a JoinGroup; the answer comes out as an [`Output::JoinGroup`] for `request`, now
    /// or when the join phase ends.
    pub fn handle_join(&mut self, request: RequestId, join: JoinGroupRequest, now: Millis) {
        if let Err(error) = self.join(request, &join, now) {
            self.outputs.push_back(Output::JoinGroup {
                request,
                result: Err(error),
            });
        }
    }

    fn join(
        &mut self,
        request: RequestId,
        join: &JoinGroupRequest,
        now: Millis,
    ) -> Result<(), JoinGroupError> {
        if join.group_id.is_empty() {
            return Err(JoinGroupError::InvalidGroupId);
        }
        let bounds =
            self.config.group_min_session_timeout_ms..=self.config.group_max_session_timeout_ms;
        if !bounds.contains(&join.session_timeout) {
            return Err(JoinGroupError::InvalidSessionTimeout(join.session_timeout));
        }
        if join.member_id.is_empty() {
            self.join_new_member(request, join, now)
        } else {
            self.join_known_member(request, join, now)
        }
    }

    /// A member without an id: it gets one, and either joins at once (static members, and
    /// clients before JoinGroup v4) or is told to join again with it.
    fn join_new_member(
        &mut self,
        request: RequestId,
        join: &JoinGroupRequest,
        now: Millis,
    ) -> Result<(), JoinGroupError> {
        let Coordinator {
            config,
            groups,
            outputs,
            member_ids,
            ..
        } = self;
        if let Some(group) = groups.get(&join.group_id) {
            if !group.supports_protocols(None, &join.protocol_type, &join.protocols) {
                return Err(JoinGroupError::InconsistentGroupProtocol);
            }
            if group.size() >= config.group_max_size {
                return Err(JoinGroupError::GroupMaxSizeReached);
            }
        } else if join.protocol_type.is_empty() || join.protocols.is_empty() {
            return Err(JoinGroupError::InconsistentGroupProtocol);
        }
        let group = groups
            .entry(join.group_id.clone())
            .or_insert_with(|| ClassicGroup::new(join.group_id.clone(), now));
        let member_id = member_ids.next(&join.client_id);
        match &join.group_instance_id {
            Some(instance) => match group.static_members.get(instance).cloned() {
                Some(old_id) => {
                    replace_static_member(
                        group, &old_id, member_id, request, join, now, config, outputs,
                    );
                }
                None => group.add_member(
                    Member::new(member_id, join, now),
                    request,
                    now,
                    config,
                    outputs,
                ),
            },
            None if join.require_known_member_id => {
                group
                    .pending_members
                    .insert(member_id.clone(), now.plus(join.session_timeout));
                return Err(JoinGroupError::MemberIdRequired { member_id });
            }
            None => group.add_member(
                Member::new(member_id, join, now),
                request,
                now,
                config,
                outputs,
            ),
        }
        Ok(())
    }

    /// A member with an id: one handed out with MEMBER_ID_REQUIRED, or a current member.
    fn join_known_member(
        &mut self,
        request: RequestId,
        join: &JoinGroupRequest,
        now: Millis,
    ) -> Result<(), JoinGroupError> {
        let Coordinator {
            config,
            groups,
            outputs,
            ..
        } = self;
        let group = groups
            .get_mut(&join.group_id)
            .ok_or(JoinGroupError::UnknownMemberId)?;
        let member_id = join.member_id.as_str();
        if group.pending_members.contains_key(member_id) {
            if !group.supports_protocols(None, &join.protocol_type, &join.protocols) {
                return Err(JoinGroupError::InconsistentGroupProtocol);
            }
            let member = Member::new(member_id.to_owned(), join, now);
            group.add_member(member, request, now, config, outputs);
            return Ok(());
        }
        if group.is_fenced(join.group_instance_id.as_deref(), member_id) {
            return Err(JoinGroupError::FencedInstanceId);
        }
        let member = group
            .members
            .get(member_id)
            .ok_or(JoinGroupError::UnknownMemberId)?;
        if !group.supports_protocols(Some(member_id), &join.protocol_type, &join.protocols) {
            return Err(JoinGroupError::InconsistentGroupProtocol);
        }
        let unchanged = member.protocols == join.protocols;
        let is_leader = group.leader.as_deref() == Some(member_id);
        match group.state {
            // Its JoinGroup answer was lost, or it is a follower checking in: same generation.
            CompletingRebalance | Stable if unchanged && !(is_leader && group.is(Stable)) => {
                let joined = group.joined(member_id);
                group
                    .members
                    .get_mut(member_id)
                    .expect("checked above")
                    .heartbeat(now);
                outputs.push_back(Output::JoinGroup {
                    request,
                    result: Ok(joined),
                });
            }
            // A changed subscription, or the leader asking for a new assignment (the consumer
            // leader does so when topic metadata changes), or a rebalance under way.
            PreparingRebalance | CompletingRebalance | Stable => {
                let member = group.members.get_mut(member_id).expect("checked above");
                member.update(join);
                if let Some(superseded) = member.pending_join.replace(request) {
                    let result = Err(JoinGroupError::Superseded);
                    outputs.push_back(Output::JoinGroup {
                        request: superseded,
                        result,
                    });
                }
                group.rebalance_after_join(now, config, outputs);
            }
            Empty | Dead => return Err(JoinGroupError::UnknownMemberId),
        }
        Ok(())
    }
}

/// A static member restarted and joined without its old member id: the new incarnation takes
/// the old one's place (and assignment) under a new id, and the old id is fenced. A settled
/// group does not rebalance for it unless its metadata changed.
#[allow(clippy::too_many_arguments)]
fn replace_static_member(
    group: &mut ClassicGroup,
    old_id: &str,
    new_id: String,
    request: RequestId,
    join: &JoinGroupRequest,
    now: Millis,
    config: &CoordinatorConfig,
    out: &mut Outputs,
) {
    let mut member = group
        .members
        .remove(old_id)
        .expect("static members are members");
    if let Some(waiting) = member.pending_join.take() {
        out.push_back(Output::JoinGroup {
            request: waiting,
            result: Err(JoinGroupError::FencedInstanceId),
        });
    }
    if let Some(waiting) = member.pending_sync.take() {
        out.push_back(Output::SyncGroup {
            request: waiting,
            result: Err(SyncGroupError::FencedInstanceId),
        });
    }
    out.push_back(Output::Event(GroupEvent::MemberRemoved {
        group: group.group_id.clone(),
        member_id: old_id.to_owned(),
        reason: RemovalReason::ReplacedByStaticMember,
    }));
    let before = member.clone();
    let unchanged = member.protocols == join.protocols;
    member.member_id = new_id.clone();
    member.update(join);
    member.heartbeat(now);
    let instance = member
        .group_instance_id
        .clone()
        .expect("a static member has an instance id");
    group.static_members.insert(instance, new_id.clone());
    if group.leader.as_deref() == Some(old_id) {
        group.leader = Some(new_id.clone());
    }
    if group.is(Stable) && unchanged {
        group.members.insert(new_id.clone(), member);
        group.replaced_static_members.insert(new_id.clone(), before);
        out.push_back(Output::Persist(group.metadata_record()));
        let mut joined = group.joined(&new_id);
        // Even a leader gets no member list: the current assignment stands.
        joined.members.clear();
        out.push_back(Output::JoinGroup {
            request,
            result: Ok(joined),
        });
    } else {
        member.pending_join = Some(request);
        group.members.insert(new_id, member);
        group.rebalance_after_join(now, config, out);
    }
}

#[cfg(test)]
mod tests {
    use crate::Millis;
    use crate::group::test_support::*;
    use crate::group::*;

    #[test]
    fn a_first_join_without_an_id_is_given_one() {
        let mut h = Harness::new();
        let id = h.new_member_id();
        assert!(id.starts_with("client-"), "{id}");
        // The group exists, Empty, with the id reserved.
        assert_eq!(h.state(), GroupState::Empty);
        assert_eq!(h.coordinator.groups[GROUP].pending_members.len(), 1);
    }

    #[test]
    fn joining_with_the_given_id_makes_generation_one_with_it_as_leader() {
        let mut h = Harness::new();
        let id = h.new_member_id();
        let request = h.join(join_request(&id));
        let joined = h.joined(request);
        assert_eq!(joined.generation_id, 1);
        assert_eq!(joined.leader, id);
        assert_eq!(joined.member_id, id);
        assert_eq!(joined.protocol_name, "range");
        assert_eq!(joined.members.len(), 1);
        assert_eq!(joined.members[0].metadata, b"sub");
        assert_eq!(h.state(), GroupState::CompletingRebalance);
    }

    #[test]
    fn before_join_v4_a_member_joins_at_once() {
        let mut h = Harness::new();
        let mut request = join_request("");
        request.require_known_member_id = false;
        let request = h.join(request);
        let joined = h.joined(request);
        assert!(joined.member_id.starts_with("client-"));
        assert_eq!(joined.generation_id, 1);
    }

    #[test]
    fn invalid_requests_are_refused() {
        let mut h = Harness::new();
        let mut no_group = join_request("");
        no_group.group_id = String::new();
        let r = h.join(no_group);
        assert_eq!(h.join_result(r), Some(Err(JoinGroupError::InvalidGroupId)));

        let mut short_session = join_request("");
        short_session.session_timeout = Millis(1_000);
        let r = h.join(short_session);
        assert_eq!(
            h.join_result(r),
            Some(Err(JoinGroupError::InvalidSessionTimeout(Millis(1_000))))
        );

        let mut no_protocols = join_request("");
        no_protocols.protocols.clear();
        let r = h.join(no_protocols);
        assert_eq!(
            h.join_result(r),
            Some(Err(JoinGroupError::InconsistentGroupProtocol))
        );
        assert_eq!(h.state(), GroupState::Dead, "no group was created");

        let r = h.join(join_request("made-up"));
        assert_eq!(h.join_result(r), Some(Err(JoinGroupError::UnknownMemberId)));
    }

    #[test]
    fn a_member_sharing_no_assignor_with_the_group_is_refused() {
        let mut h = Harness::new();
        h.stable_group(1);
        let mut other = join_request("");
        other.protocols = vec![Protocol {
            name: "roundrobin".into(),
            metadata: vec![],
        }];
        let r = h.join(other);
        assert_eq!(
            h.join_result(r),
            Some(Err(JoinGroupError::InconsistentGroupProtocol))
        );
        let mut other_type = join_request("");
        other_type.protocol_type = "connect".into();
        let r = h.join(other_type);
        assert_eq!(
            h.join_result(r),
            Some(Err(JoinGroupError::InconsistentGroupProtocol))
        );
    }

    #[test]
    fn a_new_member_makes_a_stable_group_rebalance_and_waits_for_the_others() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        let newcomer = h.new_member_id();
        let newcomer_join = h.join(join_request(&newcomer));
        assert_eq!(h.state(), GroupState::PreparingRebalance);
        assert_eq!(
            h.join_result(newcomer_join),
            None,
            "waits for the leader to rejoin"
        );
        // The leader learns of the rebalance from its heartbeat, and rejoins.
        assert_eq!(
            h.heartbeat(&ids[0], 1),
            Err(HeartbeatError::RebalanceInProgress)
        );
        let leader_join = h.join(join_request(&ids[0]));
        let leader = h.joined(leader_join);
        let follower = h.joined(newcomer_join);
        assert_eq!((leader.generation_id, follower.generation_id), (2, 2));
        assert_eq!(leader.leader, ids[0]);
        assert_eq!(leader.members.len(), 2, "the leader sees every member");
        assert!(follower.members.is_empty());
        assert_eq!(h.state(), GroupState::CompletingRebalance);
    }

    #[test]
    fn members_that_do_not_rejoin_in_time_are_removed() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        h.advance_to(1_000);
        let leader_join = h.join(join_request(&ids[0]));
        assert_eq!(h.state(), GroupState::PreparingRebalance);
        // The other member is alive (it heartbeats) but busy: it does not rejoin. The
        // rebalance timeout, 30 s, ends the join phase without it.
        for t in (5_000..=30_000).step_by(5_000) {
            h.advance_to(t);
            assert_eq!(
                h.heartbeat(&ids[1], 1),
                Err(HeartbeatError::RebalanceInProgress)
            );
        }
        h.advance_to(30_999);
        assert_eq!(h.join_result(leader_join), None);
        h.advance_to(31_000);
        let joined = h.joined(leader_join);
        assert_eq!(joined.generation_id, 2);
        assert_eq!(joined.members.len(), 1);
        assert_eq!(
            h.removed(),
            vec![(ids[1].clone(), RemovalReason::RebalanceTimeout)]
        );
    }

    #[test]
    fn the_initial_delay_waits_for_more_members_of_a_new_group() {
        let mut h = Harness::with_config(CoordinatorConfig::default());
        let a = h.new_member_id();
        let a_join = h.join(join_request(&a));
        assert_eq!(h.state(), GroupState::PreparingRebalance);
        h.advance_to(2_000);
        let b = h.new_member_id();
        let b_join = h.join(join_request(&b));
        // The 3 s delay ends at 3000, but "b" arrived, so it waits another 3 s.
        h.advance_to(3_000);
        assert_eq!(h.join_result(a_join), None);
        h.advance_to(6_000);
        assert_eq!(h.joined(a_join).members.len(), 2);
        assert_eq!(h.joined(b_join).generation_id, 1);
    }

    #[test]
    fn a_follower_rejoining_unchanged_gets_the_current_generation_at_once() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let r = h.join(join_request(&ids[1]));
        let joined = h.joined(r);
        assert_eq!(joined.generation_id, 1);
        assert!(joined.members.is_empty());
        assert_eq!(h.state(), GroupState::Stable);
    }

    #[test]
    fn the_leader_or_a_changed_subscription_rejoining_starts_a_rebalance() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        h.join(join_request(&ids[0]));
        assert_eq!(h.state(), GroupState::PreparingRebalance);

        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let mut changed = join_request(&ids[1]);
        changed.protocols[0].metadata = b"other topics".to_vec();
        h.join(changed);
        assert_eq!(h.state(), GroupState::PreparingRebalance);
    }

    #[test]
    fn a_second_join_from_a_waiting_member_supersedes_the_first() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let first = h.join(join_request(&ids[0]));
        let second = h.join(join_request(&ids[0]));
        assert_eq!(h.join_result(first), Some(Err(JoinGroupError::Superseded)));
        assert_eq!(h.join_result(second), None);
    }

    #[test]
    fn the_group_size_is_bounded() {
        let mut h = Harness::with_config(CoordinatorConfig {
            group_initial_rebalance_delay_ms: Millis::ZERO,
            group_max_size: 1,
            ..CoordinatorConfig::default()
        });
        h.new_member_id();
        let r = h.join(join_request(""));
        assert_eq!(
            h.join_result(r),
            Some(Err(JoinGroupError::GroupMaxSizeReached))
        );
    }

    fn static_request(instance: &str) -> JoinGroupRequest {
        JoinGroupRequest {
            group_instance_id: Some(instance.into()),
            ..join_request("")
        }
    }

    #[test]
    fn a_static_member_joins_without_member_id_required() {
        let mut h = Harness::new();
        let r = h.join(static_request("pod-0"));
        let joined = h.joined(r);
        assert_eq!(joined.generation_id, 1);
        assert_eq!(
            h.coordinator.groups[GROUP].static_members["pod-0"],
            joined.member_id
        );
    }

    #[test]
    fn a_restarted_static_member_takes_its_place_without_a_rebalance() {
        let mut h = Harness::new();
        let r = h.join(static_request("pod-0"));
        let old = h.joined(r).member_id;
        let sync = h.sync(&old, 1, &[(old.as_str(), b"p0")]);
        h.sync_result(sync).unwrap().unwrap();
        h.persisted();

        let r = h.join(static_request("pod-0"));
        let joined = h.joined(r);
        assert_ne!(joined.member_id, old);
        assert_eq!(joined.generation_id, 1, "same generation: no rebalance");
        assert_eq!(joined.leader, joined.member_id);
        assert!(
            joined.members.is_empty(),
            "the assignment stands; nothing to compute"
        );
        assert_eq!(h.state(), GroupState::Stable);
        assert_eq!(h.persisted().len(), 1, "the new member id is persisted");
        // The new incarnation gets the old one's assignment; the old id is fenced.
        let sync = h.sync(&joined.member_id, 1, &[]);
        assert_eq!(h.sync_result(sync).unwrap().unwrap().assignment, b"p0");
        let fenced = HeartbeatRequest {
            group_id: GROUP.into(),
            generation_id: 1,
            member_id: old,
            group_instance_id: Some("pod-0".into()),
        };
        assert_eq!(
            h.coordinator.handle_heartbeat(&fenced, h.now),
            Err(HeartbeatError::FencedInstanceId)
        );
    }

    #[test]
    fn an_absent_static_member_keeps_its_place_through_a_rebalance() {
        // With the initial delay, both join generation 1 together (at 6 s: "b" extended it).
        let mut h = Harness::with_config(CoordinatorConfig::default());
        let ra = h.join(static_request("pod-0"));
        let mut long_session = static_request("pod-1");
        long_session.session_timeout = Millis(120_000);
        let rb = h.join(long_session.clone());
        h.advance_to(6_000);
        let a = h.joined(ra).member_id;
        let b = h.joined(rb).member_id;
        let s = h.sync(&a, 1, &[(a.as_str(), b"A1"), (b.as_str(), b"B1")]);
        h.sync_result(s).unwrap().unwrap();
        let s = h.sync(&b, 1, &[]);
        h.sync_result(s).unwrap().unwrap();

        // "b" restarts (silent); the leader "a" rejoins and the join phase times out.
        let r = h.join(JoinGroupRequest {
            member_id: a.clone(),
            ..static_request("pod-0")
        });
        h.advance_to(35_999);
        assert_eq!(h.join_result(r), None);
        h.advance_to(36_000);
        let joined = h.joined(r);
        assert_eq!(joined.generation_id, 2);
        assert_eq!(
            joined.members.len(),
            2,
            "the leader assigns to the absent static member too"
        );
        assert!(h.removed().is_empty());
        let s = h.sync(&a, 2, &[(a.as_str(), b"A2"), (b.as_str(), b"B2")]);
        h.sync_result(s).unwrap().unwrap();
        assert_eq!(h.state(), GroupState::Stable);

        // "b" comes back under a new member id and takes its assignment without a rebalance.
        let r = h.join(long_session);
        let back = h.joined(r);
        assert_eq!(back.generation_id, 2);
        let s = h.sync(&back.member_id, 2, &[]);
        assert_eq!(h.sync_result(s).unwrap().unwrap().assignment, b"B2");
    }

    #[test]
    fn a_static_member_with_another_id_is_fenced() {
        let mut h = Harness::new();
        let r = h.join(static_request("pod-0"));
        h.joined(r);
        let impostor = JoinGroupRequest {
            member_id: "someone-else".into(),
            ..static_request("pod-0")
        };
        let r = h.join(impostor);
        assert_eq!(
            h.join_result(r),
            Some(Err(JoinGroupError::FencedInstanceId))
        );
    }
}
