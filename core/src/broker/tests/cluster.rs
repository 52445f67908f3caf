//! The harness: three (or more) brokers and one controller in one process, with explicit time
//! and messages delivered by hand. It plays both shells' part: it sends each broker's replica
//! requests to their leaders and the answers back, takes AlterPartition requests to the
//! controller, and brings every broker in line with the metadata the controller commits.
//!
//! Faults are explicit: a broker can crash (its unsynced writes are lost, it restarts later
//! from what its disk kept), be isolated (it keeps running, but no message, heartbeat or
//! metadata reaches it or leaves it: a zombie), or be paused (it stops fetching, as a slow
//! follower). After every round of messages the harness checks the replication invariants
//! (see `invariants`), so every test checks them all the time.

use std::collections::{BTreeMap, VecDeque};

use crate::ErrorCode;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::batch::BatchBuilder;
use crate::broker::{
    Broker, FetchRequest, FetchResponse, Output, PartitionSettings, ProducePartition,
    ProduceRequest, ProduceResponse, ReplicaFetchSettings, ReplicaRequest, StorageFactory,
};
use crate::config::BrokerConfig;
use crate::controller::{BrokerId, Controller, CreateTopic, MetadataRecord, PartitionState};
use crate::group::RequestId;
use crate::storage::{FaultyStorage, MemoryStorage, StorageError};

/// Each broker's disk: one storage per partition, kept across crashes.
#[derive(Default)]
pub(super) struct Disks {
    pub(super) storages: BTreeMap<TopicPartition, FaultyStorage<MemoryStorage>>,
}

impl StorageFactory for Disks {
    type Storage = FaultyStorage<MemoryStorage>;

    fn open(&mut self, tp: &TopicPartition) -> Result<Self::Storage, StorageError> {
        match self.storages.remove(tp) {
            Some(storage) => Ok(storage),
            None => FaultyStorage::new(MemoryStorage::new()),
        }
    }

    fn remove(&mut self, tp: &TopicPartition) -> Result<(), StorageError> {
        self.storages.remove(tp);
        Ok(())
    }
}

pub(super) struct Node {
    /// `None` while crashed; its disk waits in `disks`.
    pub broker: Option<Broker<Disks>>,
    pub(super) disks: Option<Disks>,
    /// Cut off from everyone, but running.
    pub isolated: bool,
    /// Running and reachable, but its fetcher is stalled.
    pub paused: bool,
    /// Reachable by the other brokers but not by the controller: no heartbeats, no metadata.
    pub cut_from_controller: bool,
}

impl Node {
    pub(super) fn reachable(&self) -> bool {
        self.broker.is_some() && !self.isolated
    }

    /// Whether heartbeats, metadata and AlterPartition pass between it and the controller.
    pub(super) fn hears_controller(&self) -> bool {
        self.reachable() && !self.cut_from_controller
    }
}

/// A message on the harness's network.
enum Message {
    Request {
        from: BrokerId,
        request: ReplicaRequest,
    },
    Fetched {
        to: BrokerId,
        from: BrokerId,
        response: FetchResponse,
    },
    EpochEnds {
        to: BrokerId,
        from: BrokerId,
        answers: Vec<crate::broker::EpochEndOffset>,
    },
}

/// A produce the test client sent to the partition: what, and the answer once there is one.
#[derive(Clone, Debug)]
pub(super) struct Sent {
    pub acks: i16,
    pub values: Vec<String>,
    pub response: Option<ProduceResponse>,
}

pub(super) struct Cluster {
    pub now: Millis,
    pub controller: Controller,
    pub nodes: BTreeMap<BrokerId, Node>,
    network: VecDeque<Message>,
    /// Which replica fetch a broker's parked fetch answers: request id -> (follower, leader).
    replica_fetches: BTreeMap<RequestId, BrokerId>,
    pub sent: BTreeMap<RequestId, Sent>,
    next_request: u64,
    next_value: u64,
    last_heartbeat: Millis,
    pub fetch_settings: ReplicaFetchSettings,
    /// How many AlterPartition requests the controller accepted and refused.
    pub alter_partitions: (u32, u32),
    pub(super) durable: bool,
}

