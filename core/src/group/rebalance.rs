//! The mechanics of a rebalance shared by every handler: state transitions, starting a
//! rebalance, ending the join phase, adding and removing members.

use super::classic_group::{ClassicGroup, InitialDelay};
use super::config::CoordinatorConfig;
use super::coordinator::Outputs;
use super::error::{JoinGroupError, SyncGroupError};
use super::member::Member;
use super::messages::{GroupEvent, JoinedGroup, JoinedMember, Output, RemovalReason, RequestId};
use super::state::GroupState::{self, *};
use crate::Millis;

impl ClassicGroup {
    /// Moves to `to`; an illegal transition is a bug in the coordinator.
    pub(super) fn transition(&mut self, to: GroupState, now: Millis, out: &mut Outputs) {
        let from = self.state;
        assert!(
            from.can_become(to),
            "group {}: {from:?} cannot become {to:?}",
            self.group_id
        );
        self.state = to;
        self.state_since = now;
        out.push_back(Output::Event(GroupEvent::StateChanged {
            group: self.group_id.clone(),
            from,
            to,
            generation_id: self.generation_id,
        }));
    }

    /// Adds a member that is joining with `request`, then rebalances.
    pub(super) fn add_member(
        &mut self,
        mut member: Member,
        request: RequestId,
        now: Millis,
        config: &CoordinatorConfig,
        out: &mut Outputs,
    ) {
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        self.pending_members.remove(&member.member_id);
        if let Some(instance) = &member.group_instance_id {
            self.static_members
                .insert(instance.clone(), member.member_id.clone());
        }
        if self.leader.is_none() {
            self.leader = Some(member.member_id.clone());
        }
        if let Some(delay) = &mut self.initial_delay {
            delay.new_members_joined = true;
        }
        member.pending_join = Some(request);
        self.members.insert(member.member_id.clone(), member);
        self.rebalance_after_join(now, config, out);
    }

    /// After a member joined or changed: a settled group starts a rebalance; a group already
    /// collecting joins checks whether it has them all.
    pub(super) fn rebalance_after_join(
        &mut self,
        now: Millis,
        config: &CoordinatorConfig,
        out: &mut Outputs,
    ) {
        if self.state.can_become(PreparingRebalance) {
            self.prepare_rebalance(now, config, out);
        } else {
            self.try_complete_join(now, out);
        }
    }

    /// Removes a member, then rebalances the others.
    pub(super) fn remove_member_and_rebalance(
        &mut self,
        member_id: &str,
        reason: RemovalReason,
        now: Millis,
        config: &CoordinatorConfig,
        out: &mut Outputs,
    ) {
        self.remove_member(member_id, reason, out);
        match self.state {
            Stable | CompletingRebalance => self.prepare_rebalance(now, config, out),
            PreparingRebalance => self.try_complete_join(now, out),
            Empty | Dead => {}
        }
    }

    /// Removes a member, answering its waiting requests, and picks a new leader if it led.
    pub(super) fn remove_member(
        &mut self,
        member_id: &str,
        reason: RemovalReason,
        out: &mut Outputs,
    ) {
        let member = self
            .members
            .remove(member_id)
            .expect("only members are removed");
        if let Some(instance) = &member.group_instance_id
            && self
                .static_members
                .get(instance)
                .is_some_and(|holder| holder == member_id)
        {
            self.static_members.remove(instance);
        }
        let fenced = reason == RemovalReason::ReplacedByStaticMember;
        if let Some(request) = member.pending_join {
            let error = if fenced {
                JoinGroupError::FencedInstanceId
            } else {
                JoinGroupError::UnknownMemberId
            };
            out.push_back(Output::JoinGroup {
                request,
                result: Err(error),
            });
        }
        if let Some(request) = member.pending_sync {
            let error = if fenced {
                SyncGroupError::FencedInstanceId
            } else {
                SyncGroupError::UnknownMemberId
            };
            out.push_back(Output::SyncGroup {
                request,
                result: Err(error),
            });
        }
        if self.leader.as_deref() == Some(member_id) {
            // Prefer a member that already rejoined, so the join phase can end with it.
            let rejoined = self.members.values().find(|m| m.pending_join.is_some());
            let next = rejoined.or_else(|| self.members.values().next());
            self.leader = next.map(|m| m.member_id.clone());
        }
        out.push_back(Output::Event(GroupEvent::MemberRemoved {
            group: self.group_id.clone(),
            member_id: member_id.to_owned(),
            reason,
        }));
    }

