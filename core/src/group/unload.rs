//! Resigning as coordinator: when this broker stops leading a partition of the offsets topic,
//! the groups it held there move to the new leader, which rebuilds them by replaying the
//! partition. Here they are dropped, and requests still waiting are told NOT_COORDINATOR so
//! that their clients look the coordinator up again.

use super::coordinator::Coordinator;
use super::error::{JoinGroupError, SyncGroupError};
use super::messages::Output;
use super::state::GroupState;
use crate::Millis;

impl Coordinator {
    /// Drops every group for which `moved(group_id)` is true (the caller knows which offsets
    /// partition each is in, see [`offsets_partition`](super::offsets_partition)).
    pub fn unload(&mut self, moved: impl Fn(&str) -> bool, now: Millis) {
        let gone: Vec<String> = self.groups.keys().filter(|id| moved(id)).cloned().collect();
        self.deleted.forget(&moved);
        for group_id in gone {
            let mut group = self.groups.remove(&group_id).expect("listed above");
            for member in group.members.values_mut() {
                if let Some(request) = member.pending_join.take() {
                    let result = Err(JoinGroupError::NotCoordinator);
                    self.outputs
                        .push_back(Output::JoinGroup { request, result });
                }
                if let Some(request) = member.pending_sync.take() {
                    let result = Err(SyncGroupError::NotCoordinator);
                    self.outputs
                        .push_back(Output::SyncGroup { request, result });
                }
            }
            group.transition(GroupState::Dead, now, &mut self.outputs);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::group::test_support::*;
    use crate::group::*;

    #[test]
    fn waiting_members_are_sent_to_the_new_coordinator() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let waiting = h.join(join_request(&ids[0]));
        assert_eq!(h.state(), GroupState::PreparingRebalance);
        h.coordinator.unload(|group| group == GROUP, h.now);
        h.collect();
        assert_eq!(
            h.join_result(waiting),
            Some(Err(JoinGroupError::NotCoordinator))
        );
        assert_eq!(h.state(), GroupState::Dead);
        assert_eq!(
            h.heartbeat(&ids[1], 1),
            Err(HeartbeatError::UnknownMemberId)
        );
    }

    #[test]
    fn other_groups_stay() {
        let mut h = Harness::new();
        h.stable_group(1);
        h.coordinator.unload(|group| group == "other", h.now);
        assert_eq!(h.state(), GroupState::Stable);
    }
}
