//! One simulated process running a [`Node`]: the driving a shell does, here over the
//! simulated network and disk. It carries client requests in and answers out (by correlation
//! id), peer messages between node ids and the simulation's [`NodeId`]s, keeps what the node
//! asked to persist (its metadata log, and its group records in a compacted
//! [`OffsetsLog`] cleaned by the core's log cleaner as the server's is; both survive a crash as
//! a disk would), turns the node's events into trace events, and observes the broker's partitions.
//!
//! The disk outlives the process: [`NodeProcess::crash`] drops the node (and every request it
//! had parked) and cuts the disk's unsynced tails; [`NodeProcess::restart`] opens a new node on
//! the same disk and records, which recovers its logs and registers with the controller again.

use std::collections::BTreeMap;

use super::disk::SimDisk;
use super::message::Message;
use super::node::{CONTROLLER_NODE_ID, CONTROLLERS_MAX, NodeId};
use super::observe::{self, Observed};
use super::outbox::Outbox;
use super::rng::Rng;
use super::trace::TraceEvent;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::broker::{Broker, LogCleanerSettings, ReplicaFetchSettings};
use crate::controller::{BrokerId, CreateTopic, MetadataImage};
use crate::group::{Coordinator, GroupEvent, OffsetsLog};
use crate::log::MAX_SEGMENT_BYTES;
use crate::node::quorum::RaftLog;
use crate::node::{Event, Node, NodeConfig, Output, Refusal, RequestRef};
use crate::storage::MemoryStorage;

/// Replica fetching at the simulation's scale: followers wait at most 200 ms at the leader
/// and give a silent leader 1 s (Kafka: 500 ms and 30 s).
pub const REPLICA_FETCH_SETTINGS: ReplicaFetchSettings = ReplicaFetchSettings {
    wait_max_ms: Millis(200),
    min_bytes: 1,
    response_max_bytes: 10 * 1024 * 1024,
    partition_max_bytes: 1024 * 1024,
    backoff_ms: Millis(100),
    request_timeout_ms: Millis(1_000),
};

/// The simulation's name of the node with id `id`.
pub fn peer_name(id: BrokerId) -> NodeId {
    if (CONTROLLER_NODE_ID..CONTROLLER_NODE_ID + CONTROLLERS_MAX as BrokerId).contains(&id) {
        NodeId::Controller(id)
    } else {
        NodeId::Broker(id)
    }
}

pub struct NodeProcess {
    pub name: NodeId,
    config: NodeConfig,
    pub disk: SimDisk,
    /// `None` while crashed.
    pub node: Option<Node<SimDisk>>,
    /// Bumped at every restart: messages addressed to an earlier life are dropped.
    pub incarnation: u32,
    /// What the node persisted: the controller quorum's Raft log (the metadata log).
    pub raft_log: RaftLog,
    /// The group coordinator's records (`__consumer_offsets`), with
    /// `offsets.topic.segment.bytes` from the broker config.
    pub offsets_log: OffsetsLog<MemoryStorage>,
    /// Client requests in the node, by the reference handed to it.
    clients: BTreeMap<RequestRef, (NodeId, u64)>,
    next_ref: u64,
    observed: BTreeMap<TopicPartition, Observed>,
}

