//! One Kafka node, sans-IO: what a KRaft process with `process.roles=broker,controller` runs,
//! composed once for both shells. The simulator wires N of these through its seeded network
//! and disks; the server wires one to its sockets, files and clock.
//!
//! A [`Node`] holds, by [`Roles`]:
//! - the **broker**: a [`Broker`] over the shell's storage, its copy of the metadata image
//!   (fetched from the controller with its heartbeats, as KRaft brokers fetch the metadata
//!   log), the image applied to the partitions it hosts (with each topic's effective config),
//!   the Metadata answer, auto-creation of topics, and producer ids by blocks (KIP-730);
//! - the **controller**: a voter of the controller quorum ([`quorum`], TiKV's raft-rs) and the
//!   [`Controller`] state machine over it. The metadata log *is* the Raft log (an entry is
//!   one command's batch of records, a snapshot the image); the active controller is the Raft
//!   leader once it applied its term's first entry; followers apply committed entries only
//!   (`metadata_quorum.rs`). Brokers register and heartbeat with the active controller and are
//!   fenced when they stop; a voter that is not active answers NOT_CONTROLLER with the leader
//!   it knows ([`PeerMessage::NotController`]), and a broker whose controller stays silent
//!   tries the next voter;
//! - the **group coordinator**: a [`Coordinator`] over the partitions of `__consumer_offsets`
//!   this node leads (`offsets_topic.rs`, `coordination.rs`): it loads a partition's groups
//!   when it becomes its leader, unloads them when it stops, and produces its records there
//!   with acks=all; FindCoordinator ([`Node::find_coordinator`]) names the leader of a group's
//!   partition. A coordinator-only node (the simulator's older layout) persists its records
//!   itself (`Output::PersistGroups`).
//!
//! ## The API, in quinn-proto's manner
//!
//! - getters: [`Node::image`], [`Node::broker`], [`Node::controller`], [`Node::coordinator`],
//!   [`Node::metadata_log`], [`Node::group_lag`];
//! - inputs: [`Node::handle_request`] (a decoded client request, with a [`RequestRef`] the shell
//!   picks), [`Node::handle_peer`] (a message from another node, by its id),
//!   [`Node::handle_timeout`] (time passed, when [`Node::poll_timeout`] said);
//! - commands that answer at once (admin requests of the server): [`Node::metadata`],
//!   [`Node::create_topic`], [`Node::delete_topic`], [`Node::control`], [`Node::delete_records`], [`Node::delete_groups`],
//!   [`Node::shut_down`];
//! - outputs: [`Node::poll_output`] and [`Node::poll_timeout`].
//!
//! ## Drain order
//!
//! After every input or command the shell calls [`Node::poll_output`] until it returns `None`,
//! and acts on each [`Output`] in the order given: a `PersistRaft` or `PersistGroups` output
//! must be durable before any output after it is acted on, because what follows depends on
//! it. For the quorum that is Raft's rule: a vote and appended entries are durable before any
//! message that depends on them leaves (`PersistRaft` comes before the `Send`s of the same
//! raft-rs `Ready`, so the node calls raft-rs's `advance` at once and needs no "persisted up
//! to" input). For clients and brokers: an answer never goes out before what it depends on
//! (a created topic, a committed offset); an answer that depends on metadata records waits
//! until their entry is *committed* by the quorum, not only written here (with one voter that
//! is within the same call). Then the shell asks [`Node::poll_timeout`] when to call
//! [`Node::handle_timeout`] next. Messages a node sends to itself (a combined broker and
//! controller) are handled inside the node and never come out. Partition data is made durable
//! by the broker itself (its storage's sync, in `tick`), as before.

#[cfg(test)]
mod clock_skew_tests;
mod configs;
mod coordination;
mod forward;
#[cfg(test)]
mod forward_tests;
mod message;
mod metadata_answer;
pub mod metadata_codec;
mod metadata_quorum;
mod offset_fetch;
mod offsets_load;
pub mod offsets_topic;
mod producer_ids;
pub mod quorum;
#[cfg(test)]
mod tests;
mod transaction_admin;
mod transactions;
#[cfg(test)]
mod txn_cluster_tests;
mod txn_expiry;
#[cfg(test)]
mod txn_expiry_tests;
mod txn_init;
mod txn_markers;
mod txn_offsets;
#[cfg(test)]
mod txn_offsets_tests;
mod txn_requests;
mod txn_state_load;
#[cfg(test)]
mod txn_state_load_tests;
mod txn_state_log;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub use coordination::CoordinatorEndpoint;
pub use forward::FORWARD_TIMEOUT_MS;
pub use message::{PeerMessage, TxnMarkerResult};
pub use metadata_answer::{BrokerEndpoint, MetadataAnswer, PartitionAnswer, TopicAnswer};
pub use metadata_quorum::{METADATA_TOPIC, QuorumPartition, QuorumReplica};
pub use txn_init::TxnInit;

use crate::assignor::TopicPartition;
use crate::broker::{
    Broker, BrokerSettings, Output as BrokerOutput, PartitionSettings, ReplicaFetchSettings,
    ReplicaRequest, StorageFactory,
};
use crate::client::{Request, Response};
use crate::config::{BrokerConfig, TopicConfig};
use crate::controller::{
    BrokerId, Controller, CreateTopic, MetadataImage, MetadataRecord, PartitionState, TopicImage,
};
use crate::group::{
    Coordinator, CoordinatorConfig, DeleteGroupError, GroupEvent, GroupRecord, JoinGroupError,
    LagRow, OffsetDeleteError, OffsetDeleteResults, Output as GroupOutput, RequestId,
    SyncGroupError,
};
use crate::{ErrorCode, Millis};
use metadata_quorum::QuorumState;
use offsets_topic::GroupWrites;
use producer_ids::ProducerIds;
use quorum::{Quorum, QuorumStatus, RaftLog, RaftWrite};

/// A shell's name for a client request it handed in; the answer comes out with it. The shell
/// keeps it unique among its requests in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestRef(pub u64);

/// An error to answer a client with: the Kafka code and a message.
pub type Refusal = (ErrorCode, String);

/// What this node runs (Kafka's `process.roles`; the group coordinator runs on brokers in
/// Kafka, and the simulator still runs it as its own node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles {
    pub broker: bool,
    pub controller: bool,
    pub group_coordinator: bool,
}

impl Roles {
    /// `process.roles=broker,controller`, with the group coordinator: a single-node cluster.
    pub const COMBINED: Roles = Roles {
        broker: true,
        controller: true,
        group_coordinator: true,
    };
}

