//! Faults: what each [`Fault`] does to the cluster when its time comes (or when the
//! playground injects it).

use std::collections::BTreeSet;

use super::network::LossRule;
use super::node::NodeId;
use super::outbox::Outbox;
use super::simulation::Simulation;
use super::spec::{Fault, TopicSpec};
use super::trace::TraceEvent;
use crate::client::Destination;
use crate::controller::BrokerId;
use crate::group::{OFFSETS_TOPIC, offsets_partition};

impl Simulation {
    fn leader_of(&self, topic: &str, partition: u32) -> Option<BrokerId> {
        let state = self.image().partition(topic, partition)?;
        (state.leader >= 0).then_some(state.leader)
    }

    /// The leader of `transactional_id`'s `__transaction_state` partition, once the topic
    /// exists.
    pub(super) fn transaction_coordinator(&self, transactional_id: &str) -> Option<BrokerId> {
        let topic = crate::txn::TRANSACTION_STATE_TOPIC;
        let partitions = self.image().topic(topic)?.partitions.len() as i32;
        if partitions == 0 {
            return None;
        }
        let partition = crate::txn::transaction_partition(transactional_id, partitions) as u32;
        self.leader_of(topic, partition)
    }

    fn crash_broker(&mut self, id: BrokerId, out: &mut Outbox) {
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        if !broker.is_up() {
            return;
        }
        let lost = broker.crash(&mut self.rng);
        out.trace(TraceEvent::Fault {
            description: format!("broker-{id} crashed, {lost} unsynced bytes at risk"),
        });
        // Its connections are reset: every client's requests in flight to it fail.
        for index in 0..self.clients.len() {
            if self.clients[index].running.is_some() {
                self.disconnect(index, Destination::Broker(id), out);
            }
        }
    }