/// `replica.lag.time.max.ms` in these tests.
pub(super) const LAG_MAX_MS: u64 = 1_000;
/// Time advances in steps of this much.
pub(super) const STEP_MS: u64 = 10;

impl Cluster {
    /// Brokers `ids`, registered and unfenced, and one topic `t` with one partition on all of
    /// them (the first leads) and topic configs `configs`.
    pub fn new(ids: &[BrokerId], configs: &[(&str, &str)]) -> Cluster {
        Cluster::with_durability(ids, configs, false)
    }

    /// As [`Cluster::new`]; `durable` brokers acknowledge nothing before it is synced, and
    /// the harness flushes every broker once per round of messages, as the server does.
    pub fn with_durability(ids: &[BrokerId], configs: &[(&str, &str)], durable: bool) -> Cluster {
        let lag = LAG_MAX_MS.to_string();
        let pairs = [
            ("replica.lag.time.max.ms", lag.as_str()),
            ("auto.leader.rebalance.enable", "false"),
        ];
        let config = BrokerConfig::from_pairs(pairs.iter().copied()).expect("valid broker config");
        let fetch_settings = ReplicaFetchSettings {
            wait_max_ms: Millis(100),
            backoff_ms: Millis(50),
            request_timeout_ms: Millis(1_000),
            ..ReplicaFetchSettings::default()
        };
        let mut cluster = Cluster {
            now: Millis(1_000),
            controller: Controller::new(config, 7),
            nodes: BTreeMap::new(),
            network: VecDeque::new(),
            replica_fetches: BTreeMap::new(),
            sent: BTreeMap::new(),
            next_request: 0,
            next_value: 0,
            last_heartbeat: Millis(1_000),
            fetch_settings,
            alter_partitions: (0, 0),
            durable,
        };
        for &id in ids {
            cluster.nodes.insert(
                id,
                Node {
                    broker: None,
                    disks: Some(Disks::default()),
                    isolated: false,
                    paused: false,
                    cut_from_controller: false,
                },
            );
            cluster.start(id);
        }
        let request = CreateTopic {
            name: "t".into(),
            assignment: Some(vec![ids.to_vec()]),
            configs: configs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..CreateTopic::default()
        };
        let records = cluster
            .controller
            .create_topic(&request)
            .expect("topic created");
        cluster.commit(&records);
        cluster.settle();
        cluster
    }

    pub fn tp() -> TopicPartition {
        TopicPartition::new("t", 0)
    }

    pub fn broker(&self, id: BrokerId) -> &Broker<Disks> {
        self.nodes[&id].broker.as_ref().expect("broker is up")
    }

    pub fn broker_mut(&mut self, id: BrokerId) -> &mut Broker<Disks> {
        self.nodes
            .get_mut(&id)
            .and_then(|n| n.broker.as_mut())
            .expect("broker is up")
    }

    /// The controller's view of the partition.
    pub fn state(&self) -> PartitionState {
        self.controller
            .image()
            .partition("t", 0)
            .expect("partition exists")
            .clone()
    }

    pub fn leader(&self) -> BrokerId {
        self.state().leader
    }

    pub(super) fn heartbeat(&mut self, id: BrokerId) {
        let epoch = self
            .controller
            .image()
            .broker(id)
            .expect("registered")
            .broker_epoch;
        let records = self
            .controller
            .broker_heartbeat(self.now, id, epoch)
            .expect("heartbeat");
        self.commit(&records);
    }

    /// Metadata records were committed: every reachable broker applies the partition states
    /// the image now holds (as the server's `sync_partitions` does).
    pub(super) fn commit(&mut self, records: &[MetadataRecord]) {
        if records.is_empty() {
            return;
        }
        let now = self.now;
        let broker_config = self.controller.config().clone();
        let mut hosted = Vec::new();
        for (topic, index, state) in self.controller.image().partitions() {
            let config = self
                .controller
                .topic_config(&topic.name)
                .expect("topic exists");
            let settings = PartitionSettings::from_configs(&config, &broker_config);
            hosted.push((
                TopicPartition::new(topic.name.clone(), index as i32),
                state.clone(),
                settings,
            ));
        }
        for (&id, node) in self.nodes.iter_mut().filter(|(_, n)| n.hears_controller()) {
            let broker = node.broker.as_mut().expect("reachable");
            for (tp, state, settings) in hosted.iter().filter(|(_, s, _)| s.replicas.contains(&id))
            {
                broker
                    .apply_partition(tp, state, *settings, now)
                    .expect("partition opens");
            }
        }
    }

