//! Random sequences of client requests and time steps against one group: whatever the order,
//! the coordinator never breaks an invariant (its assertions), answers every JoinGroup and
//! SyncGroup exactly once, never lets the generation go back, and once clients fall silent,
//! every waiting request gets its answer.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::test_support::*;
use super::*;
use crate::Millis;
use crate::assignor::TopicPartition;

#[derive(Clone, Debug)]
enum Op {
    Join { client: usize },
    Sync { client: usize },
    Heartbeat { client: usize },
    Leave { client: usize },
    Commit { client: usize },
    Advance { ms: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let client = 0..4usize;
    prop_oneof![
        3 => client.clone().prop_map(|client| Op::Join { client }),
        3 => client.clone().prop_map(|client| Op::Sync { client }),
        2 => client.clone().prop_map(|client| Op::Heartbeat { client }),
        1 => client.clone().prop_map(|client| Op::Leave { client }),
        1 => client.prop_map(|client| Op::Commit { client }),
        2 => (0..8_000u64).prop_map(|ms| Op::Advance { ms }),
    ]
}

/// What a client knows: its member id and generation, as a real client tracks them. Clients 0
/// and 1 are static members.
#[derive(Default)]
struct Client {
    member_id: String,
    generation: i32,
}

struct Run {
    h: Harness,
    clients: Vec<Client>,
    waiting: BTreeMap<RequestId, usize>,
    answered: BTreeSet<RequestId>,
    generation: i32,
}

impl Run {
    fn request(&self, client: usize) -> JoinGroupRequest {
        let instance = (client < 2).then(|| format!("pod-{client}"));
        JoinGroupRequest {
            group_instance_id: instance,
            ..join_request(&self.clients[client].member_id)
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Join { client } => {
                let request = self.h.join(self.request(client));
                self.waiting.insert(request, client);
            }
            Op::Sync { client } => {
                let c = &self.clients[client];
                let everyone: Vec<String> =
                    self.clients.iter().map(|c| c.member_id.clone()).collect();
                let assignments: Vec<(&str, &[u8])> =
                    everyone.iter().map(|m| (m.as_str(), &b"a"[..])).collect();
                let (member_id, generation) = (c.member_id.clone(), c.generation);
                let request = self.h.sync(&member_id, generation, &assignments);
                self.waiting.insert(request, client);
            }
            Op::Heartbeat { client } => {
                let c = &self.clients[client];
                let (member_id, generation) = (c.member_id.clone(), c.generation);
                let _ = self.h.heartbeat(&member_id, generation);
            }
            Op::Leave { client } => {
                let member_id = self.clients[client].member_id.clone();
                self.h.leave(&[(&member_id, None)]);
            }
            Op::Commit { client } => {
                let c = &self.clients[client];
                let commit = OffsetCommitRequest {
                    group_id: GROUP.into(),
                    generation_id: c.generation,
                    member_id: c.member_id.clone(),
                    group_instance_id: None,
                    offsets: vec![(
                        TopicPartition::new("t", 0),
                        CommitOffset {
                            offset: 1,
                            leader_epoch: None,
                            metadata: None,
                        },
                    )],
                };
                self.h.coordinator.handle_offset_commit(&commit, self.h.now);
                self.h.collect();
            }
            Op::Advance { ms } => self.h.advance_to(self.h.now.0 + ms),
        }
        self.take_answers();
    }

    /// Reads the answers out as the clients would, checking each request is answered once.
    fn take_answers(&mut self) {
        for output in std::mem::take(&mut self.h.outputs) {
            let (request, client) = match &output {
                Output::JoinGroup { request, .. } | Output::SyncGroup { request, .. } => {
                    (*request, self.waiting.remove(request))
                }
                Output::Event(GroupEvent::StateChanged {
                    to: GroupState::Dead,
                    ..
                }) => {
                    // A group that is gone starts again from generation 0.
                    self.generation = 0;
                    continue;
                }
                Output::Event(GroupEvent::StateChanged { generation_id, .. }) => {
                    assert!(
                        *generation_id >= self.generation,
                        "generations never go back"
                    );
                    self.generation = *generation_id;
                    continue;
                }
                _ => continue,
            };
            assert!(self.answered.insert(request), "{request:?} answered twice");
            let client = &mut self.clients[client.expect("answers go to requests that wait")];
            match output {
                Output::JoinGroup {
                    result: Ok(joined), ..
                } => {
                    client.member_id = joined.member_id;
                    client.generation = joined.generation_id;
                }
                Output::JoinGroup {
                    result: Err(JoinGroupError::MemberIdRequired { member_id }),
                    ..
                } => {
                    client.member_id = member_id;
                }
                Output::JoinGroup {
                    result: Err(JoinGroupError::UnknownMemberId),
                    ..
                } => {
                    client.member_id.clear();
                }
                _ => {}
            }
        }
    }
}

proptest! {
    #[test]
    fn any_sequence_keeps_the_invariants(ops in proptest::collection::vec(op(), 1..60)) {
        let mut run = Run {
            h: Harness::with_config(CoordinatorConfig::default()),
            clients: (0..4).map(|_| Client::default()).collect(),
            waiting: BTreeMap::new(),
            answered: BTreeSet::new(),
            generation: 0,
        };
        for op in &ops {
            run.apply(op);
        }
        // The clients fall silent: within the longest timeout everything waiting is answered.
        run.apply(&Op::Advance { ms: 10 * 60_000 });
        prop_assert!(run.waiting.is_empty(), "unanswered: {:?}", run.waiting);
        prop_assert!(run.h.coordinator.next_deadline().is_none_or(|d| d > Millis(run.h.now.0)));
    }
}