#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// `node.id`.
    pub node_id: BrokerId,
    pub roles: Roles,
    /// The controller the broker first registers and heartbeats with; it learns the active
    /// one from the answers (NOT_CONTROLLER with the leader) and tries the other voters when
    /// one stays silent.
    pub controller_id: BrokerId,
    /// The node ids of the controller quorum's voters (Kafka's `controller.quorum.voters`);
    /// empty means this node alone. A node with the controller role must be one of them.
    pub controller_quorum_voters: Vec<BrokerId>,
    /// Committed metadata entries between two snapshots of the image (Kafka bounds the log by
    /// `metadata.log.max.record.bytes.between.snapshots`; entries are what we count).
    pub metadata_snapshot_interval: u64,
    /// Host and port clients are told to connect to.
    pub advertised_host: String,
    pub advertised_port: u16,
    pub broker: BrokerConfig,
    pub groups: CoordinatorConfig,
    /// Acknowledge nothing before it is synced (`--durable`).
    pub durable: bool,
    /// Feeds the controller's and the coordinator's deterministic choices.
    pub seed: u64,
    pub replica_fetch: ReplicaFetchSettings,
}

/// What the shell must do, in the order given (see the module doc).
#[derive(Debug)]
pub enum Output {
    /// A change to the controller quorum's durable state (the Raft log of metadata records,
    /// its hard state, a snapshot of the image): apply it to what was persisted before
    /// ([`RaftLog::apply`]), durably.
    PersistRaft(RaftWrite),
    /// Records a coordinator-only node's group coordinator wrote: append them to its log,
    /// durably. (A broker's coordinator writes to the offsets topic's partitions instead.)
    PersistGroups(Vec<GroupRecord>),
    /// The answer to a client request.
    Respond {
        request: RequestRef,
        response: Response,
    },
    /// A message for another node.
    Send { to: BrokerId, message: PeerMessage },
    /// Something worth a line in a trace or a log.
    Event(Event),
}

/// What happened in the node, for traces and logs.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    BrokerFenced {
        broker: BrokerId,
    },
    BrokerUnfenced {
        broker: BrokerId,
    },
    LeaderElected {
        tp: TopicPartition,
        leader: BrokerId,
    },
    IsrChanged {
        tp: TopicPartition,
        isr: Vec<BrokerId>,
    },
    Group(GroupEvent),
    /// Opening a hosted partition's log cut a torn tail or deleted files.
    Recovered {
        tp: TopicPartition,
        description: String,
    },
    /// Storage failed; what failed is not acknowledged.
    StorageError {
        description: String,
    },
    /// This node became the leader of partition `partition` of `__consumer_offsets` and
    /// loaded its groups (`records` live records replayed).
    CoordinatorLoaded {
        partition: i32,
        records: usize,
    },
    /// This node stopped leading partition `partition` of `__consumer_offsets`; its groups
    /// were unloaded.
    CoordinatorUnloaded {
        partition: i32,
    },
    /// The transaction coordinator met what Kafka's meets in a cluster that changes: a
    /// marker dropped (its partition deleted, or refused as stale by a newer epoch or
    /// coordinator), or a `__transaction_state` write that failed and is written again.
    Transaction {
        description: String,
    },
    /// A request reached a node without the role that serves it, and was dropped.
    Misrouted {
        request: &'static str,
    },
    /// This node became the active controller (the quorum's leader) in `term`.
    ControllerElected {
        controller: BrokerId,
        term: u64,
    },
    /// Metadata from another node (records or an image) that does not fit this node's was
    /// refused: what fits before it is applied, the rest is asked for again.
    MetadataRefused {
        description: String,
    },
    /// A Raft message from `from` was refused (it does not decode, or raft-rs refused it).
    RaftMessageRefused {
        from: BrokerId,
        description: String,
    },
}

/// Who waits for an answer the broker or the coordinator gives later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waiting {
    Client(RequestRef),
    /// A client's JoinGroup or SyncGroup, about a group of this offsets partition (`None`
    /// on a coordinator-only node).
    GroupClient(RequestRef, Option<i32>),
    /// A follower's replica fetch.
    Follower(BrokerId),
    /// The coordinator's write to this partition of `__consumer_offsets`.
    GroupWrite(i32),
    /// Commit or abort markers the broker appends, for this node's transaction
    /// coordinator or a peer's (`transactions.rs`).
    TxnMarkers,
    /// The transaction coordinator's write to `__transaction_state` (`txn_state_log.rs`).
    TxnStateWrite,
    /// A TxnOffsetCommit's transactional batch to `__consumer_offsets` (`txn_offsets.rs`).
    TxnOffsetWrite,
}

pub struct Node<F: StorageFactory> {
    config: NodeConfig,
    /// The broker role; its image is the node's copy of the metadata.
    broker: Option<Broker<F>>,
    image: MetadataImage,
    metadata_offset: u64,
    broker_epoch: Option<u64>,
    /// The partition states and settings already handed to the broker: a change of either
    /// (leader, ISR, a topic or dynamic broker config) is handed again.
    applied: BTreeMap<TopicPartition, (PartitionState, PartitionSettings)>,
    next_heartbeat: Millis,
    producer_ids: ProducerIds,
    /// The controller role: the state machine, the quorum voter whose Raft log is the metadata
    /// log, and what the node keeps about both.
    controller: Option<Controller>,
    quorum: Option<Quorum>,
    meta: QuorumState,
    /// The controller the broker role addresses (the active one, as far as it knows).
    controller_id: BrokerId,
    /// The broker's last heartbeat got an answer (else the next goes to another voter).
    heartbeat_answered: bool,
    /// The broker followed a NOT_CONTROLLER pointer since its last periodic heartbeat.
    redirected: bool,
    coordinator: Option<Coordinator>,
    /// The offsets partitions whose groups this node has loaded (it leads them).
    loaded: BTreeSet<i32>,
    /// The offsets partitions it leads whose groups are being loaded (`offsets_load.rs`).
    loads: offsets_load::Loads,
    /// The coordinator's writes to the offsets topic awaiting the ISR, and the answers
    /// waiting for them.
    group_writes: GroupWrites,
    pending: BTreeMap<RequestId, Waiting>,
    next_request: u64,
    outputs: VecDeque<Output>,
    /// Messages to this node itself, handled before the next output is polled.
    loopback: VecDeque<PeerMessage>,
    /// The transaction coordinator and pending transactional offsets (`transactions.rs`).
    txns: transactions::Transactions,
    /// Admin commands forwarded to the active controller, awaiting its answer (`forward.rs`).
    forwards: forward::Forwards,
}

/// Kafka-like default of [`NodeConfig::metadata_snapshot_interval`]: the image is snapshotted
/// (and the log before it dropped) every this many committed metadata entries.
pub const METADATA_SNAPSHOT_INTERVAL: u64 = 1_000;

/// At most this many metadata records go in one heartbeat response; a broker further behind
/// catches up over several heartbeats.
pub const METADATA_RECORDS_PER_RESPONSE_MAX: usize = 1_000;