    /// The test client produces one batch of `count` fresh records to the controller's
    /// leader (or to `to`), and gets back the request id whose answer lands in `sent`.
    pub fn produce(&mut self, acks: i16, count: usize) -> RequestId {
        let leader = self.leader();
        self.produce_to(leader, acks, count)
    }

    pub fn produce_to(&mut self, to: BrokerId, acks: i16, count: usize) -> RequestId {
        let (records, values) = self.fresh_batch(BatchBuilder::new(), count);
        self.send_batch(to, acks, records, values)
    }

    /// One batch of `count` fresh records (`v1`, `v2`, ...) built on `builder` (an idempotent
    /// one, say), and the values in it.
    pub fn fresh_batch(
        &mut self,
        mut builder: BatchBuilder,
        count: usize,
    ) -> (Vec<u8>, Vec<String>) {
        let mut values = Vec::new();
        for _ in 0..count {
            self.next_value += 1;
            let value = format!("v{}", self.next_value);
            builder.push(self.now.0 as i64, None, Some(value.as_bytes()), &[]);
            values.push(value);
        }
        (builder.build(), values)
    }

    /// Sends `records` (one batch holding `values`) to `to`: a client's first send, or its
    /// retry of the very same bytes.
    pub fn send_batch(
        &mut self,
        to: BrokerId,
        acks: i16,
        records: Vec<u8>,
        values: Vec<String>,
    ) -> RequestId {
        let id = self.request_id();
        let tp = Cluster::tp();
        self.sent.insert(
            id,
            Sent {
                acks,
                values,
                response: None,
            },
        );
        let request = ProduceRequest {
            acks,
            timeout_ms: Millis(5_000),
            partitions: vec![ProducePartition { tp, records }],
        };
        let now = self.now;
        self.broker_mut(to).produce(id, request, now);
        self.settle();
        id
    }

    /// The error and base offset a produce was answered with, if it was.
    pub fn answer(&self, id: RequestId) -> Option<(ErrorCode, i64)> {
        let response = self.sent[&id].response.as_ref()?;
        let p = &response.partitions[0];
        Some((p.error, p.base_offset))
    }

    fn request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    /// Delivers messages until nothing moves: replica requests to leaders, answers back, ISR
    /// changes to the controller, the controller's records to everyone. Then checks the
    /// invariants.
    pub fn settle(&mut self) {
        for _ in 0..1_000 {
            let moved = self.round();
            super::invariants::check(self);
            if !moved {
                return;
            }
        }
        panic!("the cluster did not settle");
    }

    /// One round of messages; whether anything moved.
    fn round(&mut self) -> bool {
        let now = self.now;
        let mut moved = false;
        for (&id, node) in self
            .nodes
            .iter_mut()
            .filter(|(_, n)| n.reachable() && !n.paused)
        {
            let broker = node.broker.as_mut().expect("reachable");
            for request in broker.replica_requests(now) {
                self.network
                    .push_back(Message::Request { from: id, request });
            }
        }
        while let Some(message) = self.network.pop_front() {
            moved = true;
            self.deliver(message);
        }
        for node in self.nodes.values_mut() {
            if let Some(broker) = node.broker.as_mut() {
                broker.flush(now).expect("flush");
            }
        }
        moved |= self.drain_outputs();
        moved |= self.alter_partitions();
        moved
    }

    fn deliver(&mut self, message: Message) {
        let now = self.now;
        match message {
            Message::Request { from, request } => {
                let to = request.leader();
                if !self.nodes.get(&to).is_some_and(Node::reachable) {
                    self.broker_mut(from).on_replica_request_failed(to, now);
                    return;
                }
                match request {
                    ReplicaRequest::Fetch { request, .. } => self.deliver_fetch(from, to, request),
                    ReplicaRequest::OffsetForLeaderEpoch { request, .. } => {
                        let answers = self.broker(to).offset_for_leader_epoch(&request);
                        self.network.push_back(Message::EpochEnds {
                            to: from,
                            from: to,
                            answers,
                        });
                    }
                }
            }
            Message::Fetched { to, from, response } => {
                if self.nodes[&to].reachable() {
                    self.broker_mut(to)
                        .on_replica_fetch_response(from, response, now);
                }
            }
            Message::EpochEnds { to, from, answers } => {
                if self.nodes[&to].reachable() {
                    self.broker_mut(to)
                        .on_offset_for_leader_epoch_response(from, answers, now);
                }
            }
        }
    }