impl NodeProcess {
    pub fn new(name: NodeId, config: NodeConfig) -> NodeProcess {
        let disk = SimDisk::default();
        let raft_log = RaftLog::default();
        let node = Node::new(config.clone(), disk.clone(), &raft_log, &[], Millis::ZERO);
        let segment_bytes = config
            .broker
            .offsets_topic_segment_bytes
            .clamp(1, MAX_SEGMENT_BYTES);
        let (offsets_log, _) = OffsetsLog::open(
            MemoryStorage::new(),
            OffsetsLog::<MemoryStorage>::log_config(segment_bytes),
        )
        .expect("an empty log in memory opens");
        NodeProcess {
            name,
            config,
            disk,
            node: Some(node),
            incarnation: 0,
            raft_log,
            offsets_log,
            clients: BTreeMap::new(),
            next_ref: 0,
            observed: BTreeMap::new(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.node.is_some()
    }

    pub fn broker(&self) -> Option<&Broker<SimDisk>> {
        self.node.as_ref().and_then(Node::broker)
    }

    pub fn coordinator(&self) -> Option<&Coordinator> {
        self.node.as_ref().and_then(Node::coordinator)
    }

    /// The node's metadata (empty while crashed).
    pub fn image(&self) -> Option<&MetadataImage> {
        self.node.as_ref().map(Node::image)
    }

    /// The process dies: parked requests vanish with it, the disk loses unsynced data.
    pub fn crash(&mut self, rng: &mut Rng) -> u64 {
        self.node = None;
        self.clients.clear();
        self.observed.clear();
        self.disk.crash(rng)
    }

    /// A new process on the same disk and records; `seed`, if given, replaces the node's.
    pub fn restart(&mut self, now: Millis, seed: Option<u64>) {
        if let Some(seed) = seed {
            self.config.seed = seed;
        }
        let records = self
            .offsets_log
            .read_live()
            .expect("the offsets log in memory reads back");
        self.node = Some(Node::new(
            self.config.clone(),
            self.disk.clone(),
            &self.raft_log,
            &records,
            now,
        ));
        self.clients.clear();
        self.observed.clear();
        self.incarnation += 1;
    }

    pub fn handle(&mut self, from: NodeId, message: Message, now: Millis, out: &mut Outbox) {
        let Some(node) = &mut self.node else {
            return;
        };
        match message {
            Message::ClientRequest {
                correlation_id,
                request,
            } => {
                self.next_ref += 1;
                let reference = RequestRef(self.next_ref);
                self.clients.insert(reference, (from, correlation_id));
                node.handle_request(now, reference, request);
            }
            Message::Peer(message) => {
                let from = match from {
                    NodeId::Controller(id) => id,
                    NodeId::Broker(id) => id,
                    other => panic!("a peer message from {other}"),
                };
                node.handle_peer(now, from, message);
            }
            Message::ClientResponse { .. } => panic!("{} got {}", self.name, message.summary()),
        }
        self.drain(now, out);
    }

    /// Time-driven work. The offsets log's cleaner steps here too, at the node's own
    /// deadlines (it adds none of its own, so runs without compaction keep their traces).
    pub fn tick(&mut self, now: Millis, out: &mut Outbox) {
        if let Some(node) = &mut self.node {
            node.handle_timeout(now);
            self.drain(now, out);
            let settings = LogCleanerSettings::from_config(&self.config.broker);
            self.offsets_log
                .tick(now, &settings)
                .expect("the offsets log in memory cleans");
        }
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.node.as_ref()?.poll_timeout()
    }

    /// Creates a topic on the (active controller) node, as an operator does: at bootstrap, or
    /// from the playground.
    pub fn create_topic(
        &mut self,
        now: Millis,
        create: &CreateTopic,
        out: &mut Outbox,
    ) -> Result<(), Refusal> {
        let Some(node) = self.node.as_mut() else {
            return Err((
                crate::ErrorCode::NOT_CONTROLLER,
                format!("{} is down", self.name),
            ));
        };
        let result = node.create_topic(now, create, false);
        self.drain(now, out);
        result
    }

    /// A controller stands for election now (the simulation's bootstrap, so that a cluster
    /// starts with an active controller).
    pub fn campaign(&mut self, now: Millis, out: &mut Outbox) {
        if let Some(node) = &mut self.node {
            node.campaign(now);
            self.drain(now, out);
        }
    }

    /// This process runs the active controller.
    pub fn is_active_controller(&self) -> bool {
        self.node
            .as_ref()
            .is_some_and(|n| n.active_controller() == Some(n.node_id()) && n.controller().is_some())
    }

    /// Acts on everything the node asked for, in order (see `core::node`'s drain order).
    fn drain(&mut self, now: Millis, out: &mut Outbox) {
        let me = self.name;
        let Some(node) = &mut self.node else {
            return;
        };
        while let Some(output) = node.poll_output() {
            match output {
                Output::PersistRaft(write) => self.raft_log.apply(write),
                Output::PersistGroups(records) => self
                    .offsets_log
                    .append(&records, now)
                    .expect("the offsets log in memory appends"),
                Output::Respond { request, response } => {
                    if let Some((to, correlation_id)) = self.clients.remove(&request) {
                        out.send(
                            me,
                            to,
                            Message::ClientResponse {
                                correlation_id,
                                response,
                            },
                        );
                    }
                }
                Output::Send { to, message } => out.send(me, peer_name(to), Message::Peer(message)),
                Output::Event(event) => out.trace(trace_event(me, event)),
            }
        }
        if let (NodeId::Broker(id), Some(broker)) = (me, node.broker()) {
            observe::observe(id, broker, &mut self.observed, out);
        }
    }
}

/// The node id of a simulated node (-1 for a client, which runs no node).
fn broker_id(me: NodeId) -> BrokerId {
    match me {
        NodeId::Broker(id) | NodeId::Controller(id) => id,
        _ => -1,
    }
}

fn trace_event(me: NodeId, event: Event) -> TraceEvent {
    match event {
        Event::BrokerFenced { broker } => TraceEvent::BrokerFenced { broker },
        Event::BrokerUnfenced { broker } => TraceEvent::BrokerUnfenced { broker },
        Event::LeaderElected { tp, leader } => TraceEvent::LeaderElected { tp, leader },
        Event::IsrChanged { tp, isr } => TraceEvent::IsrChanged { tp, isr },
        Event::Group(GroupEvent::StateChanged {
            group,
            to,
            generation_id,
            ..
        }) => TraceEvent::GroupState {
            group,
            state: to.name().to_string(),
            generation_id,
        },
        Event::Group(GroupEvent::MemberRemoved {
            group,
            member_id,
            reason,
        }) => TraceEvent::MemberRemoved {
            group,
            member_id,
            reason: format!("{reason:?}"),
        },
        Event::Recovered { tp, .. } => TraceEvent::Fault {
            description: format!(
                "{me} recovery cut a torn tail of {}-{}",
                tp.topic, tp.partition
            ),
        },
        // Simulated storage never fails on its own, and the simulation routes every request
        // to a node with its role: either is a bug the checker reports.
        Event::StorageError { description } => TraceEvent::Invariant {
            description: format!("{me}: storage error: {description}"),
        },
        Event::Misrouted { request } => TraceEvent::Invariant {
            description: format!("{me} cannot serve {request}"),
        },
        // A marker dropped or a transaction state write retried: the cluster changed under
        // the transaction coordinator, as faults make it.
        Event::Transaction { description } => TraceEvent::Fault {
            description: format!("{me}: {description}"),
        },
        Event::ControllerElected { controller, term } => {
            TraceEvent::ControllerElected { controller, term }
        }
        Event::CoordinatorLoaded { partition, records } => TraceEvent::Coordinator {
            broker: broker_id(me),
            partition,
            loaded: true,
            records,
        },
        Event::CoordinatorUnloaded { partition } => TraceEvent::Coordinator {
            broker: broker_id(me),
            partition,
            loaded: false,
            records: 0,
        },
        // A voter refuses a Raft message addressed to an earlier life of itself, or one that
        // raft-rs does not take in its state: Raft's own business, noted in the trace.
        Event::RaftMessageRefused { from, description } => TraceEvent::Fault {
            description: format!("{me} refused a Raft message from {from}: {description}"),
        },
        // Never in a correct cluster: every record a controller sends fits.
        Event::MetadataRefused { description } => TraceEvent::Invariant {
            description: format!("{me} refused metadata: {description}"),
        },
    }
}
