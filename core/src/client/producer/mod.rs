//! The simulated producer: `send` puts a record in a per-partition batch (the partitioner
//! picks the partition), batches go to each partition's leader when `linger.ms` passed or
//! `batch.size` is reached, and every record ends in exactly one delivery report: delivered
//! (with its offset) or failed.
//!
//! As in the real clients, a batch whose request failed or timed out is sent again after
//! `retry.backoff.ms`, up to `retries` times and within `delivery.timeout.ms`. Without
//! idempotence a retry of a batch the broker did append (its answer was lost) is appended
//! again: a duplicate. With `enable.idempotence` the producer first gets an id and epoch
//! (InitProducerId) and numbers each partition's batches, so the broker answers a resend with
//! the original offsets instead.

mod accumulator;
mod config;
mod sender;

pub use accumulator::PendingRecord;
pub use config::{IDEMPOTENT_MAX_IN_FLIGHT, ProducerConfig};

use std::collections::{BTreeMap, VecDeque};

use accumulator::Accumulator;

use super::{
    Destination, MetadataResponse, Outgoing, PartitionMetadata, Request, RequestTracker, Response,
};
use crate::assignor::TopicPartition;
use crate::controller::BrokerId;
use crate::sim::rng::Rng;
use crate::{ErrorCode, Millis};

/// The producer's name for one `send`, carried by its delivery report.
pub type SendId = u64;

/// What the application learns: one report per record, and the retries on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProducerEvent {
    /// Acknowledged as `acks` asks. `offset` is -1 with acks=0 (nothing comes back).
    Delivered {
        id: SendId,
        tp: TopicPartition,
        offset: i64,
    },
    Failed {
        id: SendId,
        tp: Option<TopicPartition>,
        error: ErrorCode,
    },
    /// A batch goes out again (for the trace).
    Retrying {
        tp: TopicPartition,
        records: usize,
        attempt: u32,
        error: ErrorCode,
    },
    /// The broker gave this producer an id (idempotence).
    ProducerId {
        producer_id: i64,
        producer_epoch: i16,
    },
}

/// What an in-flight request was.
#[derive(Clone, Debug)]
enum InFlight {
    Metadata,
    InitProducerId,
    /// Each partition's batch in the request.
    Produce(Vec<(TopicPartition, u64)>),
}

/// A record waiting for its topic's metadata before it can be partitioned.
#[derive(Clone, Debug)]
struct Unpartitioned {
    topic: String,
    record: PendingRecord,
}

pub struct Producer {
    config: ProducerConfig,
    bootstrap: Vec<BrokerId>,
    /// Which bootstrap broker metadata requests go to next.
    bootstrap_index: usize,
    rng: Rng,
    metadata: BTreeMap<String, Vec<PartitionMetadata>>,
    /// Metadata should be fetched again (a leader moved, a topic is unknown).
    metadata_stale: bool,
    metadata_retry_at: Millis,
    producer_id: Option<(i64, i16)>,
    /// Next sequence number per partition (idempotence).
    next_sequence: BTreeMap<TopicPartition, i32>,
    /// How many batches of each partition have been sent at least once.
    next_send_index: BTreeMap<TopicPartition, u64>,
    waiting_for_metadata: VecDeque<Unpartitioned>,
    accumulator: Accumulator,
    requests: RequestTracker<InFlight>,
    next_send_id: SendId,
    outgoing: VecDeque<Outgoing>,
    events: VecDeque<ProducerEvent>,
    /// The time of the latest input: deadlines at or before it are not worth a timer.
    now: Millis,
}

impl Producer {
    /// A producer that knows the cluster through `bootstrap` (`bootstrap.servers`). `seed`
    /// drives the partitioner's random choices.
    pub fn new(config: ProducerConfig, bootstrap: Vec<BrokerId>, seed: u64) -> Producer {
        config.validate().expect("a valid producer config");
        assert!(!bootstrap.is_empty(), "bootstrap.servers is empty");
        Producer {
            config,
            bootstrap,
            bootstrap_index: 0,
            rng: Rng::new(seed),
            metadata: BTreeMap::new(),
            metadata_stale: true,
            metadata_retry_at: Millis::ZERO,
            producer_id: None,
            next_sequence: BTreeMap::new(),
            next_send_index: BTreeMap::new(),
            waiting_for_metadata: VecDeque::new(),
            accumulator: Accumulator::default(),
            requests: RequestTracker::default(),
            next_send_id: 0,
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            now: Millis::ZERO,
        }
    }

    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// Queues a record for `topic`; its delivery report comes later as a [`ProducerEvent`].
    pub fn send(&mut self, topic: &str, key: Option<&[u8]>, value: &[u8], now: Millis) -> SendId {
        self.send_record(topic, key, Some(value), now)
    }

