//! Time passing: sessions end, join phases time out, ids handed out lapse, members that never
//! synced are dropped, offsets of long-empty groups expire. The shell calls
//! [`Coordinator::tick`] no later than [`Coordinator::next_deadline`].

use super::classic_group::{ClassicGroup, InitialDelay};
use super::config::CoordinatorConfig;
use super::coordinator::{Coordinator, Outputs};
use super::messages::{GroupEvent, Output, RemovalReason};
use super::records::GroupRecord;
use super::state::GroupState::*;
use crate::Millis;

impl Coordinator {
    /// The earliest time at which [`tick`](Self::tick) has something to do.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.groups
            .values()
            .filter_map(|group| group.next_deadline(&self.config))
            .min()
    }

    /// Fires every timeout due at `now`.
    pub fn tick(&mut self, now: Millis) {
        let group_ids: Vec<String> = self.groups.keys().cloned().collect();
        let Coordinator {
            config,
            groups,
            outputs,
            ..
        } = self;
        for group_id in group_ids {
            let group = groups.get_mut(&group_id).expect("listed above");
            group.expire_pending_members(now, outputs);
            group.expire_sessions(now, config, outputs);
            group.end_join_phase_if_due(now, config, outputs);
            group.expire_unsynced_members(now, config, outputs);
            group.expire_offsets(now, config, outputs);
            if group.is_unused() {
                // Nothing left to remember: the group goes, and so does its record.
                group.transition(Dead, now, outputs);
                outputs.push_back(Output::Persist(GroupRecord::Group {
                    group: group_id.clone(),
                    value: None,
                }));
                groups.remove(&group_id);
            }
        }
    }
}

impl ClassicGroup {
    fn next_deadline(&self, config: &CoordinatorConfig) -> Option<Millis> {
        let pending = self.pending_members.values().copied();
        let sessions = self
            .members
            .values()
            .filter(|m| !m.is_awaiting())
            .map(|m| m.session_deadline);
        let join = self.join_deadline.filter(|_| self.is(PreparingRebalance));
        pending
            .chain(sessions)
            .chain(join)
            .chain(self.sync_deadline)
            .chain(self.offsets_expiry(config))
            .min()
    }

    /// Ids handed out with MEMBER_ID_REQUIRED that were not used within a session timeout.
    fn expire_pending_members(&mut self, now: Millis, out: &mut Outputs) {
        let lapsed: Vec<String> = self
            .pending_members
            .iter()
            .filter(|&(_, &deadline)| now >= deadline)
            .map(|(id, _)| id.clone())
            .collect();
        for member_id in lapsed {
            self.pending_members.remove(&member_id);
            out.push_back(Output::Event(GroupEvent::MemberRemoved {
                group: self.group_id.clone(),
                member_id,
                reason: RemovalReason::PendingJoinTimeout,
            }));
        }
        self.try_complete_join(now, out);
    }

    /// Members silent for a session timeout are removed (not those waiting on an answer, whom
    /// the rebalance timeout covers).
    fn expire_sessions(&mut self, now: Millis, config: &CoordinatorConfig, out: &mut Outputs) {
        let expired: Vec<String> = self.members.keys().cloned().collect();
        for member_id in expired {
            if let Some(member) = self.members.get(&member_id)
                && !member.is_awaiting()
                && now >= member.session_deadline
            {
                self.remove_member_and_rebalance(
                    &member_id,
                    RemovalReason::SessionTimeout,
                    now,
                    config,
                    out,
                );
            }
        }
    }

    /// The join phase ends at its deadline. During the initial delay of a group that was empty,
    /// a new arrival buys another delay, up to the rebalance timeout.
    fn end_join_phase_if_due(
        &mut self,
        now: Millis,
        config: &CoordinatorConfig,
        out: &mut Outputs,
    ) {
        let due = self.join_deadline.is_some_and(|deadline| now >= deadline);
        if !self.is(PreparingRebalance) || !due {
            return;
        }
        if let Some(delay) = self.initial_delay
            && delay.new_members_joined
            && now < delay.rebalance_deadline
        {
            self.initial_delay = Some(InitialDelay {
                new_members_joined: false,
                ..delay
            });
            let next = now
                .plus(config.group_initial_rebalance_delay_ms)
                .min(delay.rebalance_deadline);
            self.join_deadline = Some(next);
            return;
        }
        self.complete_join(now, out);
    }

    /// Members that did not send SyncGroup within the rebalance timeout after the join phase
    /// (a leader that never assigns would otherwise stall the group) are removed.
    fn expire_unsynced_members(
        &mut self,
        now: Millis,
        config: &CoordinatorConfig,
        out: &mut Outputs,
    ) {
        if self.sync_deadline.is_none_or(|deadline| now < deadline) {
            return;
        }
        self.sync_deadline = None;
        if !matches!(self.state, CompletingRebalance | Stable) {
            return;
        }
        let unsynced: Vec<String> = self
            .members
            .values()
            .filter(|m| !m.synced)
            .map(|m| m.member_id.clone())
            .collect();
        for member_id in unsynced {
            if self.members.contains_key(&member_id) {
                self.remove_member_and_rebalance(
                    &member_id,
                    RemovalReason::SyncTimeout,
                    now,
                    config,
                    out,
                );
            }
        }
    }
}