    /// Starts a rebalance: members must rejoin within the rebalance timeout.
    pub(super) fn prepare_rebalance(
        &mut self,
        now: Millis,
        config: &CoordinatorConfig,
        out: &mut Outputs,
    ) {
        if self.is(CompletingRebalance) {
            // The leader's assignment for this generation will never be accepted now: members
            // waiting for it learn to rejoin.
            for member in self.members.values_mut() {
                member.assignment.clear();
                if let Some(request) = member.pending_sync.take() {
                    // Its session was on hold while it waited; it starts again now.
                    member.heartbeat(now);
                    let result = Err(SyncGroupError::RebalanceInProgress);
                    out.push_back(Output::SyncGroup { request, result });
                }
            }
        }
        let rebalance_timeout = self.rebalance_timeout();
        let delay = config.group_initial_rebalance_delay_ms;
        if self.is(Empty) && delay > Millis::ZERO {
            let rebalance_deadline = now.plus(rebalance_timeout);
            self.initial_delay = Some(InitialDelay {
                new_members_joined: false,
                rebalance_deadline,
            });
            self.join_deadline = Some(now.plus(delay.min(rebalance_timeout)));
        } else {
            self.initial_delay = None;
            self.join_deadline = Some(now.plus(rebalance_timeout));
        }
        self.sync_deadline = None;
        self.transition(PreparingRebalance, now, out);
        self.try_complete_join(now, out);
    }

    /// Ends the join phase early if every member has rejoined (never during the initial delay,
    /// which exists to wait for members not yet known).
    pub(super) fn try_complete_join(&mut self, now: Millis, out: &mut Outputs) {
        if self.is(PreparingRebalance) && self.initial_delay.is_none() && self.all_members_joined()
        {
            self.complete_join(now, out);
        }
    }

    /// Ends the join phase: dynamic members that did not rejoin are removed, the generation
    /// advances, and every member that rejoined gets its JoinGroup answer (the leader with
    /// everyone's metadata). A static member that did not rejoin keeps its place and its share
    /// of the assignment: it is expected back under the same `group.instance.id`, and its
    /// session timeout decides when it is gone.
    pub(super) fn complete_join(&mut self, now: Millis, out: &mut Outputs) {
        let missing: Vec<String> = self
            .members
            .values()
            .filter(|m| m.pending_join.is_none() && m.group_instance_id.is_none())
            .map(|m| m.member_id.clone())
            .collect();
        for member_id in missing {
            self.remove_member(&member_id, RemovalReason::RebalanceTimeout, out);
        }
        self.initial_delay = None;
        if !self.members.is_empty() && !self.elect_rejoined_leader() {
            // Only absent static members are left: wait for them another rebalance timeout
            // (unless their sessions end first).
            self.join_deadline = Some(now.plus(self.rebalance_timeout()));
            return;
        }
        self.join_deadline = None;
        self.generation_id += 1;
        if self.members.is_empty() {
            self.protocol_name = None;
            self.leader = None;
            self.transition(Empty, now, out);
            out.push_back(Output::Persist(self.metadata_record()));
            return;
        }
        self.protocol_name = Some(self.select_protocol());
        self.transition(CompletingRebalance, now, out);
        self.sync_deadline = Some(now.plus(self.rebalance_timeout()));
        let member_ids: Vec<String> = self.members.keys().cloned().collect();
        for member_id in member_ids {
            let joined = self.joined(&member_id);
            let member = self.members.get_mut(&member_id).expect("listed above");
            // Only members that rejoined are expected to sync.
            member.synced = member.pending_join.is_none();
            if let Some(request) = member.pending_join.take() {
                member.heartbeat(now);
                out.push_back(Output::JoinGroup {
                    request,
                    result: Ok(joined),
                });
            }
        }
    }

    /// Makes sure the leader is a member that rejoined (it must compute the assignment now);
    /// false if no member rejoined.
    fn elect_rejoined_leader(&mut self) -> bool {
        let rejoined = |id: &String| {
            self.members
                .get(id)
                .is_some_and(|m| m.pending_join.is_some())
        };
        if self.leader.as_ref().is_some_and(rejoined) {
            return true;
        }
        let next = self.members.values().find(|m| m.pending_join.is_some());
        self.leader = next.map(|m| m.member_id.clone()).or(self.leader.take());
        next.is_some()
    }

    /// The JoinGroup answer of the current generation for `member_id`; only the leader gets
    /// the members' metadata.
    pub(super) fn joined(&self, member_id: &str) -> JoinedGroup {
        let protocol_name = self
            .protocol_name
            .clone()
            .expect("a generation with members has a protocol");
        let leader = self
            .leader
            .clone()
            .expect("a generation with members has a leader");
        let members = if leader == member_id {
            self.members
                .values()
                .map(|m| JoinedMember {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    metadata: m.metadata(&protocol_name).to_vec(),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinedGroup {
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol_name,
            leader,
            member_id: member_id.to_owned(),
            members,
        }
    }
}