    /// [`Producer::send`] with a value that may be null: `None` sends a tombstone, which
    /// deletes `key` from a compacted topic (Kafka's `ProducerRecord` with a null value).
    pub fn send_record(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        now: Millis,
    ) -> SendId {
        self.next_send_id += 1;
        let id = self.next_send_id;
        let record = PendingRecord {
            id,
            key: key.map(<[u8]>::to_vec),
            value: value.map(<[u8]>::to_vec),
            timestamp: now.0 as i64,
            enqueued: now,
        };
        self.waiting_for_metadata.push_back(Unpartitioned {
            topic: topic.to_owned(),
            record,
        });
        self.pump(now);
        id
    }

    /// Records not yet reported delivered or failed.
    pub fn pending_count(&self) -> usize {
        self.waiting_for_metadata.len() + self.accumulator.record_count()
    }

    /// Handles the answer to request `correlation_id`.
    pub fn handle_response(&mut self, correlation_id: u64, response: Response, now: Millis) {
        let Some((_, context)) = self.requests.finish(correlation_id) else {
            return; // timed out already
        };
        match (context, response) {
            (InFlight::Metadata, Response::Metadata(metadata)) => self.on_metadata(metadata),
            (
                InFlight::InitProducerId,
                Response::InitProducerId {
                    error,
                    producer_id,
                    producer_epoch,
                },
            ) => {
                if error == ErrorCode::NONE {
                    self.producer_id = Some((producer_id, producer_epoch));
                    self.events.push_back(ProducerEvent::ProducerId {
                        producer_id,
                        producer_epoch,
                    });
                }
            }
            (InFlight::Produce(batches), Response::Produce(response)) => {
                for (tp, batch_id) in batches {
                    let result = response.partitions.iter().find(|p| p.tp == tp);
                    match result {
                        Some(p) if p.error == ErrorCode::NONE => {
                            self.delivered(&tp, batch_id, p.base_offset)
                        }
                        Some(p) => self.batch_failed(&tp, batch_id, p.error, now),
                        None => {
                            self.batch_failed(&tp, batch_id, ErrorCode::UNKNOWN_SERVER_ERROR, now)
                        }
                    }
                }
            }
            (context, response) => panic!("response {} to {context:?}", response.name()),
        }
        self.pump(now);
    }

    /// Lets time pass: requests time out, batches linger out or expire.
    pub fn tick(&mut self, now: Millis) {
        for (_, context) in self.requests.expire(now) {
            self.request_lost(context, ErrorCode::REQUEST_TIMED_OUT, now);
        }
        self.pump(now);
    }

    /// The connection to `to` broke (the broker is down): what was in flight on it failed,
    /// and will be retried after fresh metadata, as a client does on a socket error.
    pub fn handle_disconnect(&mut self, to: Destination, now: Millis) {
        for context in self.requests.fail_to(to) {
            self.request_lost(context, ErrorCode::NETWORK_EXCEPTION, now);
        }
        self.metadata_stale = true;
        self.pump(now);
    }

    fn request_lost(&mut self, context: InFlight, error: ErrorCode, now: Millis) {
        match context {
            InFlight::Metadata | InFlight::InitProducerId => self.next_bootstrap(),
            InFlight::Produce(batches) => {
                self.metadata_stale = true;
                for (tp, batch_id) in batches {
                    self.batch_failed(&tp, batch_id, error, now);
                }
            }
        }
    }

