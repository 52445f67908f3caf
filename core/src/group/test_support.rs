//! A harness for the coordinator's tests: one group "g", a clock, request ids, and the outputs
//! collected so that tests can pick out the answers they expect.

use super::*;
use crate::Millis;

pub(super) const GROUP: &str = "g";

/// An OffsetCommit to `group_id` of `offset` for partition `t-0`, by `member_id` in
/// `generation_id` (-1 and "" for a commit from outside the group), without leader epoch or
/// metadata.
pub(crate) fn offset_commit(
    group_id: &str,
    generation_id: i32,
    member_id: &str,
    offset: i64,
) -> OffsetCommitRequest {
    OffsetCommitRequest {
        group_id: group_id.into(),
        generation_id,
        member_id: member_id.into(),
        group_instance_id: None,
        offsets: vec![(
            crate::assignor::TopicPartition::new("t", 0),
            CommitOffset {
                offset,
                leader_epoch: None,
                metadata: None,
            },
        )],
    }
}

/// A consumer's JoinGroup with the defaults used throughout the tests: session 10 s,
/// rebalance 30 s, protocol "range" with metadata `b"sub"`.
pub(super) fn join_request(member_id: &str) -> JoinGroupRequest {
    JoinGroupRequest {
        group_id: GROUP.into(),
        member_id: member_id.into(),
        group_instance_id: None,
        client_id: "client".into(),
        client_host: "/10.0.0.1".into(),
        session_timeout: Millis(10_000),
        rebalance_timeout: Millis(30_000),
        protocol_type: "consumer".into(),
        protocols: vec![Protocol {
            name: "range".into(),
            metadata: b"sub".to_vec(),
        }],
        require_known_member_id: true,
    }
}

pub(super) struct Harness {
    pub(super) coordinator: Coordinator,
    pub(super) now: Millis,
    next_request: u64,
    pub(super) outputs: Vec<Output>,
}

impl Harness {
    /// A coordinator without the initial rebalance delay, so joins complete as soon as they can.
    pub(super) fn new() -> Harness {
        Harness::with_config(CoordinatorConfig {
            group_initial_rebalance_delay_ms: Millis::ZERO,
            ..CoordinatorConfig::default()
        })
    }

    pub(super) fn with_config(config: CoordinatorConfig) -> Harness {
        Harness {
            coordinator: Coordinator::new(config, 42),
            now: Millis::ZERO,
            next_request: 0,
            outputs: vec![],
        }
    }

    /// Moves the coordinator's outputs into `outputs`; the records to persist count as
    /// written at once, as a shell reports them.
    pub(super) fn collect(&mut self) {
        while let Some(output) = self.coordinator.poll_output() {
            if let Output::Persist(record) = &output {
                let record = record.clone();
                self.coordinator
                    .handle_written(std::slice::from_ref(&record), true, self.now);
            }
            self.outputs.push(output);
        }
    }

    /// Moves the clock to `ms`, ticking at every deadline on the way as a shell does.
    pub(super) fn advance_to(&mut self, ms: u64) {
        while let Some(deadline) = self.coordinator.next_deadline()
            && self.now < deadline
            && deadline <= Millis(ms)
        {
            self.now = deadline;
            self.coordinator.tick(self.now);
            self.collect();
        }
        self.now = Millis(ms);
        self.coordinator.tick(self.now);
        self.collect();
    }

    pub(super) fn join(&mut self, request: JoinGroupRequest) -> RequestId {
        self.next_request += 1;
        let id = RequestId(self.next_request);
        self.coordinator.handle_join(id, request, self.now);
        self.collect();
        id
    }

    pub(super) fn sync(
        &mut self,
        member_id: &str,
        generation_id: i32,
        assignments: &[(&str, &[u8])],
    ) -> RequestId {
        self.next_request += 1;
        let id = RequestId(self.next_request);
        let request = SyncGroupRequest {
            group_id: GROUP.into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: None,
            protocol_type: Some("consumer".into()),
            protocol_name: None,
            assignments: assignments
                .iter()
                .map(|&(m, a)| (m.to_owned(), a.to_vec()))
                .collect(),
        };
        self.coordinator.handle_sync(id, request, self.now);
        self.collect();
        id
    }

    pub(super) fn heartbeat(
        &mut self,
        member_id: &str,
        generation_id: i32,
    ) -> Result<(), HeartbeatError> {
        let request = HeartbeatRequest {
            group_id: GROUP.into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: None,
        };
        let result = self.coordinator.handle_heartbeat(&request, self.now);
        self.collect();
        result
    }

