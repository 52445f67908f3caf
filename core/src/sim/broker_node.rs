//! A broker process: a [`Broker`] over its simulated disk, its copy of the metadata log, and
//! the translation between network messages and the broker's requests and outputs.
//!
//! The disk outlives the process: [`BrokerNode::crash`] drops the broker (and every request
//! it had parked) and cuts the disk's unsynced tails; [`BrokerNode::restart`] opens a new
//! broker on the same disk, which recovers its logs and registers with the controller again.

use std::collections::BTreeMap;

use super::disk::SimDisk;
use super::message::Message;
use super::node::NodeId;
use super::observe::{self, Observed};
use super::outbox::Outbox;
use super::rng::Rng;
use super::trace::TraceEvent;
use crate::assignor::TopicPartition;
use crate::broker::{
    Broker, BrokerSettings, Output, PartitionSettings, ReplicaFetchSettings, ReplicaRequest,
};
use crate::client::{MetadataResponse, PartitionMetadata, Request, Response};
use crate::config::BrokerConfig;
use crate::controller::{BrokerId, MetadataImage, PartitionState};
use crate::group::RequestId;
use crate::{ErrorCode, Millis};

/// Producer ids are handed out in a block per broker (as brokers get blocks from the
/// controller since KIP-730), so two brokers never give out the same id.
pub const PRODUCER_ID_BLOCK_SIZE: i64 = 1_000_000;

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

/// Who waits for an answer the broker gives later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waiting {
    /// A client, and the correlation id of its request.
    Client(NodeId, u64),
    /// A follower's replica fetch.
    Follower(BrokerId),
}

fn new_broker(id: BrokerId, durable: bool, disk: &SimDisk) -> Broker<SimDisk> {
    let mut broker = Broker::new(
        BrokerSettings {
            node_id: id,
            durable,
        },
        disk.clone(),
    );
    broker.set_replica_fetch_settings(REPLICA_FETCH_SETTINGS);
    broker
}

pub struct BrokerNode {
    pub id: BrokerId,
    config: BrokerConfig,
    durable: bool,
    pub disk: SimDisk,
    /// `None` while crashed.
    pub broker: Option<Broker<SimDisk>>,
    /// Bumped at every restart: messages addressed to an earlier life are dropped.
    pub incarnation: u32,
    pub image: MetadataImage,
    metadata_offset: u64,
    broker_epoch: Option<u64>,
    applied: BTreeMap<TopicPartition, PartitionState>,
    next_heartbeat: Millis,
    /// Requests the broker answers later, by its request id.
    pending: BTreeMap<RequestId, Waiting>,
    next_request: u64,
    next_producer_id: i64,
    observed: BTreeMap<TopicPartition, Observed>,
}