    /// When [`Producer::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<Millis> {
        let expiry = self
            .accumulator
            .queues
            .values()
            .flatten()
            .filter(|b| !b.in_flight)
            .map(|b| b.oldest().plus(self.config.delivery_timeout_ms))
            .min();
        let waiting = self
            .waiting_for_metadata
            .front()
            .map(|u| u.record.enqueued.plus(self.config.delivery_timeout_ms));
        let unknown_topic = self
            .waiting_for_metadata
            .iter()
            .any(|u| !self.metadata.contains_key(&u.topic));
        let metadata = ((self.metadata_stale || unknown_topic)
            && self
                .requests
                .iter()
                .all(|c| !matches!(c, InFlight::Metadata)))
        .then_some(self.metadata_retry_at);
        [
            self.requests.next_deadline(),
            self.accumulator.next_ready(self.config.linger_ms, self.now),
            expiry,
            waiting,
            metadata,
        ]
        .into_iter()
        .flatten()
        .filter(|&t| t > self.now)
        .min()
    }

    pub fn poll_outgoing(&mut self) -> Option<Outgoing> {
        self.outgoing.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<ProducerEvent> {
        self.events.pop_front()
    }

    fn next_bootstrap(&mut self) {
        self.bootstrap_index = (self.bootstrap_index + 1) % self.bootstrap.len();
    }

    fn send_request(&mut self, to: Destination, request: Request, context: InFlight, now: Millis) {
        let correlation_id =
            self.requests
                .start(to, now.plus(self.config.request_timeout_ms), context);
        self.outgoing.push_back(Outgoing {
            to,
            correlation_id,
            request,
        });
    }

    fn on_metadata(&mut self, metadata: MetadataResponse) {
        for (topic, partitions) in metadata.topics {
            self.metadata.insert(topic, partitions);
        }
        let offline = self.metadata.values().flatten().any(|p| p.leader < 0);
        self.metadata_stale = offline;
    }

    /// Everything that can move now moves: metadata and producer id requests, partitioning,
    /// expiry, and sending ready batches.
    fn pump(&mut self, now: Millis) {
        self.now = now;
        self.expire(now);
        let asking_metadata = self
            .requests
            .iter()
            .any(|c| matches!(c, InFlight::Metadata));
        let unknown_topic = self
            .waiting_for_metadata
            .iter()
            .any(|u| !self.metadata.contains_key(&u.topic));
        if (self.metadata_stale || unknown_topic)
            && !asking_metadata
            && now >= self.metadata_retry_at
        {
            let mut topics: Vec<String> = self.metadata.keys().cloned().collect();
            topics.extend(self.waiting_for_metadata.iter().map(|u| u.topic.clone()));
            topics.sort();
            topics.dedup();
            let broker = self.bootstrap[self.bootstrap_index];
            self.metadata_retry_at = now.plus(self.config.retry_backoff_ms);
            self.send_request(
                Destination::Broker(broker),
                Request::Metadata { topics },
                InFlight::Metadata,
                now,
            );
        }
        if self.config.enable_idempotence && self.producer_id.is_none() {
            if !self
                .requests
                .iter()
                .any(|c| matches!(c, InFlight::InitProducerId))
            {
                let broker = self.bootstrap[self.bootstrap_index];
                self.send_request(
                    Destination::Broker(broker),
                    Request::InitProducerId,
                    InFlight::InitProducerId,
                    now,
                );
            }
            return;
        }
        self.partition_waiting(now);
        self.drain(now);
    }

    /// Moves records whose topic is known into batches.
    fn partition_waiting(&mut self, now: Millis) {
        let mut still_waiting = VecDeque::new();
        while let Some(waiting) = self.waiting_for_metadata.pop_front() {
            let Some(partitions) = self.metadata.get(&waiting.topic) else {
                still_waiting.push_back(waiting);
                continue;
            };
            let count = partitions.len() as u32;
            let rng = &mut self.rng;
            let mut choose = |n: u32| rng.below(u64::from(n)) as u32;
            let partition = self.config.partitioner.partition(
                &waiting.topic,
                waiting.record.key.as_deref(),
                count,
                &mut choose,
            );
            let tp = TopicPartition::new(waiting.topic.clone(), partition as i32);
            let full =
                self.accumulator
                    .append(tp, waiting.record, self.config.batch_size_bytes, now);
            if full {
                self.config
                    .partitioner
                    .batch_sent(&waiting.topic, partition, count, &mut choose);
            }
        }
        self.waiting_for_metadata = still_waiting;
    }
}