impl<F: StorageFactory> Node<F> {
    /// A node starting on what its shell recovered: the controller quorum's Raft log (a
    /// snapshot of the image and the entries after it, replayed by the controller role; empty
    /// without it) and the group coordinator's records (replayed by the coordinator). Its
    /// broker registers with the controller at the first [`Node::handle_timeout`]. Replaying
    /// may already produce outputs (a single voter elects itself and persists that).
    pub fn new(
        config: NodeConfig,
        storage: F,
        raft_log: &RaftLog,
        group_records: &[GroupRecord],
        now: Millis,
    ) -> Node<F> {
        let broker = config.roles.broker.then(|| {
            let mut broker = Broker::new(
                BrokerSettings {
                    node_id: config.node_id,
                    durable: config.durable,
                },
                storage,
            );
            broker.set_replica_fetch_settings(config.replica_fetch);
            broker
        });
        let controller = config
            .roles
            .controller
            .then(|| metadata_quorum::new_controller(&config));
        let quorum = config.roles.controller.then(|| {
            let voters = metadata_quorum::voters(&config);
            Quorum::new(config.node_id, &voters, raft_log, config.seed, now)
        });
        // A broker's groups are loaded from the offsets partitions it leads; only a
        // coordinator-only node replays records it kept itself.
        let coordinator = config.roles.group_coordinator.then(|| {
            let mut coordinator = Coordinator::new(config.groups.clone(), config.seed);
            if !config.roles.broker {
                for record in group_records {
                    coordinator.replay(record, now);
                }
            }
            coordinator
        });
        let mut node = Node {
            broker,
            image: MetadataImage::default(),
            metadata_offset: 0,
            broker_epoch: None,
            applied: BTreeMap::new(),
            next_heartbeat: now,
            producer_ids: ProducerIds::default(),
            controller,
            quorum,
            meta: QuorumState::default(),
            controller_id: config.controller_id,
            heartbeat_answered: true,
            redirected: false,
            coordinator,
            loaded: BTreeSet::new(),
            loads: offsets_load::Loads::default(),
            group_writes: GroupWrites::default(),
            pending: BTreeMap::new(),
            next_request: 0,
            outputs: VecDeque::new(),
            loopback: VecDeque::new(),
            txns: transactions::Transactions::default(),
            forwards: forward::Forwards::default(),
            config,
        };
        node.drain_quorum();
        node
    }

    // ---- getters ----

    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    pub fn node_id(&self) -> BrokerId {
        self.config.node_id
    }

    /// The metadata this node answers from: the broker's copy, or the controller's on a
    /// controller-only node.
    pub fn image(&self) -> &MetadataImage {
        match (&self.broker, &self.controller) {
            (None, Some(_)) => &self.meta.committed_image,
            _ => &self.image,
        }
    }

    pub fn broker(&self) -> Option<&Broker<F>> {
        self.broker.as_ref()
    }

    /// Lends the broker role the shell's compression codecs, for the log cleaner to open and
    /// rewrite compressed batches (see [`Broker::set_codecs`]).
    pub fn set_codecs(&mut self, codecs: &'static dyn crate::batch::Codecs) {
        if let Some(broker) = &mut self.broker {
            broker.set_codecs(codecs);
        }
    }

    pub fn controller(&self) -> Option<&Controller> {
        self.controller.as_ref()
    }

    pub fn coordinator(&self) -> Option<&Coordinator> {
        self.coordinator.as_ref()
    }

    /// The committed metadata records since the latest snapshot (empty without the
    /// controller role); [`Node::metadata_log_start`] is the offset of the first.
    pub fn metadata_log(&self) -> &[MetadataRecord] {
        &self.meta.records
    }

    /// The record offset of [`Node::metadata_log`]'s first record.
    pub fn metadata_log_start(&self) -> u64 {
        self.meta.base
    }

    /// The controller quorum as this voter sees it (`None` without the controller role).
    pub fn quorum_status(&self) -> Option<QuorumStatus> {
        self.quorum.as_ref().map(Quorum::status)
    }

    /// The active controller as this node knows it: itself if it is, else the quorum's
    /// leader, else the controller its broker addresses.
    pub fn active_controller(&self) -> Option<BrokerId> {
        if self.is_active_controller() {
            return Some(self.config.node_id);
        }
        match &self.quorum {
            Some(quorum) => quorum.leader(),
            None => Some(self.controller_id),
        }
    }

    /// The broker's registration epoch, once registered.
    pub fn broker_epoch(&self) -> Option<u64> {
        self.broker_epoch
    }

    /// This broker's config: the static one under the dynamic configs the metadata holds
    /// (the cluster default, then this broker's own; KIP-226).
    pub fn broker_config(&self) -> BrokerConfig {
        let image = self.image();
        self.config
            .broker
            .with_dynamic(
                image.broker_configs(""),
                image.broker_configs(&self.config.node_id.to_string()),
            )
            .unwrap_or_else(|_| self.config.broker.clone())
    }

    /// A topic's effective config as this node's metadata has it: the broker's topic
    /// defaults under the topic's overrides (Kafka's `LogConfig` from the metadata image).
    pub fn topic_config(&self, topic: &str) -> Option<TopicConfig> {
        let broker_config = self.broker_config();
        self.image()
            .topic(topic)
            .map(|t| effective_config(&broker_config, t))
    }

    /// Lag of every group on every partition it committed to or owns, against the high
    /// watermarks of the partitions this node hosts.
    pub fn group_lag(&self) -> Vec<LagRow> {
        let Some(coordinator) = &self.coordinator else {
            return Vec::new();
        };
        coordinator.all_lag(|tp| {
            self.broker
                .as_ref()
                .and_then(|b| b.partition(tp))
                .map(|p| p.high_watermark)
        })
    }

    // ---- inputs ----