    pub(super) fn apply_fault(&mut self, fault: Fault, out: &mut Outbox) {
        out.trace(TraceEvent::Fault {
            description: fault.to_string(),
        });
        // Faults injected by hand (the playground) are checked here rather than trusted.
        let client = match &fault {
            Fault::SlowConsumer { client, .. }
            | Fault::CrashClient { client, .. }
            | Fault::StopClient { client } => Some(*client),
            _ => None,
        };
        let overlapping =
            matches!(&fault, Fault::Partition { a, b } if a.iter().any(|n| b.contains(n)));
        if client.is_some_and(|c| c >= self.clients.len()) || overlapping {
            let description = "ignored: no such client, or a node cut from itself".to_string();
            out.trace(TraceEvent::Fault { description });
            return;
        }
        match fault {
            Fault::CrashBroker(id) => self.crash_broker(id, out),
            Fault::CrashLeader { topic, partition } => {
                if let Some(leader) = self.leader_of(&topic, partition) {
                    self.crash_broker(leader, out);
                }
            }
            Fault::CrashFollowers { topic, partition } => {
                let image = self.image();
                if let Some(state) = image.partition(&topic, partition) {
                    let followers: Vec<BrokerId> = state
                        .replicas
                        .iter()
                        .copied()
                        .filter(|&r| r != state.leader)
                        .collect();
                    for id in followers {
                        self.crash_broker(id, out);
                    }
                }
            }
            Fault::CrashFollower { topic, partition } => {
                let image = self.image();
                let follower = image.partition(&topic, partition).and_then(|state| {
                    state.replicas.iter().copied().find(|&r| {
                        r != state.leader && self.brokers.get(&r).is_some_and(|b| b.is_up())
                    })
                });
                if let Some(id) = follower {
                    self.crash_broker(id, out);
                }
            }
            Fault::RestartBroker(id) => self.restart_broker(id),
            Fault::RestartCrashed => {
                let crashed: Vec<BrokerId> = self
                    .brokers
                    .iter()
                    .filter(|(_, b)| !b.is_up())
                    .map(|(&id, _)| id)
                    .collect();
                for id in crashed {
                    self.restart_broker(id);
                }
                let crashed: Vec<BrokerId> = self
                    .controllers
                    .iter()
                    .filter(|(_, c)| !c.is_up())
                    .map(|(&id, _)| id)
                    .collect();
                for id in crashed {
                    let controller = self.controllers.get_mut(&id).expect("listed");
                    controller.restart(self.now, None);
                    out.trace(TraceEvent::Fault {
                        description: format!("controller-{id} restarted"),
                    });
                    self.timers.remove(&NodeId::Controller(id));
                    self.reschedule(NodeId::Controller(id));
                }
            }
            Fault::CrashActiveController => {
                let active = self
                    .controllers
                    .iter()
                    .find(|(_, c)| c.is_active_controller())
                    .map(|(&id, _)| id);
                if let Some(id) = active {
                    // Its Raft log and hard state were synced before anything it sent: a
                    // controller's disk loses nothing it acted on.
                    self.controllers
                        .get_mut(&id)
                        .expect("found")
                        .crash(&mut self.rng);
                    out.trace(TraceEvent::Fault {
                        description: format!("controller-{id} crashed"),
                    });
                }
            }
            Fault::Partition { a, b } => {
                let a: BTreeSet<NodeId> = a.into_iter().collect();
                let b: BTreeSet<NodeId> = b.into_iter().collect();
                self.network.partition(a, b);
            }
            Fault::IsolateLeader { topic, partition } => {
                if let Some(leader) = self.leader_of(&topic, partition) {
                    let node = NodeId::Broker(leader);
                    let others = self
                        .all_nodes()
                        .into_iter()
                        .filter(|&n| n != node)
                        .collect();
                    self.network.partition([node].into(), others);
                }
            }
            Fault::Heal => self.network.heal(),
            Fault::CrashCoordinator { group } => {
                let partitions = self
                    .image()
                    .topic(OFFSETS_TOPIC)
                    .map_or(0, |t| t.partitions.len() as i32);
                if partitions > 0 {
                    let partition = offsets_partition(&group, partitions) as u32;
                    if let Some(leader) = self.leader_of(OFFSETS_TOPIC, partition) {
                        self.crash_broker(leader, out);
                    }
                }
            }
            Fault::CrashTransactionCoordinator { transactional_id } => {
                if let Some(leader) = self.transaction_coordinator(&transactional_id) {
                    self.crash_broker(leader, out);
                }
            }
            Fault::Pause { node, duration_ms } => {
                self.paused.insert(node, self.now.plus(duration_ms));
            }
            Fault::SlowConsumer {
                client,
                processing_ms_per_record,
            } => {
                self.clients[client].slow_down(processing_ms_per_record);
            }
            Fault::CrashClient { client, at } => self.clients[client].arm_crash(at),
            Fault::StopClient { client } => {
                self.clients[client].stop(self.now, out);
                self.timers.remove(&NodeId::Client(client));
            }
            Fault::CreateTopic(topic) => self.create_topic(topic, out),
            Fault::LoseMessages {
                prefix,
                per_million,
            } => {
                self.network.config.loss_rules.push(LossRule {
                    message_prefix: prefix,
                    per_million,
                });
            }
            Fault::StopLosingMessages => self.network.config.loss_rules.clear(),
        }
    }

    /// Creates a topic as an operator would; a refusal (a name in use, too few brokers for the
    /// replication factor) is traced, not raised.
    fn create_topic(&mut self, topic: TopicSpec, out: &mut Outbox) {
        let now = self.now;
        let Some(controller) = self.active_controller_mut() else {
            out.trace(TraceEvent::Fault {
                description: format!("topic {} not created: no active controller", topic.name),
            });
            return;
        };
        match controller.create_topic(now, &topic.to_create(), out) {
            Ok(()) => self.spec.topics.push(topic),
            Err((_, e)) => out.trace(TraceEvent::Fault {
                description: format!("topic {} not created: {e}", topic.name),
            }),
        }
    }

    pub(super) fn restart_broker(&mut self, id: BrokerId) {
        let Some(broker) = self.brokers.get_mut(&id) else {
            return;
        };
        if broker.is_up() {
            return;
        }
        broker.restart(self.now, None);
        self.trace.record(
            self.now,
            TraceEvent::Fault {
                description: format!("broker-{id} restarted"),
            },
        );
        self.timers.remove(&NodeId::Broker(id));
        self.reschedule(NodeId::Broker(id));
    }

    fn all_nodes(&self) -> Vec<NodeId> {
        let mut nodes: Vec<NodeId> = self
            .controllers
            .keys()
            .map(|&id| NodeId::Controller(id))
            .collect();
        nodes.extend(self.brokers.keys().map(|&id| NodeId::Broker(id)));
        nodes.extend((0..self.clients.len()).map(NodeId::Client));
        nodes
    }
}
