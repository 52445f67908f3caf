//! The group coordinator process: the [`Coordinator`] state machine, the records it persists
//! (its internal compacted log, kept in memory here), and the answers that wait (JoinGroup,
//! SyncGroup) addressed back to the clients that asked.

use std::collections::BTreeMap;

use super::message::Message;
use super::node::NodeId;
use super::outbox::Outbox;
use super::trace::TraceEvent;
use crate::Millis;
use crate::client::{Request, Response};
use crate::group::{Coordinator, CoordinatorConfig, GroupEvent, GroupRecord, Output, RequestId};

pub struct CoordinatorNode {
    pub coordinator: Coordinator,
    /// Everything persisted, in order (the `__consumer_offsets` of the simulator).
    pub persisted: Vec<GroupRecord>,
    pending: BTreeMap<RequestId, (NodeId, u64)>,
    next_request: u64,
}

impl CoordinatorNode {
    pub fn new(config: CoordinatorConfig, seed: u64) -> CoordinatorNode {
        CoordinatorNode {
            coordinator: Coordinator::new(config, seed),
            persisted: Vec::new(),
            pending: BTreeMap::new(),
            next_request: 0,
        }
    }

    pub fn handle(&mut self, from: NodeId, message: Message, now: Millis, out: &mut Outbox) {
        let Message::ClientRequest {
            correlation_id,
            request,
        } = message
        else {
            panic!("the coordinator got {}", message.summary());
        };
        let answer = |out: &mut Outbox, response: Response| {
            out.send(
                NodeId::Coordinator,
                from,
                Message::ClientResponse {
                    correlation_id,
                    response,
                },
            );
        };
        match request {
            Request::JoinGroup(join) => {
                let id = self.park(from, correlation_id);
                self.coordinator.handle_join(id, join, now);
            }
            Request::SyncGroup(sync) => {
                let id = self.park(from, correlation_id);
                self.coordinator.handle_sync(id, sync, now);
            }
            Request::Heartbeat(heartbeat) => {
                let result = self.coordinator.handle_heartbeat(&heartbeat, now);
                answer(out, Response::Heartbeat(result));
            }
            Request::LeaveGroup { group_id, members } => {
                let results = self.coordinator.handle_leave(&group_id, &members, now);
                answer(out, Response::LeaveGroup(results));
            }
            Request::OffsetCommit(commit) => {
                let results = self.coordinator.handle_offset_commit(&commit, now);
                // The records come out first and are persisted before the answer goes.
                self.drain(out);
                answer(out, Response::OffsetCommit(results));
            }
            Request::OffsetFetch {
                group_id,
                partitions,
            } => {
                let result = self
                    .coordinator
                    .handle_offset_fetch(&group_id, Some(&partitions));
                answer(out, Response::OffsetFetch(result));
            }
            other => panic!("the coordinator got {}", other.name()),
        }
        self.drain(out);
    }

    pub fn tick(&mut self, now: Millis, out: &mut Outbox) {
        self.coordinator.tick(now);
        self.drain(out);
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.coordinator.next_deadline()
    }

    fn park(&mut self, from: NodeId, correlation_id: u64) -> RequestId {
        self.next_request += 1;
        let id = RequestId(self.next_request);
        self.pending.insert(id, (from, correlation_id));
        id
    }

    fn drain(&mut self, out: &mut Outbox) {
        while let Some(output) = self.coordinator.poll_output() {
            let (request, response) = match output {
                Output::Persist(record) => {
                    self.persisted.push(record);
                    continue;
                }
                Output::Event(event) => {
                    out.trace(group_trace(event));
                    continue;
                }
                Output::JoinGroup { request, result } => (request, Response::JoinGroup(result)),
                Output::SyncGroup { request, result } => (request, Response::SyncGroup(result)),
            };
            if let Some((to, correlation_id)) = self.pending.remove(&request) {
                out.send(
                    NodeId::Coordinator,
                    to,
                    Message::ClientResponse {
                        correlation_id,
                        response,
                    },
                );
            }
        }
    }
}

fn group_trace(event: GroupEvent) -> TraceEvent {
    match event {
        GroupEvent::StateChanged {
            group,
            to,
            generation_id,
            ..
        } => TraceEvent::GroupState {
            group,
            state: to.name().to_string(),
            generation_id,
        },
        GroupEvent::MemberRemoved {
            group,
            member_id,
            reason,
        } => TraceEvent::MemberRemoved {
            group,
            member_id,
            reason: format!("{reason:?}"),
        },
    }
}