    /// A decoded client request. Its answer comes out as [`Output::Respond`], at once or
    /// when it is ready (acks, a long-poll fetch, a rebalance); a produce with acks=0 gets
    /// none.
    pub fn handle_request(&mut self, now: Millis, request: RequestRef, body: Request) {
        let name = body.name();
        match body {
            Request::Metadata { topics } => {
                let answer = self.metadata(now, Some(&topics), false);
                self.respond(request, Response::Metadata(answer.to_client()));
            }
            Request::InitProducerId if self.broker.is_some() => match self.producer_ids.take() {
                Some(id) => self.respond(request, init_producer_id(Ok(id))),
                None => self.producer_ids.wait(request),
            },
            Request::FindCoordinator { group_id } if self.broker.is_some() => {
                let found = self.find_coordinator(now, &group_id).map(|c| c.node_id);
                self.respond(request, Response::FindCoordinator(found));
            }
            Request::ListOffsets(partitions) if self.broker.is_some() => {
                let listed = self
                    .broker
                    .as_ref()
                    .expect("guarded")
                    .list_offsets(&partitions);
                self.respond(request, Response::ListOffsets(listed));
            }
            Request::Produce(produce) if self.broker.is_some() => {
                let id = self.next_request_id();
                if produce.acks != 0 {
                    self.pending.insert(id, Waiting::Client(request));
                }
                self.broker
                    .as_mut()
                    .expect("guarded")
                    .produce(id, produce, now);
            }
            Request::Fetch(fetch) if self.broker.is_some() => {
                let id = self.next_request_id();
                self.pending.insert(id, Waiting::Client(request));
                self.broker.as_mut().expect("guarded").fetch(id, fetch, now);
            }
            Request::JoinGroup(join) if self.coordinator.is_some() => {
                let refused = || Response::JoinGroup(Err(JoinGroupError::NotCoordinator));
                let Some(partition) = self.gate_group(now, request, &join.group_id, refused) else {
                    return;
                };
                let id = self.next_request_id();
                self.pending
                    .insert(id, Waiting::GroupClient(request, partition));
                self.coordinator_mut().handle_join(id, join, now);
            }
            Request::SyncGroup(sync) if self.coordinator.is_some() => {
                let refused = || Response::SyncGroup(Err(SyncGroupError::NotCoordinator));
                let Some(partition) = self.gate_group(now, request, &sync.group_id, refused) else {
                    return;
                };
                let id = self.next_request_id();
                self.pending
                    .insert(id, Waiting::GroupClient(request, partition));
                self.coordinator_mut().handle_sync(id, sync, now);
            }
            Request::Heartbeat(heartbeat) if self.coordinator.is_some() => {
                let refused = || Response::Heartbeat(Ok(()));
                let Some(partition) = self.gate_group(now, request, &heartbeat.group_id, refused)
                else {
                    return;
                };
                let result = self.coordinator_mut().handle_heartbeat(&heartbeat, now);
                self.drain_roles(now);
                self.respond_group(partition, request, Response::Heartbeat(result));
            }
            Request::LeaveGroup { group_id, members } if self.coordinator.is_some() => {
                let refused = || Response::LeaveGroup(vec![Ok(()); members.len()]);
                let Some(partition) = self.gate_group(now, request, &group_id, refused) else {
                    return;
                };
                let results = self
                    .coordinator_mut()
                    .handle_leave(&group_id, &members, now);
                self.drain_roles(now);
                self.respond_group(partition, request, Response::LeaveGroup(results));
            }
            Request::OffsetCommit(commit) if self.coordinator.is_some() => {
                let refused = || {
                    let results = commit.offsets.iter().map(|(tp, _)| (tp.clone(), Ok(())));
                    Response::OffsetCommit(results.collect())
                };
                let Some(partition) = self.gate_group(now, request, &commit.group_id, refused)
                else {
                    return;
                };
                // Offsets of partitions this node's metadata does not know are refused (a
                // coordinator-only node, the simulator's, has no metadata to check against).
                let knows_metadata = self.broker.is_some() || self.controller.is_some();
                let image = match (&self.broker, &self.controller) {
                    (None, Some(controller)) => controller.image(),
                    _ => &self.image,
                };
                let results = self
                    .coordinator
                    .as_mut()
                    .expect("guarded")
                    .handle_offset_commit_of_existing(&commit, now, |tp| {
                        !knows_metadata || image.contains_partition(&tp.topic, tp.partition)
                    });
                // The records come out first: they are durable (acknowledged by the ISR of
                // the offsets partition) before the answer goes.
                self.drain_roles(now);
                self.respond_group(partition, request, Response::OffsetCommit(results));
            }
            Request::OffsetFetch {
                group_id,
                partitions,
                require_stable,
            } if self.coordinator.is_some() => {
                let partitions = (!partitions.is_empty()).then_some(partitions.as_slice());
                let result = self.fetch_offsets(&group_id, partitions, require_stable);
                self.respond(request, Response::OffsetFetch(result));
            }
            body @ (Request::FindTransactionCoordinator { .. }
            | Request::InitTransactionalProducerId { .. }
            | Request::AddPartitionsToTxn { .. }
            | Request::AddOffsetsToTxn { .. }
            | Request::EndTxn { .. }
            | Request::TxnOffsetCommit { .. })
                if self.broker.is_some() =>
            {
                self.handle_txn_request(now, request, body);
            }
            Request::Control {
                command,
                validate_only,
            } if self.broker.is_some() || self.controller.is_some() => {
                self.handle_control_request(now, request, command, validate_only);
            }
            _ => self.event(Event::Misrouted { request: name }),
        }
        self.drain_roles(now);
    }

    /// A message from node `from`.
    pub fn handle_peer(&mut self, now: Millis, from: BrokerId, message: PeerMessage) {
        self.dispatch_peer(now, from, message);
        self.drain_roles(now);
    }

    /// Time-driven work: the broker's syncs, retention and replica fetches, its heartbeat,
    /// the coordinator's session timeouts, the controller's fencing of silent brokers.
    pub fn handle_timeout(&mut self, now: Millis) {
        if let Some(broker) = &mut self.broker {
            if let Err(e) = broker.tick(now) {
                self.outputs.push_back(Output::Event(Event::StorageError {
                    description: e.to_string(),
                }));
            }
            // A heartbeat due more than an interval from now: the wall clock stepped back
            // (`now` is the node's wall clock). Heartbeat now rather than fall silent, and be
            // fenced, until the clock catches up with the old schedule.
            let interval = Millis(self.config.broker.broker_heartbeat_interval_ms);
            let stepped_back = self.next_heartbeat.since(now) > interval;
            if now >= self.next_heartbeat || stepped_back {
                self.heartbeat(now);
            }
        }
        if let Some(coordinator) = &mut self.coordinator {
            coordinator.tick(now);
        }
        if self.broker.is_some() {
            self.step_offsets_loads(now);
            self.tick_transactions(now);
        }
        if let Some(quorum) = &mut self.quorum {
            quorum.handle_timeout(now);
            self.drain_quorum();
        }
        if self.is_active_controller() {
            let records = self.controller.as_mut().expect("checked").tick(now);
            self.commit(records);
        }
        self.expire_forwards(now);
        self.drain_roles(now);
    }

    // ---- commands ----

    /// The Metadata answer for `topics` (every topic when `None`). Unknown topics are created
    /// first when `auto.create.topics.enable` and the client (`allow_auto_topic_creation`)
    /// allow it: by the controller here if this node has that role, else forwarded to it
    /// (answered LEADER_NOT_AVAILABLE until the broker learns the topic, as Kafka does).
    pub fn metadata(
        &mut self,
        now: Millis,
        topics: Option<&[String]>,
        allow_auto_topic_creation: bool,
    ) -> MetadataAnswer {
        let mut errors = Vec::new();
        if allow_auto_topic_creation && self.config.broker.auto_create_topics_enable {
            let missing: Vec<CreateTopic> = topics
                .unwrap_or_default()
                .iter()
                .filter(|name| !name.is_empty() && self.image().topic(name).is_none())
                .map(|name| CreateTopic {
                    name: name.clone(),
                    ..CreateTopic::default()
                })
                .collect();
            if self.is_active_controller() {
                for create in missing {
                    if let Err((code, _)) = self.create_topic(now, &create, false) {
                        errors.push((create.name, code));
                    }
                }
            } else if !missing.is_empty() {
                errors.extend(
                    missing
                        .iter()
                        .map(|c| (c.name.clone(), ErrorCode::LEADER_NOT_AVAILABLE)),
                );
                self.send(
                    self.controller_id,
                    PeerMessage::CreateTopics { topics: missing },
                );
                self.drain_roles(now);
            }
        }
        let controller_id = self.active_controller().unwrap_or(self.controller_id);
        metadata_answer::answer(self.image(), controller_id, topics, &errors)
    }

