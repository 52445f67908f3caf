//! SyncGroup: after the join phase, every member asks for its assignment; the leader's request
//! carries everyone's. Members that ask before the leader wait for it.

use super::classic_group::ClassicGroup;
use super::coordinator::{Coordinator, Outputs};
use super::error::SyncGroupError;
use super::messages::{Output, RequestId, SyncGroupRequest, SyncedGroup};
use super::state::GroupState::*;
use crate::Millis;

impl Coordinator {
    /// Handles a SyncGroup; the answer comes out as an [`Output::SyncGroup`] for `request`, now
    /// or when the leader's assignment arrives.
    pub fn handle_sync(&mut self, request: RequestId, sync: SyncGroupRequest, now: Millis) {
        if let Err(error) = self.sync(request, &sync, now) {
            self.outputs.push_back(Output::SyncGroup {
                request,
                result: Err(error),
            });
        }
    }

    fn sync(
        &mut self,
        request: RequestId,
        sync: &SyncGroupRequest,
        now: Millis,
    ) -> Result<(), SyncGroupError> {
        if sync.group_id.is_empty() {
            return Err(SyncGroupError::InvalidGroupId);
        }
        let Coordinator {
            groups, outputs, ..
        } = self;
        let group = groups
            .get_mut(&sync.group_id)
            .ok_or(SyncGroupError::UnknownMemberId)?;
        let member_id = sync.member_id.as_str();
        if group.is_fenced(sync.group_instance_id.as_deref(), member_id) {
            return Err(SyncGroupError::FencedInstanceId);
        }
        if !group.members.contains_key(member_id) {
            return Err(SyncGroupError::UnknownMemberId);
        }
        if sync.generation_id != group.generation_id {
            return Err(SyncGroupError::IllegalGeneration);
        }
        let type_differs =
            sync.protocol_type.is_some() && sync.protocol_type != group.protocol_type;
        let name_differs =
            sync.protocol_name.is_some() && sync.protocol_name != group.protocol_name;
        if type_differs || name_differs {
            return Err(SyncGroupError::InconsistentGroupProtocol);
        }
        match group.state {
            Empty | Dead => Err(SyncGroupError::UnknownMemberId),
            PreparingRebalance => Err(SyncGroupError::RebalanceInProgress),
            CompletingRebalance => {
                let member = group.members.get_mut(member_id).expect("checked above");
                member.synced = true;
                member.heartbeat(now);
                if let Some(superseded) = member.pending_sync.replace(request) {
                    let result = Err(SyncGroupError::RebalanceInProgress);
                    outputs.push_back(Output::SyncGroup {
                        request: superseded,
                        result,
                    });
                }
                if group.leader.as_deref() == Some(member_id) {
                    group.complete_sync(&sync.assignments, now, outputs);
                }
                Ok(())
            }
            Stable => {
                let member = group.members.get_mut(member_id).expect("checked above");
                member.synced = true;
                member.heartbeat(now);
                let result = Ok(group.synced(member_id));
                outputs.push_back(Output::SyncGroup { request, result });
                group.clear_sync_deadline_if_all_synced();
                Ok(())
            }
        }
    }
}

impl ClassicGroup {
    /// The leader's assignment arrived: store it (persisted before anyone is answered), become
    /// Stable, and answer every member waiting for it.
    fn complete_sync(&mut self, assignments: &[(String, Vec<u8>)], now: Millis, out: &mut Outputs) {
        for member in self.members.values_mut() {
            let assigned = assignments.iter().find(|(id, _)| *id == member.member_id);
            member.assignment = assigned.map(|(_, bytes)| bytes.clone()).unwrap_or_default();
        }
        out.push_back(Output::Persist(self.metadata_record()));
        self.transition(Stable, now, out);
        let waiting: Vec<String> = self
            .members
            .values()
            .filter(|m| m.pending_sync.is_some())
            .map(|m| m.member_id.clone())
            .collect();
        for member_id in waiting {
            let result = Ok(self.synced(&member_id));
            let member = self.members.get_mut(&member_id).expect("listed above");
            // Its session was on hold while it waited; it starts again now.
            member.heartbeat(now);
            let request = member.pending_sync.take().expect("listed above");
            out.push_back(Output::SyncGroup { request, result });
        }
        self.clear_sync_deadline_if_all_synced();
    }

    fn synced(&self, member_id: &str) -> SyncedGroup {
        SyncedGroup {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol_name: self.protocol_name.clone().unwrap_or_default(),
            assignment: self.members[member_id].assignment.clone(),
        }
    }