impl BrokerNode {
    pub fn new(id: BrokerId, config: BrokerConfig, durable: bool) -> BrokerNode {
        let disk = SimDisk::default();
        let broker = new_broker(id, durable, &disk);
        BrokerNode {
            id,
            config,
            durable,
            disk,
            broker: Some(broker),
            incarnation: 0,
            image: MetadataImage::default(),
            metadata_offset: 0,
            broker_epoch: None,
            applied: BTreeMap::new(),
            next_heartbeat: Millis::ZERO,
            pending: BTreeMap::new(),
            next_request: 0,
            next_producer_id: i64::from(id) * PRODUCER_ID_BLOCK_SIZE,
            observed: BTreeMap::new(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.broker.is_some()
    }

    fn node(&self) -> NodeId {
        NodeId::Broker(self.id)
    }

    /// Takes the records the controller committed at bootstrap, as if fetched.
    pub fn bootstrap(
        &mut self,
        broker_epoch: u64,
        records: &[crate::controller::MetadataRecord],
        now: Millis,
        out: &mut Outbox,
    ) {
        self.broker_epoch = Some(broker_epoch);
        self.apply_metadata(0, records, now, out);
    }

    /// The process dies: parked requests vanish with it, the disk loses unsynced data.
    pub fn crash(&mut self, rng: &mut Rng) -> u64 {
        self.broker = None;
        self.pending.clear();
        self.observed.clear();
        self.disk.crash(rng)
    }

    /// A new process on the same disk: it knows no metadata and registers again at once.
    pub fn restart(&mut self, now: Millis) {
        assert!(self.broker.is_none(), "restart of a running broker");
        self.broker = Some(new_broker(self.id, self.durable, &self.disk));
        self.incarnation += 1;
        self.image = MetadataImage::default();
        self.metadata_offset = 0;
        self.broker_epoch = None;
        self.applied.clear();
        self.next_heartbeat = now;
    }

    pub fn handle(&mut self, from: NodeId, message: Message, now: Millis, out: &mut Outbox) {
        if self.broker.is_none() {
            return;
        }
        match message {
            Message::ClientRequest {
                correlation_id,
                request,
            } => self.handle_client(from, correlation_id, request, now, out),
            Message::BrokerHeartbeatResponse {
                broker_epoch,
                from_offset,
                records,
            } => {
                self.broker_epoch = broker_epoch;
                self.apply_metadata(from_offset, &records, now, out);
            }
            Message::MetadataPush {
                from_offset,
                records,
            } => self.apply_metadata(from_offset, &records, now, out),
            Message::ReplicaFetch { request } => {
                let NodeId::Broker(follower) = from else {
                    panic!("a replica fetch from {from}")
                };
                let id = self.next_request_id();
                self.pending.insert(id, Waiting::Follower(follower));
                self.broker.as_mut().expect("up").fetch(id, request, now);
            }
            Message::ReplicaFetchResponse { response } => {
                let NodeId::Broker(leader) = from else {
                    panic!("a replica fetch answer from {from}")
                };
                self.broker
                    .as_mut()
                    .expect("up")
                    .on_replica_fetch_response(leader, response, now);
            }
            Message::OffsetForLeaderEpoch { request } => {
                let answers = self
                    .broker
                    .as_ref()
                    .expect("up")
                    .offset_for_leader_epoch(&request);
                out.send(
                    self.node(),
                    from,
                    Message::OffsetForLeaderEpochResponse { answers },
                );
            }
            Message::OffsetForLeaderEpochResponse { answers } => {
                let NodeId::Broker(leader) = from else {
                    panic!("epochs from {from}")
                };
                self.broker
                    .as_mut()
                    .expect("up")
                    .on_offset_for_leader_epoch_response(leader, answers, now);
            }
            Message::AlterPartitionResponse { tp, result } => {
                self.broker
                    .as_mut()
                    .expect("up")
                    .on_alter_partition_response(&tp, result, now);
            }
            other => panic!("broker-{} got {}", self.id, other.summary()),
        }
        self.drain(now, out);
    }

    pub fn tick(&mut self, now: Millis, out: &mut Outbox) {
        let Some(broker) = &mut self.broker else {
            return;
        };
        // Storage in the simulator never fails on its own; an error here is a bug.
        broker.tick(now).expect("simulated storage does not fail");
        if now >= self.next_heartbeat {
            self.next_heartbeat = now.plus(Millis(self.config.broker_heartbeat_interval_ms));
            let heartbeat = Message::BrokerHeartbeat {
                broker_id: self.id,
                broker_epoch: self.broker_epoch,
                metadata_offset: self.metadata_offset,
            };
            out.send(self.node(), NodeId::Controller, heartbeat);
        }
        self.drain(now, out);
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        let broker = self.broker.as_ref()?;
        Some(
            broker
                .next_deadline()
                .map_or(self.next_heartbeat, |d| d.min(self.next_heartbeat)),
        )
    }

    fn next_request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    fn handle_client(
        &mut self,
        from: NodeId,
        correlation_id: u64,
        request: Request,
        now: Millis,
        out: &mut Outbox,
    ) {
        let broker = self.broker.as_mut().expect("checked by the caller");
        let respond = |out: &mut Outbox, response: Response| {
            out.send(
                NodeId::Broker(broker.node_id()),
                from,
                Message::ClientResponse {
                    correlation_id,
                    response,
                },
            );
        };
        match request {
            Request::Metadata { topics } => {
                let response = metadata_response(&self.image, &topics);
                respond(out, Response::Metadata(response));
            }
            Request::InitProducerId => {
                let producer_id = self.next_producer_id;
                self.next_producer_id += 1;
                respond(
                    out,
                    Response::InitProducerId {
                        error: ErrorCode::NONE,
                        producer_id,
                        producer_epoch: 0,
                    },
                );
            }
            Request::ListOffsets(partitions) => {
                let listed = broker.list_offsets(&partitions);
                respond(out, Response::ListOffsets(listed));
            }
            Request::Produce(produce) => {
                self.next_request += 1;
                let id = RequestId(self.next_request);
                if produce.acks != 0 {
                    self.pending
                        .insert(id, Waiting::Client(from, correlation_id));
                }
                broker.produce(id, produce, now);
            }
            Request::Fetch(fetch) => {
                self.next_request += 1;
                let id = RequestId(self.next_request);
                self.pending
                    .insert(id, Waiting::Client(from, correlation_id));
                broker.fetch(id, fetch, now);
            }
            other => panic!("broker-{} got a group request {}", self.id, other.name()),
        }
    }

    /// Applies metadata records starting at log offset `from_offset` (ignoring any already
    /// applied), then hands every changed partition this broker hosts to the broker.
    fn apply_metadata(
        &mut self,
        from_offset: u64,
        records: &[crate::controller::MetadataRecord],
        now: Millis,
        out: &mut Outbox,
    ) {
        if from_offset > self.metadata_offset {
            return; // a gap: the next heartbeat asks again from where this broker is
        }
        let skip = (self.metadata_offset - from_offset) as usize;
        for record in records.iter().skip(skip) {
            self.image.apply(record);
            self.metadata_offset += 1;
        }
        let Some(broker) = &mut self.broker else {
            return;
        };
        let hosted: Vec<(TopicPartition, PartitionState, PartitionSettings)> = self
            .image
            .replicas_on(self.id)
            .map(|(topic, index, state)| {
                let topic_config = self
                    .config
                    .topic_defaults
                    .with_overrides(topic.configs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .unwrap_or_else(|_| self.config.topic_defaults.clone());
                let settings = PartitionSettings::from_configs(&topic_config, &self.config);
                (
                    TopicPartition::new(topic.name.clone(), index as i32),
                    state.clone(),
                    settings,
                )
            })
            .collect();
        for (tp, state, settings) in hosted {
            if self.applied.get(&tp) == Some(&state) {
                continue;
            }
            let report = broker
                .apply_partition(&tp, &state, settings, now)
                .expect("simulated storage does not fail");
            if let Some(report) = report
                && report.truncated.is_some()
            {
                out.trace(TraceEvent::Fault {
                    description: format!(
                        "broker-{} recovery cut a torn tail of {}-{}",
                        self.id, tp.topic, tp.partition
                    ),
                });
            }
            self.applied.insert(tp, state);
        }
    }

    /// Delivers the broker's answers, sends its replica fetches and ISR changes, and traces
    /// what moved in its partitions.
    fn drain(&mut self, now: Millis, out: &mut Outbox) {
        let node = self.node();
        let Some(broker) = &mut self.broker else {
            return;
        };
        while let Some(output) = broker.poll_output() {
            let (request, message) = match output {
                Output::Produced { request, response } => {
                    (request, Err(Response::Produce(response)))
                }
                Output::Fetched { request, response } => (request, Ok(response)),
            };
            match (self.pending.remove(&request), message) {
                (Some(Waiting::Client(to, correlation_id)), Err(response)) => {
                    out.send(
                        node,
                        to,
                        Message::ClientResponse {
                            correlation_id,
                            response,
                        },
                    );
                }
                (Some(Waiting::Client(to, correlation_id)), Ok(response)) => {
                    let response = Response::Fetch(response);
                    out.send(
                        node,
                        to,
                        Message::ClientResponse {
                            correlation_id,
                            response,
                        },
                    );
                }
                (Some(Waiting::Follower(follower)), Ok(response)) => {
                    out.send(
                        node,
                        NodeId::Broker(follower),
                        Message::ReplicaFetchResponse { response },
                    );
                }
                (Some(Waiting::Follower(_)), Err(_)) => unreachable!("followers only fetch"),
                (None, _) => {}
            }
        }
        for request in broker.replica_requests(now) {
            let (leader, message) = match request {
                ReplicaRequest::Fetch { leader, request } => {
                    (leader, Message::ReplicaFetch { request })
                }
                ReplicaRequest::OffsetForLeaderEpoch { leader, request } => {
                    (leader, Message::OffsetForLeaderEpoch { request })
                }
            };
            out.send(node, NodeId::Broker(leader), message);
        }
        for change in broker.alter_partition_requests(now) {
            // The topic may be gone from this broker's metadata; the request then has no target.
            if let Some(topic) = self.image.topic(&change.tp.topic) {
                let request = change.to_alter_partition(topic.id);
                out.send(
                    node,
                    NodeId::Controller,
                    Message::AlterPartition {
                        tp: change.tp.clone(),
                        request,
                    },
                );
            }
        }
        self.observe(out);
    }

    fn observe(&mut self, out: &mut Outbox) {
        if let Some(broker) = &self.broker {
            observe::observe(self.id, broker, &mut self.observed, out);
        }
    }
}

/// A Metadata answer from a broker's copy of the metadata.
fn metadata_response(image: &MetadataImage, topics: &[String]) -> MetadataResponse {
    let brokers = image.brokers().map(|b| b.broker_id).collect();
    let topics = topics
        .iter()
        .filter_map(|name| {
            let topic = image.topic(name)?;
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let live = image.is_live(p.leader);
                    PartitionMetadata {
                        leader: if live { p.leader } else { -1 },
                        leader_epoch: p.leader_epoch,
                    }
                })
                .collect();
            Some((name.clone(), partitions))
        })
        .collect();
    MetadataResponse { brokers, topics }
}
