//! The consumer's side of the group protocol: join, sync (the leader assigns), heartbeats,
//! revocation under the eager and cooperative protocols, and leaving.

use std::collections::BTreeSet;

use super::{Consumer, ConsumerEvent, InFlight, MemberPhase};
use crate::Millis;
use crate::assignor::consumer_protocol::{self, Assignment, Subscription, group_by_topic};
use crate::assignor::{
    RebalanceProtocol, TopicPartition, TopicPartitionCounts, assign_from_metadata,
};
use crate::client::Request;
use crate::group::{
    HeartbeatError, HeartbeatRequest, JoinGroupError, JoinGroupRequest, JoinedGroup,
    MemberIdentity, Protocol, SyncGroupError, SyncGroupRequest, SyncedGroup,
};

impl Consumer {
    fn protocol(&self) -> RebalanceProtocol {
        self.config.assignor.protocol()
    }

    /// Starts a rebalance from this member's side: under the eager protocol it first gives up
    /// everything it owns (committing positions if auto-commit is on), then sends JoinGroup
    /// with its subscription (and, cooperatively, what it still owns).
    pub(super) fn start_join(&mut self, now: Millis) {
        if self.subscription.is_empty() || now < self.join_retry_at {
            return;
        }
        // The leader assigns from metadata, so every member learns the topics first.
        if self
            .subscription
            .iter()
            .any(|t| !self.metadata.contains_key(t))
        {
            self.metadata_stale = true;
            return;
        }
        let owned: Vec<TopicPartition> = self.owned.iter().cloned().collect();
        let revoke = self.protocol().revoke_before_join(&owned);
        if !revoke.is_empty() {
            if self.config.enable_auto_commit {
                self.commit_positions(now);
            }
            self.revoke(revoke, false);
        }
        let mut subscription = Subscription::new(self.subscription.clone());
        subscription.owned_partitions =
            group_by_topic(&self.owned.iter().cloned().collect::<Vec<_>>());
        subscription.generation_id = self.generation_id;
        let join = JoinGroupRequest {
            group_id: self.config.group_id.clone(),
            member_id: self.member_id.clone(),
            group_instance_id: None,
            client_id: self.config.client_id.clone(),
            client_host: format!("/{}", self.config.client_id),
            session_timeout: self.config.session_timeout_ms,
            rebalance_timeout: self.config.max_poll_interval_ms,
            protocol_type: consumer_protocol::PROTOCOL_TYPE.into(),
            protocols: vec![Protocol {
                name: self.config.assignor.name().into(),
                metadata: subscription.encode(),
            }],
            require_known_member_id: true,
        };
        self.phase = MemberPhase::Joining;
        self.rejoin_needed = false;
        self.send_to_coordinator(Request::JoinGroup(join), InFlight::Join, now);
    }

    pub(super) fn on_join(&mut self, result: Result<JoinedGroup, JoinGroupError>, now: Millis) {
        let joined = match result {
            Ok(joined) => joined,
            Err(JoinGroupError::MemberIdRequired { member_id }) => {
                self.member_id = member_id;
                self.phase = MemberPhase::Unjoined;
                self.start_join(now);
                return;
            }
            Err(JoinGroupError::UnknownMemberId | JoinGroupError::FencedInstanceId) => {
                self.reset_membership();
                self.retry_join_later(now);
                return;
            }
            Err(_) => {
                self.retry_join_later(now);
                return;
            }
        };
        self.member_id = joined.member_id.clone();
        self.generation_id = joined.generation_id;
        self.is_leader = joined.leader == joined.member_id;
        self.events.push_back(ConsumerEvent::Joined {
            generation_id: joined.generation_id,
            member_id: joined.member_id.clone(),
            leader: self.is_leader,
        });
        let assignments = if self.is_leader {
            self.assign(&joined)
        } else {
            Vec::new()
        };
        let sync = SyncGroupRequest {
            group_id: self.config.group_id.clone(),
            generation_id: self.generation_id,
            member_id: self.member_id.clone(),
            group_instance_id: None,
            protocol_type: Some(consumer_protocol::PROTOCOL_TYPE.into()),
            protocol_name: Some(joined.protocol_name.clone()),
            assignments,
        };
        self.phase = MemberPhase::Syncing;
        self.send_to_coordinator(Request::SyncGroup(sync), InFlight::Sync, now);
    }

    /// The leader's job: run the group's assignor over every member's subscription, with the
    /// partition counts this member knows from metadata.
    fn assign(&self, joined: &JoinedGroup) -> Vec<(String, Vec<u8>)> {
        let kind = crate::assignor::AssignorKind::from_name(&joined.protocol_name)
            .unwrap_or(self.config.assignor);
        let mut topics = TopicPartitionCounts::new();
        for member in &joined.members {
            if let Ok(subscription) = Subscription::decode(&member.metadata) {
                for topic in subscription.topics {
                    if let Some(partitions) = self.metadata.get(&topic) {
                        topics.insert(topic, partitions.len() as i32);
                    }
                }
            }
        }
        let members: Vec<(&str, &[u8])> = joined
            .members
            .iter()
            .map(|m| (m.member_id.as_str(), m.metadata.as_slice()))
            .collect();
        // A member whose subscription cannot be read gets nothing rather than breaking the group.
        assign_from_metadata(kind, &topics, &members).unwrap_or_default()
    }