    /// Runs a controller command and commits its records (they come out as
    /// [`Output::PersistMetadata`] and reach this node's broker before this returns); with
    /// `validate_only`, runs it on a copy and keeps nothing. NOT_CONTROLLER without the role.
    pub fn control(
        &mut self,
        now: Millis,
        validate_only: bool,
        command: impl FnOnce(&mut Controller) -> Result<Vec<MetadataRecord>, Refusal>,
    ) -> Result<(), Refusal> {
        let node_id = self.config.node_id;
        let not_controller = || {
            (
                ErrorCode::NOT_CONTROLLER,
                format!("node {node_id} is not the active controller"),
            )
        };
        if !self.is_active_controller() {
            return Err(not_controller());
        }
        let controller = self.controller.as_mut().expect("checked");
        if validate_only {
            return command(&mut controller.clone()).map(|_| ());
        }
        let records = command(controller)?;
        let proposed = self.commit(records);
        self.drain_roles(now);
        if proposed {
            Ok(())
        } else {
            Err(not_controller())
        }
    }

    /// CreateTopics for one topic; with `validate_only`, checks without creating.
    pub fn create_topic(
        &mut self,
        now: Millis,
        create: &CreateTopic,
        validate_only: bool,
    ) -> Result<(), Refusal> {
        self.control(now, validate_only, |c| {
            c.create_topic(create).map_err(refusal)
        })
    }

    /// DeleteTopics for one topic. Its partitions and committed offsets go when this node
    /// applies the record (at once on a combined node).
    pub fn delete_topic(&mut self, now: Millis, name: &str) -> Result<(), Refusal> {
        self.control(now, false, |c| {
            c.delete_topic(name).map_err(|e| (e.code(), e.to_string()))
        })
    }

    /// DeleteRecords on a partition this node leads: the new log start offset.
    pub fn delete_records(
        &mut self,
        now: Millis,
        tp: &TopicPartition,
        offset: i64,
    ) -> Result<i64, ErrorCode> {
        let broker = self
            .broker
            .as_mut()
            .ok_or(ErrorCode::NOT_LEADER_OR_FOLLOWER)?;
        let result = broker.delete_records(tp, offset);
        self.drain_roles(now);
        result
    }

    /// DeleteGroups, one result per group.
    pub fn delete_groups(
        &mut self,
        now: Millis,
        groups: &[String],
    ) -> Vec<Result<(), DeleteGroupError>> {
        let Some(coordinator) = &mut self.coordinator else {
            return groups
                .iter()
                .map(|_| Err(DeleteGroupError::NotCoordinator))
                .collect();
        };
        let results = coordinator.delete_groups(groups, now);
        self.drain_roles(now);
        results
    }

    /// OffsetDelete (KIP-496) of partitions that exist, one group.
    pub fn delete_offsets(
        &mut self,
        now: Millis,
        group: &str,
        partitions: &[TopicPartition],
    ) -> Result<OffsetDeleteResults, OffsetDeleteError> {
        let Some(coordinator) = &mut self.coordinator else {
            return Err(OffsetDeleteError::NotCoordinator);
        };
        let knows_metadata = self.broker.is_some() || self.controller.is_some();
        let image = match (&self.broker, &self.controller) {
            (None, Some(controller)) => controller.image(),
            _ => &self.image,
        };
        let results = coordinator.delete_offsets_of_existing(group, partitions, now, |tp| {
            !knows_metadata || image.contains_partition(&tp.topic, tp.partition)
        });
        self.drain_roles(now);
        results
    }

    /// The controller role stands for election at once (a cluster's bootstrap; otherwise
    /// voters wait for an election timeout).
    pub fn campaign(&mut self, now: Millis) {
        if let Some(quorum) = &mut self.quorum {
            quorum.campaign();
            self.drain_quorum();
        }
        self.drain_roles(now);
    }

    /// Syncs every hosted log, before the process exits.
    pub fn shut_down(&mut self) -> Result<(), crate::storage::StorageError> {
        match &mut self.broker {
            Some(broker) => broker.sync_all(),
            None => Ok(()),
        }
    }

    // ---- outputs ----