    fn deliver_fetch(&mut self, from: BrokerId, to: BrokerId, request: FetchRequest) {
        let id = self.request_id();
        self.replica_fetches.insert(id, from);
        let now = self.now;
        self.broker_mut(to).fetch(id, request, now);
    }

    /// Collects every broker's outputs: produce answers for the client, fetch answers onto
    /// the network (an isolated broker's answers are lost).
    fn drain_outputs(&mut self) -> bool {
        let mut moved = false;
        for (&id, node) in self.nodes.iter_mut() {
            let Some(broker) = node.broker.as_mut() else {
                continue;
            };
            while let Some(output) = broker.poll_output() {
                moved = true;
                match output {
                    Output::Produced { request, response } => {
                        let sent = self.sent.get_mut(&request).expect("the client sent it");
                        assert!(sent.response.is_none(), "a produce is answered once");
                        sent.response = Some(response);
                    }
                    Output::Fetched { request, response } => {
                        let follower = self
                            .replica_fetches
                            .remove(&request)
                            .expect("a replica fetch");
                        if !node.isolated {
                            self.network.push_back(Message::Fetched {
                                to: follower,
                                from: id,
                                response,
                            });
                        }
                    }
                }
            }
        }
        moved
    }

    /// Takes each reachable leader's ISR changes to the controller and its answers back.
    fn alter_partitions(&mut self) -> bool {
        let now = self.now;
        let mut requests = Vec::new();
        for (&id, node) in self.nodes.iter_mut().filter(|(_, n)| n.hears_controller()) {
            let broker = node.broker.as_mut().expect("reachable");
            requests.extend(
                broker
                    .alter_partition_requests(now)
                    .into_iter()
                    .map(|r| (id, r)),
            );
        }
        let moved = !requests.is_empty();
        for (id, request) in requests {
            let topic_id = self
                .controller
                .image()
                .topic(&request.tp.topic)
                .expect("topic")
                .id;
            let result = self
                .controller
                .alter_partition(&request.to_alter_partition(topic_id));
            let answer = match result {
                Ok(records) => {
                    self.alter_partitions.0 += 1;
                    self.commit(&records);
                    Ok(())
                }
                Err(e) => {
                    self.alter_partitions.1 += 1;
                    Err(e.code())
                }
            };
            self.broker_mut(id)
                .on_alter_partition_response(&request.tp, answer, now);
        }
        moved
    }

    /// Lets `ms` pass in steps: heartbeats from reachable brokers, the controller's and the
    /// brokers' timers, and the messages that follow.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now.plus(Millis(ms));
        while self.now < end {
            self.now = self.now.plus(Millis(STEP_MS)).min(end);
            let now = self.now;
            let interval = Millis(self.controller.config().broker_heartbeat_interval_ms);
            if now.since(self.last_heartbeat) >= interval {
                self.last_heartbeat = now;
                let live: Vec<BrokerId> = self
                    .nodes
                    .iter()
                    .filter(|(_, n)| n.hears_controller())
                    .map(|(id, _)| *id)
                    .collect();
                for id in live {
                    self.heartbeat(id);
                }
            }
            let records = self.controller.tick(now);
            self.commit(&records);
            for node in self.nodes.values_mut() {
                if let Some(broker) = node.broker.as_mut() {
                    broker.tick(now).expect("tick");
                }
            }
            self.settle();
        }
    }

    /// Advances until `done` holds, at most `ms`.
    pub fn advance_until(&mut self, ms: u64, done: impl Fn(&Cluster) -> bool) {
        let end = self.now.plus(Millis(ms));
        while !done(self) {
            assert!(self.now < end, "condition not reached within {ms} ms");
            self.advance(STEP_MS);
        }
    }
}