    pub(super) fn on_sync(&mut self, result: Result<SyncedGroup, SyncGroupError>, now: Millis) {
        let synced = match result {
            Ok(synced) => synced,
            Err(
                SyncGroupError::UnknownMemberId
                | SyncGroupError::IllegalGeneration
                | SyncGroupError::FencedInstanceId,
            ) => {
                self.reset_membership();
                self.retry_join_later(now);
                return;
            }
            Err(_) => {
                self.phase = MemberPhase::Unjoined;
                self.rejoin_needed = true;
                return;
            }
        };
        let assigned: Vec<TopicPartition> = Assignment::decode(&synced.assignment)
            .map(|a| a.partitions())
            .unwrap_or_default();
        let owned: Vec<TopicPartition> = self.owned.iter().cloned().collect();
        let revoked = self.protocol().revoke_after_sync(&owned, &assigned);
        let added: Vec<TopicPartition> = assigned
            .iter()
            .filter(|tp| !self.owned.contains(tp))
            .cloned()
            .collect();
        self.phase = MemberPhase::Stable;
        self.next_heartbeat = now.plus(self.config.heartbeat_interval_ms);
        if !revoked.is_empty() {
            if self.config.enable_auto_commit {
                let offsets: Vec<(TopicPartition, i64)> = revoked
                    .iter()
                    .filter_map(|tp| self.position(tp).map(|o| (tp.clone(), o)))
                    .collect();
                if !offsets.is_empty() {
                    self.commit(offsets, now);
                }
            }
            self.revoke(revoked.clone(), false);
        }
        if !added.is_empty() {
            for tp in &added {
                self.owned.insert(tp.clone());
                self.positions.insert(tp.clone(), super::Position::Unknown);
            }
            self.events
                .push_back(ConsumerEvent::Assigned { partitions: added });
        }
        if self.protocol().needs_follow_up(&revoked) {
            // The second phase: the partitions given up can now go to their new owners.
            self.rejoin_needed = true;
        }
    }

    pub(super) fn on_heartbeat(&mut self, result: Result<(), HeartbeatError>) {
        match result {
            Ok(()) => {}
            // The next heartbeat goes to the coordinator the client finds then.
            Err(HeartbeatError::NotCoordinator | HeartbeatError::CoordinatorLoadInProgress) => {}
            Err(HeartbeatError::RebalanceInProgress) => {
                if self.phase == MemberPhase::Stable {
                    self.rejoin_needed = true;
                }
            }
            Err(HeartbeatError::IllegalGeneration) => {
                if self.phase == MemberPhase::Stable {
                    self.rejoin_needed = true;
                }
            }
            Err(
                HeartbeatError::UnknownMemberId
                | HeartbeatError::FencedInstanceId
                | HeartbeatError::InvalidGroupId,
            ) => {
                if self.phase == MemberPhase::Stable {
                    self.reset_membership();
                }
            }
        }
    }

    /// Sends a heartbeat when one is due (members of a stable generation only).
    pub(super) fn maybe_heartbeat(&mut self, now: Millis) {
        if self.phase != MemberPhase::Stable || now < self.next_heartbeat {
            return;
        }
        if self
            .requests
            .iter()
            .any(|c| matches!(c, InFlight::Heartbeat))
        {
            return;
        }
        self.next_heartbeat = now.plus(self.config.heartbeat_interval_ms);
        let heartbeat = HeartbeatRequest {
            group_id: self.config.group_id.clone(),
            generation_id: self.generation_id,
            member_id: self.member_id.clone(),
            group_instance_id: None,
        };
        self.send_to_coordinator(Request::Heartbeat(heartbeat), InFlight::Heartbeat, now);
    }

    /// Leaves the group: LeaveGroup, and every partition is given up. The next `poll` joins
    /// again as a new member (if still subscribed).
    pub(super) fn leave_group(&mut self, reason: &'static str, now: Millis) {
        if !self.member_id.is_empty() {
            let members = vec![MemberIdentity {
                member_id: self.member_id.clone(),
                group_instance_id: None,
            }];
            let group_id = self.config.group_id.clone();
            self.send_to_coordinator(
                Request::LeaveGroup { group_id, members },
                InFlight::Leave,
                now,
            );
        }
        self.events.push_back(ConsumerEvent::Left { reason });
        self.reset_membership();
    }

    /// Forgets the membership (the coordinator no longer knows this member): everything owned
    /// is lost, and the next `poll` joins from scratch.
    fn reset_membership(&mut self) {
        let owned: Vec<TopicPartition> = self.owned.iter().cloned().collect();
        if !owned.is_empty() {
            self.revoke(owned, true);
        }
        self.member_id.clear();
        self.generation_id = -1;
        self.is_leader = false;
        self.phase = MemberPhase::Unjoined;
        self.rejoin_needed = !self.subscription.is_empty();
    }

    fn retry_join_later(&mut self, now: Millis) {
        self.phase = MemberPhase::Unjoined;
        self.rejoin_needed = true;
        self.join_retry_at = now.plus(self.config.retry_backoff_ms);
    }

    /// Gives up `partitions`: their positions and buffered records go.
    pub(super) fn revoke(&mut self, partitions: Vec<TopicPartition>, lost: bool) {
        let gone: BTreeSet<&TopicPartition> = partitions.iter().collect();
        self.owned.retain(|tp| !gone.contains(tp));
        for tp in &partitions {
            self.positions.remove(tp);
            self.buffers.remove(tp);
        }
        self.events
            .push_back(ConsumerEvent::Revoked { partitions, lost });
    }
}