    fn clear_sync_deadline_if_all_synced(&mut self) {
        if self.members.values().all(|m| m.synced) {
            self.sync_deadline = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::group::test_support::*;
    use crate::group::*;

    /// Two members joined; returns (leader, follower) at generation 1, CompletingRebalance.
    fn joined_pair(h: &mut Harness) -> (String, String) {
        let a = h.new_member_id();
        let b = h.new_member_id();
        let (ra, rb) = (h.join(join_request(&a)), h.join(join_request(&b)));
        let leader = h.joined(ra).leader;
        h.joined(rb);
        let follower = if leader == a { b } else { a };
        (leader, follower)
    }

    #[test]
    fn followers_wait_for_the_leaders_assignment() {
        let mut h = Harness::new();
        let (leader, follower) = joined_pair(&mut h);
        let follower_sync = h.sync(&follower, 1, &[]);
        assert_eq!(h.sync_result(follower_sync), None);
        assert_eq!(h.state(), GroupState::CompletingRebalance);

        let leader_sync = h.sync(
            &leader,
            1,
            &[(leader.as_str(), b"L"), (follower.as_str(), b"F")],
        );
        // The assignment is persisted before anyone is answered.
        assert!(matches!(
            h.outputs.iter().find(|o| !matches!(o, Output::Event(_))),
            Some(Output::Persist(_))
        ));
        assert_eq!(
            h.sync_result(leader_sync).unwrap().unwrap().assignment,
            b"L"
        );
        let synced = h.sync_result(follower_sync).unwrap().unwrap();
        assert_eq!(synced.assignment, b"F");
        assert_eq!(synced.protocol_name, "range");
        assert_eq!(h.state(), GroupState::Stable);
    }

    #[test]
    fn a_member_the_leader_left_out_gets_an_empty_assignment() {
        let mut h = Harness::new();
        let (leader, follower) = joined_pair(&mut h);
        let s = h.sync(&leader, 1, &[(leader.as_str(), b"L")]);
        h.sync_result(s).unwrap().unwrap();
        let s = h.sync(&follower, 1, &[]);
        assert_eq!(h.sync_result(s).unwrap().unwrap().assignment, b"");
    }

    #[test]
    fn a_sync_in_a_stable_group_returns_the_assignment_at_once() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let s = h.sync(&ids[1], 1, &[]);
        assert_eq!(
            h.sync_result(s).unwrap().unwrap().assignment,
            ids[1].as_bytes()
        );
    }

    #[test]
    fn sync_errors() {
        let mut h = Harness::new();
        let ids = h.stable_group(2);
        let s = h.sync(&ids[1], 0, &[]);
        assert_eq!(
            h.sync_result(s),
            Some(Err(SyncGroupError::IllegalGeneration))
        );
        let s = h.sync("stranger", 1, &[]);
        assert_eq!(h.sync_result(s), Some(Err(SyncGroupError::UnknownMemberId)));
        let mut wrong_protocol = SyncGroupRequest {
            group_id: GROUP.into(),
            generation_id: 1,
            member_id: ids[1].clone(),
            group_instance_id: None,
            protocol_type: None,
            protocol_name: Some("roundrobin".into()),
            assignments: vec![],
        };
        h.coordinator
            .handle_sync(RequestId(900), wrong_protocol.clone(), h.now);
        assert_eq!(
            h.coordinator.poll_output(),
            Some(Output::SyncGroup {
                request: RequestId(900),
                result: Err(SyncGroupError::InconsistentGroupProtocol)
            })
        );
        wrong_protocol.group_id = String::new();
        h.coordinator
            .handle_sync(RequestId(901), wrong_protocol, h.now);
        assert_eq!(
            h.coordinator.poll_output(),
            Some(Output::SyncGroup {
                request: RequestId(901),
                result: Err(SyncGroupError::InvalidGroupId)
            })
        );
        // During the join phase, the generation is not settled yet.
        h.join(join_request(&ids[0]));
        let s = h.sync(&ids[1], 1, &[]);
        assert_eq!(
            h.sync_result(s),
            Some(Err(SyncGroupError::RebalanceInProgress))
        );
    }

    #[test]
    fn a_rebalance_before_the_leader_assigns_tells_waiting_members_to_rejoin() {
        let mut h = Harness::new();
        let (_leader, follower) = joined_pair(&mut h);
        let waiting = h.sync(&follower, 1, &[]);
        let newcomer = h.new_member_id();
        h.join(join_request(&newcomer));
        assert_eq!(h.state(), GroupState::PreparingRebalance);
        assert_eq!(
            h.sync_result(waiting),
            Some(Err(SyncGroupError::RebalanceInProgress))
        );
    }

    #[test]
    fn a_leader_that_never_assigns_is_removed_after_the_rebalance_timeout() {
        let mut h = Harness::new();
        let (leader, follower) = joined_pair(&mut h);
        let waiting = h.sync(&follower, 1, &[]);
        // The leader heartbeats (so its session lasts) but never sends SyncGroup.
        for t in (5_000..=25_000).step_by(5_000) {
            h.advance_to(t);
            assert_eq!(h.heartbeat(&leader, 1), Ok(()));
        }
        h.advance_to(29_999);
        assert_eq!(h.state(), GroupState::CompletingRebalance);
        h.advance_to(30_000);
        assert_eq!(h.removed(), vec![(leader, RemovalReason::SyncTimeout)]);
        assert_eq!(
            h.sync_result(waiting),
            Some(Err(SyncGroupError::RebalanceInProgress))
        );
        assert_eq!(h.state(), GroupState::PreparingRebalance);
    }
}
