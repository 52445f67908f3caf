//! Heartbeat: a member is alive, and learns whether a rebalance started.

use super::coordinator::Coordinator;
use super::error::HeartbeatError;
use super::messages::HeartbeatRequest;
use super::state::GroupState::*;
use crate::Millis;

impl Coordinator {
    /// Handles a Heartbeat. During a rebalance the answer is REBALANCE_IN_PROGRESS, which is
    /// how a member learns it must rejoin (its session is still extended).
    pub fn handle_heartbeat(
        &mut self,
        heartbeat: &HeartbeatRequest,
        now: Millis,
    ) -> Result<(), HeartbeatError> {
        if heartbeat.group_id.is_empty() {
            return Err(HeartbeatError::InvalidGroupId);
        }
        let group = self
            .groups
            .get_mut(&heartbeat.group_id)
            .ok_or(HeartbeatError::UnknownMemberId)?;
        let member_id = heartbeat.member_id.as_str();
        if group.is_fenced(heartbeat.group_instance_id.as_deref(), member_id) {
            return Err(HeartbeatError::FencedInstanceId);
        }
        let generation_id = group.generation_id;
        let state = group.state;
        let member = group
            .members
            .get_mut(member_id)
            .ok_or(HeartbeatError::UnknownMemberId)?;
        if heartbeat.generation_id != generation_id {
            return Err(HeartbeatError::IllegalGeneration);
        }
        match state {
            Empty | Dead => Err(HeartbeatError::UnknownMemberId),
            PreparingRebalance => {
                member.heartbeat(now);
                Err(HeartbeatError::RebalanceInProgress)
            }
            CompletingRebalance | Stable => {
                member.heartbeat(now);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::group::test_support::*;
    use crate::group::*;

    #[test]
    fn heartbeats_keep_a_stable_member_in_the_group() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        for t in (8_000..=80_000).step_by(8_000) {
            h.advance_to(t);
            assert_eq!(h.heartbeat(&ids[0], 1), Ok(()));
        }
        assert_eq!(h.state(), GroupState::Stable);
    }

    #[test]
    fn a_silent_member_is_removed_after_its_session_timeout_and_the_others_rebalance() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        h.advance_to(5_000);
        assert_eq!(h.heartbeat(&ids[0], 1), Ok(()));
        assert_eq!(h.coordinator.next_deadline(), Some(crate::Millis(10_000)));
        h.advance_to(10_000);
        assert_eq!(
            h.removed(),
            vec![(ids[1].clone(), RemovalReason::SessionTimeout)]
        );
        assert_eq!(h.state(), GroupState::PreparingRebalance);
        assert_eq!(
            h.heartbeat(&ids[0], 1),
            Err(HeartbeatError::RebalanceInProgress)
        );
        let r = h.join(join_request(&ids[0]));
        assert_eq!(h.joined(r).generation_id, 2);
    }

    #[test]
    fn the_last_member_timing_out_leaves_the_group_empty() {
        let mut h = Harness::new();
        h.stable_group(1);
        h.advance_to(10_000);
        assert_eq!(
            h.state(),
            GroupState::Dead,
            "empty, no offsets: the group is gone"
        );
        let events: Vec<(GroupState, GroupState)> = h
            .outputs
            .iter()
            .filter_map(|o| match o {
                Output::Event(GroupEvent::StateChanged { from, to, .. }) => Some((*from, *to)),
                _ => None,
            })
            .collect();
        assert_eq!(
            events,
            [
                (GroupState::Stable, GroupState::PreparingRebalance),
                (GroupState::PreparingRebalance, GroupState::Empty),
                (GroupState::Empty, GroupState::Dead),
            ]
        );
    }

    #[test]
    fn heartbeat_errors() {
        let mut h = Harness::new();
        let ids = h.stable_group(1);
        assert_eq!(
            h.heartbeat(&ids[0], 7),
            Err(HeartbeatError::IllegalGeneration)
        );
        assert_eq!(
            h.heartbeat("stranger", 1),
            Err(HeartbeatError::UnknownMemberId)
        );
        let unknown_group = HeartbeatRequest {
            group_id: "nope".into(),
            generation_id: 1,
            member_id: ids[0].clone(),
            group_instance_id: None,
        };
        assert_eq!(
            h.coordinator.handle_heartbeat(&unknown_group, h.now),
            Err(HeartbeatError::UnknownMemberId)
        );
        let no_group = HeartbeatRequest {
            group_id: String::new(),
            ..unknown_group
        };
        assert_eq!(
            h.coordinator.handle_heartbeat(&no_group, h.now),
            Err(HeartbeatError::InvalidGroupId)
        );
    }

    #[test]
    fn heartbeats_while_the_leader_assigns_are_fine() {
        let mut h = Harness::new();
        let id = h.new_member_id();
        let r = h.join(join_request(&id));
        h.joined(r);
        assert_eq!(h.state(), GroupState::CompletingRebalance);
        assert_eq!(h.heartbeat(&id, 1), Ok(()));
    }
}