    /// The next thing for the shell to do, in order (see the module doc).
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Node::handle_timeout`] should run next.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let heartbeat = self.broker.as_ref().map(|_| self.next_heartbeat);
        [
            self.broker.as_ref().and_then(Broker::next_deadline),
            heartbeat,
            self.producer_ids.next_deadline(),
            self.coordinator
                .as_ref()
                .and_then(Coordinator::next_deadline),
            self.controller
                .as_ref()
                .filter(|_| self.is_active_controller())
                .and_then(Controller::next_deadline),
            self.quorum.as_ref().and_then(Quorum::poll_timeout),
            self.transactions_deadline(),
            self.loads.next_deadline(),
            self.forwards.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- inside ----

    fn coordinator_mut(&mut self) -> &mut Coordinator {
        self.coordinator
            .as_mut()
            .expect("the caller checked the role")
    }

    fn next_request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    fn respond(&mut self, request: RequestRef, response: Response) {
        self.outputs
            .push_back(Output::Respond { request, response });
    }

    fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    fn send(&mut self, to: BrokerId, message: PeerMessage) {
        if to == self.config.node_id {
            self.loopback.push_back(message);
        } else {
            self.outputs.push_back(Output::Send { to, message });
        }
    }

    fn heartbeat(&mut self, now: Millis) {
        if now >= self.next_heartbeat {
            self.redirected = false;
        }
        self.next_heartbeat = now.plus(Millis(self.config.broker.broker_heartbeat_interval_ms));
        if !self.heartbeat_answered {
            self.try_next_controller();
        }
        self.heartbeat_answered = false;
        let heartbeat = PeerMessage::BrokerHeartbeat {
            broker_id: self.config.node_id,
            broker_epoch: self.broker_epoch,
            metadata_offset: self.metadata_offset,
            host: self.config.advertised_host.clone(),
            port: self.config.advertised_port,
        };
        self.send(self.controller_id, heartbeat);
    }

    /// The controller the broker addressed did not answer: the next voter, in order.
    fn try_next_controller(&mut self) {
        let voters = &self.config.controller_quorum_voters;
        if voters.len() > 1 {
            let at = voters.iter().position(|&v| v == self.controller_id);
            self.controller_id = voters[at.map_or(0, |i| (i + 1) % voters.len())];
        }
    }

    fn dispatch_peer(&mut self, now: Millis, from: BrokerId, message: PeerMessage) {
        match message {
            PeerMessage::BrokerHeartbeat {
                broker_id,
                broker_epoch,
                metadata_offset,
                host,
                port,
            } => {
                if !self.is_active_controller() {
                    self.not_controller(from);
                    return;
                }
                self.on_broker_heartbeat(
                    now,
                    from,
                    broker_id,
                    broker_epoch,
                    metadata_offset,
                    (host, port),
                )
            }
            PeerMessage::BrokerHeartbeatResponse {
                broker_epoch,
                from_offset,
                records,
                image,
            } => {
                if self.broker.is_none() {
                    return;
                }
                self.heartbeat_answered = true;
                self.controller_id = from;
                let registered = self.broker_epoch.is_none() && broker_epoch.is_some();
                self.broker_epoch = broker_epoch;
                if let Some(image) = image {
                    self.load_image(now, from_offset, *image);
                }
                self.apply_metadata(now, from_offset, &records);
                if registered {
                    // As Kafka's BrokerLifecycleManager: the first heartbeat follows the
                    // registration at once, so the broker is unfenced without waiting.
                    self.heartbeat(now);
                }
            }
            PeerMessage::MetadataPush {
                from_offset,
                records,
            } => self.apply_metadata(now, from_offset, &records),
            PeerMessage::ReplicaFetch { request } => {
                let id = self.next_request_id();
                if let Some(broker) = &mut self.broker {
                    self.pending.insert(id, Waiting::Follower(from));
                    broker.fetch(id, request, now);
                }
            }
            PeerMessage::ReplicaFetchResponse { response } => {
                if let Some(broker) = &mut self.broker {
                    broker.on_replica_fetch_response(from, response, now);
                }
            }
            PeerMessage::OffsetForLeaderEpoch { request } => {
                if let Some(broker) = &self.broker {
                    let answers = broker.offset_for_leader_epoch(&request);
                    self.send(from, PeerMessage::OffsetForLeaderEpochResponse { answers });
                }
            }
            PeerMessage::OffsetForLeaderEpochResponse { answers } => {
                if let Some(broker) = &mut self.broker {
                    broker.on_offset_for_leader_epoch_response(from, answers, now);
                }
            }
            PeerMessage::AlterPartition { tp, request } => {
                if !self.is_active_controller() {
                    self.not_controller(from);
                    let result = Err(ErrorCode::NOT_CONTROLLER);
                    self.send(from, PeerMessage::AlterPartitionResponse { tp, result });
                    return;
                }
                let controller = self.controller.as_mut().expect("active");
                let result = match controller.alter_partition(&request) {
                    Ok(records) => self
                        .commit(records)
                        .then_some(())
                        .ok_or(ErrorCode::NOT_CONTROLLER),
                    Err(e) => Err(e.code()),
                };
                let response = PeerMessage::AlterPartitionResponse { tp, result };
                self.send_after_commit(from, metadata_quorum::Deferred::Message(response));
            }
            PeerMessage::AlterPartitionResponse { tp, result } => {
                if let Some(broker) = &mut self.broker {
                    broker.on_alter_partition_response(&tp, result, now);
                }
            }
            PeerMessage::AllocateProducerIds {
                broker_id,
                broker_epoch,
            } => {
                if !self.is_active_controller() {
                    // The broker asks the active controller again at once.
                    self.not_controller(from);
                    return;
                }
                let controller = self.controller.as_mut().expect("active");
                let result = match controller.allocate_producer_ids(broker_id, broker_epoch) {
                    Ok((records, block)) => self
                        .commit(records)
                        .then_some((block.first_id, block.size))
                        .ok_or(ErrorCode::NOT_CONTROLLER),
                    Err(e) => Err(e.code()),
                };
                // A block is handed out only once it is committed: a new controller never
                // hands it out again.
                let response = PeerMessage::AllocateProducerIdsResponse { result };
                self.send_after_commit(from, metadata_quorum::Deferred::Message(response));
            }
            PeerMessage::AllocateProducerIdsResponse { result } => match result {
                Ok((first_id, size)) => {
                    for (request, id) in self.producer_ids.add_block(first_id, size) {
                        if self.resume_txn_init(now, request, Ok(id)).is_none() {
                            self.respond(request, init_producer_id(Ok(id)));
                        }
                    }
                }
                Err(code) => {
                    for request in self.producer_ids.fail() {
                        if self.resume_txn_init(now, request, Err(code)).is_none() {
                            self.respond(request, init_producer_id(Err(code)));
                        }
                    }
                }
            },
            PeerMessage::CreateTopics { topics } => {
                if !self.is_active_controller() {
                    self.not_controller(from);
                    return;
                }
                for create in topics {
                    // The broker that forwarded it learns the outcome from the metadata log.
                    let _ = self.create_topic(now, &create, false);
                }
            }
            PeerMessage::ForwardedCommand {
                request_id,
                validate_only,
                command,
            } => self.on_forwarded_command(now, from, request_id, validate_only, command),
            PeerMessage::ForwardedCommandResponse { request_id, result } => {
                self.on_forwarded_command_response(from, request_id, result)
            }
            PeerMessage::WriteTxnMarkers {
                request_id,
                markers,
            } => self.on_peer_write_txn_markers(now, from, request_id, markers),
            PeerMessage::WriteTxnMarkersResponse {
                request_id,
                results,
            } => {
                let results = results.into_iter().map(|r| (r.tp, r.error)).collect();
                self.on_marker_results(now, RequestId(request_id), from, results)
            }
            PeerMessage::Raft { bytes } => {
                let Some(quorum) = &mut self.quorum else {
                    return;
                };
                if let Err(e) = quorum.handle_message(from, &bytes) {
                    self.event(Event::RaftMessageRefused {
                        from,
                        description: e.to_string(),
                    });
                }
                self.drain_quorum();
            }
            PeerMessage::NotController { leader } => {
                if self.broker.is_none() {
                    return;
                }
                // An answer all the same: the next heartbeat goes where it points.
                self.heartbeat_answered = true;
                match leader {
                    Some(leader) if leader != from => {
                        self.controller_id = leader;
                        // Once per heartbeat interval the broker follows the pointer at once
                        // (stale pointers between two voters cannot make it loop).
                        if !self.redirected {
                            self.redirected = true;
                            self.heartbeat(now);
                        }
                    }
                    Some(_) => {}
                    None if from == self.controller_id => self.try_next_controller(),
                    None => {}
                }
                // What went to the wrong node goes again: the producer-id request at once,
                // the heartbeat at its time.
                self.producer_ids.retry();
            }
        }
    }

    fn on_broker_heartbeat(
        &mut self,
        now: Millis,
        from: BrokerId,
        broker_id: BrokerId,
        broker_epoch: Option<u64>,
        metadata_offset: u64,
        (host, port): (String, u16),
    ) {
        let controller = self.controller.as_mut().expect("the active controller");
        let result = match broker_epoch {
            None => controller.register_broker(now, broker_id, &host, port),
            Some(epoch) => controller.broker_heartbeat(now, broker_id, epoch),
        };
        // A stale epoch (the broker restarted, or was fenced and re-registered elsewhere)
        // is answered without one: the broker registers again.
        let epoch = match result {
            Ok(records) => {
                if !self.commit(records) {
                    return; // no longer the leader: the broker asks again
                }
                self.controller
                    .as_ref()
                    .and_then(|c| c.image().broker(broker_id))
                    .map(|b| b.broker_epoch)
            }
            Err(_) => None,
        };
        // The answer waits for the registration (or unfencing) to commit; its records are
        // read when it goes, so that it holds every record committed until then.
        self.send_after_commit(
            from,
            metadata_quorum::Deferred::HeartbeatResponse {
                broker_epoch: epoch,
                metadata_offset,
            },
        );
    }

    /// A heartbeat answer with the committed records from `metadata_offset` on; a broker
    /// behind the latest snapshot gets the committed image instead.
    fn heartbeat_response(&self, broker_epoch: Option<u64>, metadata_offset: u64) -> PeerMessage {
        let base = self.meta.base;
        let (image, from_offset, records) = if metadata_offset < base {
            let image = Box::new(self.meta.committed_image.clone());
            (Some(image), self.meta.record_end(), Vec::new())
        } else {
            let from_offset = metadata_offset.min(self.meta.record_end());
            let start = (from_offset - base) as usize;
            let end = (start + METADATA_RECORDS_PER_RESPONSE_MAX).min(self.meta.records.len());
            (None, from_offset, self.meta.records[start..end].to_vec())
        };
        PeerMessage::BrokerHeartbeatResponse {
            broker_epoch,
            from_offset,
            records,
            image,
        }
    }

    /// Applies metadata records starting at log offset `from_offset` (skipping any already
    /// applied), then hands every changed partition this node hosts to the broker and drops
    /// the partitions (and committed offsets) of deleted topics.
    fn apply_metadata(&mut self, now: Millis, from_offset: u64, records: &[MetadataRecord]) {
        if self.broker.is_none() || from_offset > self.metadata_offset {
            return; // a gap: the next heartbeat asks again from where this broker is
        }
        let skip = (self.metadata_offset - from_offset) as usize;
        let mut deleted = Vec::new();
        for record in records.iter().skip(skip) {
            if let MetadataRecord::RemoveTopic(r) = record
                && let Some(topic) = self.image.topic_by_id(r.topic_id)
            {
                deleted.push(topic.name.clone());
            }
            if let Err(description) = self.image.check(record) {
                self.event(Event::MetadataRefused { description });
                break;
            }
            self.image.apply(record);
            self.metadata_offset += 1;
        }
        self.apply_image(now, deleted);
    }

    /// Replaces the broker's metadata with `image`, the metadata after `offset` records (a
    /// snapshot, for a broker behind the controller's log start), then applies it to the
    /// hosted partitions. Topics gone from it (or there again with another id) are deleted.
    fn load_image(&mut self, now: Millis, offset: u64, image: MetadataImage) {
        if self.broker.is_none() || offset < self.metadata_offset {
            return;
        }
        if let Err(e) = image.check_successor(offset, &self.image) {
            self.event(Event::MetadataRefused {
                description: format!("a metadata image at offset {offset}: {e}"),
            });
            return;
        }
        let deleted = self
            .image
            .topics()
            .filter(|t| image.topic(&t.name).is_none_or(|n| n.id != t.id))
            .map(|t| t.name.clone())
            .collect();
        self.image = image;
        self.metadata_offset = offset;
        self.apply_image(now, deleted);
    }

    /// Hands every changed partition this node hosts to the broker and drops the partitions
    /// (and committed offsets) of the `deleted` topics.
    fn apply_image(&mut self, now: Millis, deleted: Vec<String>) {
        let node_id = self.config.node_id;
        let broker_config = self.broker_config();
        let hosted: Vec<(TopicPartition, PartitionState, PartitionSettings)> = self
            .image
            .replicas_on(node_id)
            .map(|(topic, index, state)| {
                let topic_config = effective_config(&broker_config, topic);
                let settings = PartitionSettings::from_configs(&topic_config, &broker_config);
                (
                    TopicPartition::new(topic.name.clone(), index as i32),
                    state.clone(),
                    settings,
                )
            })
            .collect();
        let broker = self.broker.as_mut().expect("checked above");
        for (tp, state, settings) in hosted {
            if self
                .applied
                .get(&tp)
                .is_some_and(|(s, p)| *s == state && *p == settings)
            {
                continue;
            }
            match broker.apply_partition(&tp, &state, settings, now) {
                Ok(Some(report))
                    if report.truncated.is_some()
                        || !report.deleted_files.is_empty()
                        || !report.rebuilt_txn_indexes.is_empty() =>
                {
                    self.outputs.push_back(Output::Event(Event::Recovered {
                        tp: tp.clone(),
                        description: format!("{report:?}"),
                    }));
                }
                Ok(_) => {}
                Err(e) => {
                    self.outputs.push_back(Output::Event(Event::StorageError {
                        description: format!(
                            "{}-{}: cannot open the log: {e}",
                            tp.topic, tp.partition
                        ),
                    }));
                    continue;
                }
            }
            self.applied.insert(tp, (state, settings));
        }
        for topic in deleted {
            self.applied.retain(|tp, _| tp.topic != topic);
            if let Err(e) = broker.remove_topic(&topic) {
                self.outputs.push_back(Output::Event(Event::StorageError {
                    description: format!("{topic}: cannot delete its logs: {e}"),
                }));
            }
            // Kafka deletes the committed offsets of a deleted topic with it.
            if let Some(coordinator) = &mut self.coordinator {
                coordinator.on_topic_deleted(&topic, now);
            }
        }
        self.sync_offsets_leadership(now);
        self.sync_transaction_leadership(now);
    }

    /// Moves what the roles produced into the outputs: the broker's answers, replica
    /// requests and ISR changes; the coordinator's records (before its answers); a request
    /// for producer ids; then handles messages this node sent itself, until none is left.
    fn drain_roles(&mut self, now: Millis) {
        loop {
            self.drain_broker(now);
            self.drain_coordinator(now);
            if self.broker.is_some() && self.producer_ids.wants_block(now) {
                match self.broker_epoch {
                    Some(broker_epoch) => {
                        let request = PeerMessage::AllocateProducerIds {
                            broker_id: self.config.node_id,
                            broker_epoch,
                        };
                        self.send(self.controller_id, request);
                    }
                    None => {
                        for request in self.producer_ids.fail() {
                            let code = ErrorCode::COORDINATOR_LOAD_IN_PROGRESS;
                            if self.resume_txn_init(now, request, Err(code)).is_none() {
                                self.respond(request, init_producer_id(Err(code)));
                            }
                        }
                    }
                }
            }
            let Some(message) = self.loopback.pop_front() else {
                return;
            };
            let me = self.config.node_id;
            self.dispatch_peer(now, me, message);
        }
    }

    fn drain_broker(&mut self, now: Millis) {
        let Some(broker) = &mut self.broker else {
            return;
        };
        let mut sends = Vec::new();
        let mut written = Vec::new();
        let mut markers_written = Vec::new();
        let mut state_written = Vec::new();
        let mut offsets_written = Vec::new();
        while let Some(output) = broker.poll_output() {
            let (request, response) = match output {
                BrokerOutput::Produced { request, response } => {
                    (request, Response::Produce(response))
                }
                BrokerOutput::Fetched { request, response } => (request, Response::Fetch(response)),
            };
            match (self.pending.remove(&request), response) {
                (Some(Waiting::Client(to)), response) => self.outputs.push_back(Output::Respond {
                    request: to,
                    response,
                }),
                (Some(Waiting::Follower(follower)), Response::Fetch(response)) => {
                    sends.push((follower, PeerMessage::ReplicaFetchResponse { response }));
                }
                (Some(Waiting::Follower(_)), _) => unreachable!("followers only fetch"),
                (Some(Waiting::GroupWrite(partition)), Response::Produce(response)) => {
                    let error = response
                        .partitions
                        .first()
                        .map_or(ErrorCode::UNKNOWN_SERVER_ERROR, |p| p.error);
                    written.push((partition, request, error));
                }
                (Some(Waiting::TxnMarkers), Response::Produce(response)) => {
                    let results = response.partitions.into_iter().map(|p| (p.tp, p.error));
                    markers_written.push((request, results.collect::<Vec<_>>()));
                }
                (Some(Waiting::TxnStateWrite), Response::Produce(response)) => {
                    let error = response
                        .partitions
                        .first()
                        .map_or(ErrorCode::UNKNOWN_SERVER_ERROR, |p| p.error);
                    state_written.push((request, error));
                }
                (Some(Waiting::TxnOffsetWrite), Response::Produce(response)) => {
                    let error = response
                        .partitions
                        .first()
                        .map_or(ErrorCode::UNKNOWN_SERVER_ERROR, |p| p.error);
                    offsets_written.push((request, error));
                }
                (
                    Some(
                        Waiting::GroupWrite(_)
                        | Waiting::GroupClient(..)
                        | Waiting::TxnMarkers
                        | Waiting::TxnStateWrite
                        | Waiting::TxnOffsetWrite,
                    ),
                    _,
                ) => {
                    unreachable!("the broker answers produces of group writes only")
                }
                (None, _) => {}
            }
        }
        for request in broker.replica_requests(now) {
            sends.push(match request {
                ReplicaRequest::Fetch { leader, request } => {
                    (leader, PeerMessage::ReplicaFetch { request })
                }
                ReplicaRequest::OffsetForLeaderEpoch { leader, request } => {
                    (leader, PeerMessage::OffsetForLeaderEpoch { request })
                }
            });
        }
        for change in broker.alter_partition_requests(now) {
            // The topic may be gone from this broker's metadata; the request then has no target.
            if let Some(topic) = self.image.topic(&change.tp.topic) {
                let request = change.to_alter_partition(topic.id);
                let tp = change.tp.clone();
                sends.push((
                    self.controller_id,
                    PeerMessage::AlterPartition { tp, request },
                ));
            }
        }
        for (to, message) in sends {
            self.send(to, message);
        }
        for (partition, request, error) in written {
            self.on_group_write(now, partition, request, error);
        }
        for (request, error) in offsets_written {
            self.on_txn_offset_write(request, error);
        }
        for (request, results) in markers_written {
            self.on_txn_markers(now, request, results);
        }
        for (request, error) in state_written {
            self.on_txn_state_written(now, request, error);
        }
    }

    /// The coordinator's records go out first, in one write, then its events and answers:
    /// an answer never goes out before what it depends on. On a broker the records are
    /// produced to the offsets partitions and the answers wait for the ISR
    /// (`coordination.rs`); a coordinator-only node persists them itself.
    fn drain_coordinator(&mut self, now: Millis) {
        let Some(coordinator) = &mut self.coordinator else {
            return;
        };
        let mut records = Vec::new();
        let mut rest = Vec::new();
        while let Some(output) = coordinator.poll_output() {
            let (request, response) = match output {
                GroupOutput::Persist(record) => {
                    records.push(record);
                    continue;
                }
                GroupOutput::Event(event) => {
                    rest.push((None, Output::Event(Event::Group(event))));
                    continue;
                }
                GroupOutput::JoinGroup { request, result } => {
                    (request, Response::JoinGroup(result))
                }
                GroupOutput::SyncGroup { request, result } => {
                    (request, Response::SyncGroup(result))
                }
            };
            if let Some(Waiting::GroupClient(to, partition)) = self.pending.remove(&request) {
                let answer = Output::Respond {
                    request: to,
                    response,
                };
                rest.push((partition, answer));
            }
        }
        if !records.is_empty() {
            if self.partitioned_groups() {
                self.write_group_records(now, records);
            } else {
                // Durable before any later output is acted on (the drain order): written.
                if let Some(coordinator) = &mut self.coordinator {
                    coordinator.handle_written(&records, true, now);
                }
                self.outputs.push_back(Output::PersistGroups(records));
            }
        }
        for (partition, output) in rest {
            let output = match partition {
                Some(partition) => self.group_writes.hold(partition, output),
                None => Some(output),
            };
            self.outputs.extend(output);
        }
    }
}

/// A topic's effective config: the broker's topic defaults under the topic's overrides
/// (overrides were validated by the controller; should one not parse, the defaults hold).
fn effective_config(broker: &BrokerConfig, topic: &TopicImage) -> TopicConfig {
    broker
        .topic_defaults
        .with_overrides(topic.configs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap_or_else(|_| broker.topic_defaults.clone())
}

fn refusal(e: crate::controller::CreateTopicError) -> Refusal {
    (e.code(), e.to_string())
}

fn init_producer_id(result: Result<i64, ErrorCode>) -> Response {
    match result {
        Ok(producer_id) => Response::InitProducerId {
            error: ErrorCode::NONE,
            producer_id,
            producer_epoch: 0,
        },
        Err(error) => Response::InitProducerId {
            error,
            producer_id: -1,
            producer_epoch: -1,
        },
    }
}

/// The events of one committed record, read against the image it was applied to.
fn record_events(image: &MetadataImage, record: &MetadataRecord, events: &mut Vec<Event>) {
    let name = |id| {
        image
            .topic_by_id(id)
            .map_or_else(|| "?".to_string(), |t| t.name.clone())
    };
    match record {
        MetadataRecord::FenceBroker(r) => events.push(Event::BrokerFenced {
            broker: r.broker_id,
        }),
        MetadataRecord::UnfenceBroker(r) => events.push(Event::BrokerUnfenced {
            broker: r.broker_id,
        }),
        MetadataRecord::Partition(r) => {
            let tp = TopicPartition::new(name(r.topic_id), r.partition as i32);
            events.push(Event::LeaderElected {
                tp: tp.clone(),
                leader: r.leader,
            });
            events.push(Event::IsrChanged {
                tp,
                isr: r.isr.clone(),
            });
        }
        MetadataRecord::PartitionChange(r) => {
            let tp = TopicPartition::new(name(r.topic_id), r.partition as i32);
            if let Some(leader) = r.leader {
                events.push(Event::LeaderElected {
                    tp: tp.clone(),
                    leader,
                });
            }
            if let Some(isr) = &r.isr {
                events.push(Event::IsrChanged {
                    tp,
                    isr: isr.clone(),
                });
            }
        }
        _ => {}
    }
}
