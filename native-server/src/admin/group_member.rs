//! `partita consume --group`: a member of a consumer group over the classic protocol, as
//! kafka-console-consumer.sh is one. It joins (offering the range assignor), assigns the
//! partitions when it is the leader (with the core's assignor), starts each partition at the
//! group's committed offset, heartbeats between fetches, commits what it printed, rejoins on a
//! rebalance, and commits and leaves when it stops.
//!
//! Its requests go to the group's coordinator, which `consume` finds first (FindCoordinator:
//! the leader of the group's `__consumer_offsets` partition).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    GroupId, HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest,
};
use partita_core::ErrorCode;
use partita_core::assignor::AssignorKind;
use partita_core::assignor::consumer_protocol::{Assignment, Subscription};

use super::check;
use super::offsets::{self, Committer};
use crate::client::KafkaClient;
use crate::kafka::str_bytes;

const JOIN_GROUP_VERSION: i16 = 5;
const SYNC_GROUP_VERSION: i16 = 3;
const HEARTBEAT_VERSION: i16 = 3;
const LEAVE_GROUP_VERSION: i16 = 2;
const SESSION_TIMEOUT_MS: i32 = 10_000;
const REBALANCE_TIMEOUT_MS: i32 = 30_000;
/// Heartbeats go out this often (a third of the session, as the clients do).
const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(3_000);
/// Printed positions are committed this often (the clients' `auto.commit.interval.ms`).
const COMMIT_INTERVAL: Duration = Duration::from_millis(5_000);
/// A rebalance gets this many attempts at joining before the command gives up.
const JOIN_ATTEMPTS_MAX: usize = 20;
const ASSIGNOR: AssignorKind = AssignorKind::Range;

/// Whether an error means the group went on to a new generation without this member's
/// knowledge: it must join again (and its commit, if that is what failed, is lost).
fn group_moved_on(code: i16) -> bool {
    matches!(
        ErrorCode::from_code(code),
        Some(
            ErrorCode::REBALANCE_IN_PROGRESS
                | ErrorCode::ILLEGAL_GENERATION
                | ErrorCode::UNKNOWN_MEMBER_ID
        )
    )
}

/// The member, between joins: who it is in which generation, and what it was assigned.
pub struct GroupMember {
    group_id: String,
    topic: String,
    member_id: String,
    generation_id: i32,
    /// Partitions of the topic assigned in this generation.
    pub assigned: Vec<i32>,
    last_heartbeat: Instant,
    last_commit: Instant,
}

/// What a heartbeat found.
pub enum Membership {
    Stable,
    /// The group is rebalancing: commit, then join again.
    Rebalancing,
}

impl GroupMember {
    /// Joins `group_id` subscribed to `topic` and returns the member with its partitions.
    pub fn join(
        client: &mut KafkaClient,
        group_id: &str,
        topic: &str,
        partition_count: i32,
    ) -> anyhow::Result<GroupMember> {
        let mut member = GroupMember {
            group_id: group_id.to_string(),
            topic: topic.to_string(),
            member_id: String::new(),
            generation_id: -1,
            assigned: Vec::new(),
            last_heartbeat: Instant::now(),
            last_commit: Instant::now(),
        };
        member.rejoin(client, partition_count)?;
        Ok(member)
    }

    fn group(&self) -> GroupId {
        GroupId(str_bytes(self.group_id.clone()))
    }

    /// JoinGroup then SyncGroup, retrying while the coordinator asks (a known member id
    /// required first, a rebalance under way).
    pub fn rejoin(&mut self, client: &mut KafkaClient, partition_count: i32) -> anyhow::Result<()> {
        for _ in 0..JOIN_ATTEMPTS_MAX {
            let subscription = Subscription::new(vec![self.topic.clone()]);
            let request = JoinGroupRequest::default()
                .with_group_id(self.group())
                .with_session_timeout_ms(SESSION_TIMEOUT_MS)
                .with_rebalance_timeout_ms(REBALANCE_TIMEOUT_MS)
                .with_member_id(str_bytes(self.member_id.clone()))
                .with_protocol_type(str_bytes("consumer"))
                .with_protocols(vec![
                    JoinGroupRequestProtocol::default()
                        .with_name(str_bytes(ASSIGNOR.name()))
                        .with_metadata(subscription.encode().into()),
                ]);
            let joined = client.call(&request, JOIN_GROUP_VERSION)?;
            let error = ErrorCode::from_code(joined.error_code);
            if error == Some(ErrorCode::MEMBER_ID_REQUIRED) {
                self.member_id = joined.member_id.to_string();
                continue;
            }
            if error == Some(ErrorCode::UNKNOWN_MEMBER_ID) {
                self.member_id.clear();
                continue;
            }
            check(joined.error_code, "joining the group", None)?;
            self.member_id = joined.member_id.to_string();
            self.generation_id = joined.generation_id;
            let assignments = if joined.leader == joined.member_id {
                self.assign(&joined.members, partition_count)?
            } else {
                Vec::new()
            };
            let request = SyncGroupRequest::default()
                .with_group_id(self.group())
                .with_generation_id(self.generation_id)
                .with_member_id(str_bytes(self.member_id.clone()))
                .with_assignments(assignments);
            let synced = client.call(&request, SYNC_GROUP_VERSION)?;
            if ErrorCode::from_code(synced.error_code) == Some(ErrorCode::REBALANCE_IN_PROGRESS) {
                continue;
            }
            check(synced.error_code, "syncing the group", None)?;
            let assignment =
                Assignment::decode(&synced.assignment).context("decoding the assignment")?;
            self.assigned = assignment
                .partitions()
                .into_iter()
                .filter(|tp| tp.topic == self.topic)
                .map(|tp| tp.partition)
                .collect();
            self.last_heartbeat = Instant::now();
            return Ok(());
        }
        bail!(
            "could not join group {} after {JOIN_ATTEMPTS_MAX} attempts",
            self.group_id
        )
    }