    pub(super) fn leave(
        &mut self,
        members: &[(&str, Option<&str>)],
    ) -> Vec<Result<(), LeaveGroupError>> {
        let members: Vec<MemberIdentity> = members
            .iter()
            .map(|&(m, i)| MemberIdentity {
                member_id: m.into(),
                group_instance_id: i.map(Into::into),
            })
            .collect();
        let result = self.coordinator.handle_leave(GROUP, &members, self.now);
        self.collect();
        result
    }

    /// Takes the answer to a JoinGroup, if it came.
    pub(super) fn join_result(
        &mut self,
        request: RequestId,
    ) -> Option<Result<JoinedGroup, JoinGroupError>> {
        let at = self
            .outputs
            .iter()
            .position(|o| matches!(o, Output::JoinGroup { request: r, .. } if *r == request))?;
        match self.outputs.remove(at) {
            Output::JoinGroup { result, .. } => Some(result),
            _ => unreachable!(),
        }
    }

    pub(super) fn joined(&mut self, request: RequestId) -> JoinedGroup {
        self.join_result(request)
            .expect("answered")
            .expect("joined")
    }

    /// Takes the answer to a SyncGroup, if it came.
    pub(super) fn sync_result(
        &mut self,
        request: RequestId,
    ) -> Option<Result<SyncedGroup, SyncGroupError>> {
        let at = self
            .outputs
            .iter()
            .position(|o| matches!(o, Output::SyncGroup { request: r, .. } if *r == request))?;
        match self.outputs.remove(at) {
            Output::SyncGroup { result, .. } => Some(result),
            _ => unreachable!(),
        }
    }

    /// Takes the records to persist, in order.
    pub(super) fn persisted(&mut self) -> Vec<GroupRecord> {
        let mut records = vec![];
        self.outputs.retain(|o| match o {
            Output::Persist(record) => {
                records.push(record.clone());
                false
            }
            _ => true,
        });
        records
    }

    /// Members removed so far, with why.
    pub(super) fn removed(&self) -> Vec<(String, RemovalReason)> {
        self.outputs
            .iter()
            .filter_map(|o| match o {
                Output::Event(GroupEvent::MemberRemoved {
                    member_id, reason, ..
                }) => Some((member_id.clone(), *reason)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn state(&self) -> GroupState {
        self.coordinator.describe_group(GROUP).state
    }

    pub(super) fn generation(&self) -> i32 {
        self.coordinator.groups[GROUP].generation_id
    }

    /// A first join without an id: answered MEMBER_ID_REQUIRED with the id to use.
    pub(super) fn new_member_id(&mut self) -> String {
        self.member_id_for(join_request(""))
    }

    /// A first join of `request` (without an id): answered MEMBER_ID_REQUIRED with the id.
    pub(super) fn member_id_for(&mut self, request: JoinGroupRequest) -> String {
        let request = self.join(request);
        match self.join_result(request) {
            Some(Err(JoinGroupError::MemberIdRequired { member_id })) => member_id,
            other => panic!("expected MEMBER_ID_REQUIRED, got {other:?}"),
        }
    }

    /// `count` members join together and the leader assigns each its own id as assignment:
    /// a Stable group at generation 1. Returns the ids, the leader first.
    pub(super) fn stable_group(&mut self, count: usize) -> Vec<String> {
        let ids: Vec<String> = (0..count).map(|_| self.new_member_id()).collect();
        let requests: Vec<RequestId> = ids.iter().map(|id| self.join(join_request(id))).collect();
        let joined: Vec<JoinedGroup> = requests.into_iter().map(|r| self.joined(r)).collect();
        let leader = joined[0].leader.clone();
        let generation = joined[0].generation_id;
        let assignments: Vec<(&str, &[u8])> =
            ids.iter().map(|id| (id.as_str(), id.as_bytes())).collect();
        let leader_sync = self.sync(&leader, generation, &assignments);
        self.sync_result(leader_sync)
            .expect("answered")
            .expect("synced");
        for id in ids.iter().filter(|id| **id != leader) {
            let sync = self.sync(id, generation, &[]);
            self.sync_result(sync).expect("answered").expect("synced");
        }
        assert_eq!(self.state(), GroupState::Stable);
        self.outputs.clear();
        let mut ordered = vec![leader.clone()];
        ordered.extend(ids.into_iter().filter(|id| *id != leader));
        ordered
    }
}
