//! LeaveGroup: members leave on purpose (a consumer closing), so the others rebalance at once
//! instead of after a session timeout. Since v3 one request names several members, and a static
//! member may be named by its `group.instance.id` alone.

use super::coordinator::Coordinator;
use super::error::LeaveGroupError;
use super::messages::{MemberIdentity, RemovalReason};
use crate::Millis;

impl Coordinator {
    /// Handles a LeaveGroup; one result per member named, in order. Rebalance answers of the
    /// remaining members come out as outputs.
    pub fn handle_leave(
        &mut self,
        group_id: &str,
        leaving: &[MemberIdentity],
        now: Millis,
    ) -> Vec<Result<(), LeaveGroupError>> {
        let Coordinator {
            config,
            groups,
            outputs,
            ..
        } = self;
        let Some(group) = groups.get_mut(group_id) else {
            return leaving
                .iter()
                .map(|_| Err(LeaveGroupError::UnknownMemberId))
                .collect();
        };
        let mut results = Vec::with_capacity(leaving.len());
        for identity in leaving {
            let instance = identity.group_instance_id.as_deref();
            let member_id = match (identity.member_id.as_str(), instance) {
                ("", Some(instance)) => group.static_members.get(instance).cloned(),
                (member_id, _) if group.is_fenced(instance, member_id) => {
                    results.push(Err(LeaveGroupError::FencedInstanceId));
                    continue;
                }
                (member_id, _) => Some(member_id.to_owned()),
            };
            let Some(member_id) = member_id else {
                results.push(Err(LeaveGroupError::UnknownMemberId));
                continue;
            };
            if group.pending_members.remove(&member_id).is_some() {
                group.try_complete_join(now, outputs);
                results.push(Ok(()));
            } else if group.members.contains_key(&member_id) {
                group.remove_member_and_rebalance(
                    &member_id,
                    RemovalReason::Left,
                    now,
                    config,
                    outputs,
                );
                results.push(Ok(()));
            } else {
                results.push(Err(LeaveGroupError::UnknownMemberId));
            }
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use crate::group::test_support::*;
    use crate::group::*;

    #[test]
    fn a_member_leaving_makes_the_others_rebalance_at_once() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        assert_eq!(h.leave(&[(&ids[1], None)]), vec![Ok(())]);
        assert_eq!(h.removed(), vec![(ids[1].clone(), RemovalReason::Left)]);
        assert_eq!(h.state(), GroupState::PreparingRebalance);
        let r = h.join(join_request(&ids[0]));
        assert_eq!(h.joined(r).members.len(), 1);
    }

    #[test]
    fn the_leader_leaving_hands_leadership_on() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        h.leave(&[(&ids[0], None)]);
        let r = h.join(join_request(&ids[1]));
        assert_eq!(h.joined(r).leader, ids[1]);
    }

    #[test]
    fn the_last_member_leaving_during_a_rebalance_empties_the_group() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        let r = h.join(join_request(&ids[0]));
        assert_eq!(
            h.state(),
            GroupState::CompletingRebalance,
            "alone, its rejoin completes at once"
        );
        h.joined(r);
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let waiting = h.join(join_request(&ids[0]));
        h.leave(&[(&ids[0], None), (&ids[1], None)]);
        assert_eq!(
            h.join_result(waiting),
            Some(Err(JoinGroupError::UnknownMemberId))
        );
        assert_eq!(h.state(), GroupState::Empty);
        assert_eq!(h.generation(), 2, "the empty generation still counts");
    }

    #[test]
    fn a_batch_answers_each_member() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let results = h.leave(&[(&ids[0], None), ("stranger", None), (&ids[0], None)]);
        assert_eq!(
            results,
            vec![
                Ok(()),
                Err(LeaveGroupError::UnknownMemberId),
                Err(LeaveGroupError::UnknownMemberId)
            ]
        );
        let unknown_group = h.coordinator.handle_leave("nope", &[], h.now);
        assert!(unknown_group.is_empty());
    }

    #[test]
    fn a_static_member_leaves_by_instance_id_and_impostors_are_fenced() {
        let mut h = Harness::new();
        let request = JoinGroupRequest {
            group_instance_id: Some("pod-0".into()),
            ..join_request("")
        };
        let r = h.join(request);
        let id = h.joined(r).member_id;
        assert_eq!(
            h.leave(&[("someone-else", Some("pod-0"))]),
            vec![Err(LeaveGroupError::FencedInstanceId)]
        );
        assert_eq!(h.leave(&[("", Some("pod-0"))]), vec![Ok(())]);
        assert_eq!(h.removed(), vec![(id, RemovalReason::Left)]);
        assert_eq!(
            h.leave(&[("", Some("pod-0"))]),
            vec![Err(LeaveGroupError::UnknownMemberId)]
        );
    }

    #[test]
    fn a_member_that_only_got_its_id_can_leave() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        let pending = h.new_member_id();
        assert_eq!(h.leave(&[(&pending, None)]), vec![Ok(())]);
        assert_eq!(
            h.state(),
            GroupState::Stable,
            "a pending member never counted"
        );
        assert_eq!(h.heartbeat(&ids[0], 1), Ok(()));
    }
}