    /// The leader's part: every member's partitions by the range assignor.
    fn assign(
        &self,
        members: &[kafka_protocol::messages::join_group_response::JoinGroupResponseMember],
        partition_count: i32,
    ) -> anyhow::Result<Vec<SyncGroupRequestAssignment>> {
        let subscriptions = members
            .iter()
            .map(|m| {
                let subscription = Subscription::decode(&m.metadata)
                    .with_context(|| format!("decoding the subscription of {}", m.member_id))?;
                Ok(subscription.to_member(&m.member_id))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let topics = [(self.topic.clone(), partition_count)].into();
        let assignment = ASSIGNOR.assign(&topics, &subscriptions);
        Ok(assignment
            .into_iter()
            .map(|(member_id, partitions)| {
                SyncGroupRequestAssignment::default()
                    .with_member_id(str_bytes(member_id))
                    .with_assignment(Assignment::new(&partitions).encode().into())
            })
            .collect())
    }

    /// Heartbeats if one is due.
    pub fn heartbeat_if_due(&mut self, client: &mut KafkaClient) -> anyhow::Result<Membership> {
        if self.last_heartbeat.elapsed() < HEARTBEAT_INTERVAL {
            return Ok(Membership::Stable);
        }
        self.last_heartbeat = Instant::now();
        let request = HeartbeatRequest::default()
            .with_group_id(self.group())
            .with_generation_id(self.generation_id)
            .with_member_id(str_bytes(self.member_id.clone()));
        let response = client.call(&request, HEARTBEAT_VERSION)?;
        if group_moved_on(response.error_code) {
            return Ok(Membership::Rebalancing);
        }
        check(response.error_code, "heartbeating", None)?;
        Ok(Membership::Stable)
    }

    /// The group's committed offset of each assigned partition that has one.
    pub fn committed(&self, client: &mut KafkaClient) -> anyhow::Result<BTreeMap<i32, i64>> {
        offsets::fetch_committed(client, &self.group_id, &self.topic, &self.assigned)
    }

    /// Commits `positions` (the next offset to print, per partition) if the interval passed.
    pub fn commit_if_due(
        &mut self,
        client: &mut KafkaClient,
        positions: &[(i32, i64)],
    ) -> anyhow::Result<()> {
        if self.last_commit.elapsed() >= COMMIT_INTERVAL {
            self.commit(client, positions)?;
        }
        Ok(())
    }

    /// Commits `positions` now. A commit refused because the group moved on is not an error:
    /// the next member reads those records again (at-least-once).
    pub fn commit(
        &mut self,
        client: &mut KafkaClient,
        positions: &[(i32, i64)],
    ) -> anyhow::Result<()> {
        self.last_commit = Instant::now();
        if positions.is_empty() {
            return Ok(());
        }
        let member = Committer {
            group: &self.group_id,
            generation_id: self.generation_id,
            member_id: &self.member_id,
        };
        for (_, code) in offsets::commit(client, &member, &self.topic, positions)? {
            if !group_moved_on(code) {
                check(code, "committing offsets", None)?;
            }
        }
        Ok(())
    }

    /// Leaves the group, so that it rebalances now rather than after the session timeout.
    pub fn leave(&self, client: &mut KafkaClient) -> anyhow::Result<()> {
        let request = LeaveGroupRequest::default()
            .with_group_id(self.group())
            .with_member_id(str_bytes(self.member_id.clone()));
        let response = client.call(&request, LEAVE_GROUP_VERSION)?;
        check(response.error_code, "leaving the group", None)
    }

    /// The assigned partitions as topic-partitions, for messages.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self
            .assigned
            .iter()
            .map(|p| format!("{}-{p}", self.topic))
            .collect();
        names.join(", ")
    }
}
