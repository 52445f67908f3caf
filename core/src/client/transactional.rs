//! The simulated transactional producer, as the Java client's `KafkaProducer` with a
//! `transactional.id` behaves (KIP-98): `initTransactions` finds the coordinator
//! (FindCoordinator, key type 1) and gets the producer id and epoch (InitProducerId, which
//! fences an older instance with the same id and aborts its open transaction);
//! `beginTransaction`; each partition is added (AddPartitionsToTxn) before its first batch is
//! produced; `sendOffsetsToTransaction` is AddOffsetsToTxn and then TxnOffsetCommit to the
//! group's coordinator; `commitTransaction` / `abortTransaction` wait for the batches in flight
//! and send EndTxn. A producer fenced (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH) stops for
//! good, as the Java client's does.
//!
//! Simplifications, on purpose: the application names each record's partition, and one batch
//! per partition is in flight at a time (its resend after a lost answer keeps its sequence,
//! so the broker answers it as a duplicate). Transactional requests go one at a time, as the
//! Java client's `TransactionManager` sends them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{Destination, MetadataResponse, Outgoing, Request, RequestTracker, Response};
use crate::assignor::TopicPartition;
use crate::batch::BatchBuilder;
use crate::broker::{ACKS_ALL, ProducePartition, ProduceRequest, ProduceResponse};
use crate::controller::BrokerId;
use crate::group::CommitOffset;
use crate::{ErrorCode, Millis};

/// The producer's name for one `send`, carried by its delivery report.
pub type TxnSendId = u64;

/// Settings, with the Java client's names.
#[derive(Clone, Debug)]
pub struct TransactionalConfig {
    /// `transactional.id`.
    pub transactional_id: String,
    /// `transaction.timeout.ms` (the Java client's default: 60 s).
    pub transaction_timeout_ms: i64,
    /// `request.timeout.ms`.
    pub request_timeout_ms: Millis,
    /// `retry.backoff.ms`.
    pub retry_backoff_ms: Millis,
}

impl TransactionalConfig {
    pub fn new(transactional_id: &str) -> TransactionalConfig {
        TransactionalConfig {
            transactional_id: transactional_id.to_string(),
            transaction_timeout_ms: 60_000,
            request_timeout_ms: Millis(30_000),
            retry_backoff_ms: Millis(100),
        }
    }
}

/// What the application learns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnEvent {
    /// `initTransactions` returned: the id and epoch of this instance.
    Initialized {
        producer_id: i64,
        producer_epoch: i16,
    },
    /// A record's batch was appended (not yet committed).
    Delivered {
        id: TxnSendId,
        tp: TopicPartition,
        offset: i64,
    },
    /// `commitTransaction` returned.
    Committed,
    /// `abortTransaction` returned.
    Aborted,
    /// A newer instance has the transactional id (or the coordinator aborted this one's
    /// transaction on timeout and bumped the epoch): the producer stops.
    Fenced { error: ErrorCode },
    /// An error the transaction cannot survive: the application must abort (`fatal`: the
    /// producer itself cannot go on).
    Error { error: ErrorCode, fatal: bool },
}

/// Where the producer is, as the Java client's `TransactionManager.State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnPhase {
    Uninitialized,
    Initializing,
    Ready,
    InTransaction,
    Committing,
    Aborting,
    Fenced,
    FatalError,
}

/// `sendOffsetsToTransaction`'s work, step by step.
#[derive(Clone, Debug)]
struct PendingOffsets {
    group_id: String,
    generation_id: i32,
    member_id: String,
    offsets: Vec<(TopicPartition, i64)>,
    added: bool,
    coordinator: Option<BrokerId>,
}

#[derive(Clone, Debug)]
enum InFlight {
    Metadata,
    FindCoordinator,
    InitProducerId,
    AddPartitions(Vec<TopicPartition>),
    AddOffsets,
    FindGroupCoordinator,
    TxnOffsetCommit,
    EndTxn,
    Produce(TopicPartition),
}

/// A batch sent and not yet answered, kept whole for its resend.
#[derive(Clone, Debug)]
struct SentBatch {
    ids: Vec<TxnSendId>,
    bytes: Vec<u8>,
    /// Sent on its way now (false: waits for a resend).
    in_flight: bool,
}

type Record = (TxnSendId, Option<Vec<u8>>, Vec<u8>);

/// See the module docs.
pub struct TransactionalProducer {
    config: TransactionalConfig,
    bootstrap: Vec<BrokerId>,
    bootstrap_index: usize,
    phase: TxnPhase,
    coordinator: Option<BrokerId>,
    producer: Option<(i64, i16)>,
    leaders: BTreeMap<TopicPartition, BrokerId>,
    metadata_stale: bool,
    /// Partitions in the open transaction (AddPartitionsToTxn answered).
    added: BTreeSet<TopicPartition>,
    /// Records not yet in a batch, by partition.
    unsent: BTreeMap<TopicPartition, Vec<Record>>,
    sent: BTreeMap<TopicPartition, SentBatch>,
    next_sequence: BTreeMap<TopicPartition, i32>,
    offsets: Option<PendingOffsets>,
    /// The transactional request in flight (one at a time) is tracked in `requests` too.
    control_in_flight: bool,
    control_retry_at: Millis,
    requests: RequestTracker<InFlight>,
    next_send_id: TxnSendId,
    outgoing: VecDeque<Outgoing>,
    events: VecDeque<TxnEvent>,
}

impl TransactionalProducer {
    pub fn new(config: TransactionalConfig, bootstrap: Vec<BrokerId>) -> TransactionalProducer {
        assert!(!bootstrap.is_empty(), "bootstrap.servers is empty");
        TransactionalProducer {
            config,
            bootstrap,
            bootstrap_index: 0,
            phase: TxnPhase::Uninitialized,
            coordinator: None,
            producer: None,
            leaders: BTreeMap::new(),
            metadata_stale: true,
            added: BTreeSet::new(),
            unsent: BTreeMap::new(),
            sent: BTreeMap::new(),
            next_sequence: BTreeMap::new(),
            offsets: None,
            control_in_flight: false,
            control_retry_at: Millis::ZERO,
            requests: RequestTracker::default(),
            next_send_id: 0,
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn phase(&self) -> TxnPhase {
        self.phase
    }

    /// The id and epoch once initialized.
    pub fn producer_id(&self) -> Option<(i64, i16)> {
        self.producer
    }

    /// `initTransactions`: [`TxnEvent::Initialized`] comes when it is done.
    pub fn init_transactions(&mut self, now: Millis) {
        if self.phase == TxnPhase::Uninitialized {
            self.phase = TxnPhase::Initializing;
        }
        self.pump(now);
    }

    /// `beginTransaction` (only when [`TxnPhase::Ready`]; false otherwise).
    pub fn begin_transaction(&mut self) -> bool {
        if self.phase != TxnPhase::Ready {
            return false;
        }
        self.phase = TxnPhase::InTransaction;
        self.added.clear();
        self.offsets = None;
        true
    }

    /// `send` within the open transaction, to an explicit partition. `None` outside one.
    pub fn send(
        &mut self,
        tp: TopicPartition,
        key: Option<&[u8]>,
        value: &[u8],
        now: Millis,
    ) -> Option<TxnSendId> {
        if self.phase != TxnPhase::InTransaction {
            return None;
        }
        let id = self.next_send_id;
        self.next_send_id += 1;
        self.unsent
            .entry(tp)
            .or_default()
            .push((id, key.map(<[u8]>::to_vec), value.to_vec()));
        self.pump(now);
        Some(id)
    }

    /// `sendOffsetsToTransaction`: the consumer's next offsets, committed with the
    /// transaction. `generation_id`/`member_id` are the consumer's group metadata (KIP-447).
    pub fn send_offsets_to_transaction(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        offsets: Vec<(TopicPartition, i64)>,
        now: Millis,
    ) -> bool {
        if self.phase != TxnPhase::InTransaction || offsets.is_empty() {
            return false;
        }
        self.offsets = Some(PendingOffsets {
            group_id: group_id.to_string(),
            generation_id,
            member_id: member_id.to_string(),
            offsets,
            added: false,
            coordinator: None,
        });
        self.pump(now);
        true
    }

    /// `commitTransaction`: [`TxnEvent::Committed`] once EndTxn is answered.
    pub fn commit_transaction(&mut self, now: Millis) -> bool {
        if self.phase != TxnPhase::InTransaction {
            return false;
        }
        self.phase = TxnPhase::Committing;
        self.pump(now);
        true
    }

    /// `abortTransaction`: records not yet sent are dropped; [`TxnEvent::Aborted`] once EndTxn
    /// is answered.
    pub fn abort_transaction(&mut self, now: Millis) -> bool {
        if !matches!(self.phase, TxnPhase::InTransaction | TxnPhase::Committing) {
            return false;
        }
        self.phase = TxnPhase::Aborting;
        self.unsent.clear();
        self.offsets = None;
        self.pump(now);
        true
    }

    pub fn poll_outgoing(&mut self) -> Option<Outgoing> {
        self.outgoing.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<TxnEvent> {
        self.events.pop_front()
    }

    /// Whether events wait to be polled.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        let resend = self.sent.values().any(|b| !b.in_flight);
        let retry = ((!self.control_in_flight && self.wants_control()) || resend)
            .then_some(self.control_retry_at);
        [self.requests.next_deadline(), retry]
            .into_iter()
            .flatten()
            .min()
    }

    /// Requests past `request.timeout.ms` fail; backoffs end.
    pub fn tick(&mut self, now: Millis) {
        for (_, context) in self.requests.expire(now) {
            self.failed(context, now);
        }
        self.pump(now);
    }

    /// The connection to `peer` broke: its requests fail.
    pub fn handle_disconnect(&mut self, peer: Destination, now: Millis) {
        for context in self.requests.fail_to(peer) {
            self.failed(context, now);
        }
        self.pump(now);
    }

    pub fn handle_response(&mut self, correlation_id: u64, response: Response, now: Millis) {
        let Some((_, context)) = self.requests.finish(correlation_id) else {
            return;
        };
        if !matches!(context, InFlight::Metadata | InFlight::Produce(_)) {
            self.control_in_flight = false;
        }
        match (context, response) {
            (InFlight::Metadata, Response::Metadata(metadata)) => self.on_metadata(metadata),
            (InFlight::FindCoordinator, Response::FindCoordinator(found)) => match found {
                Ok(id) => self.coordinator = Some(id),
                Err(error) => self.retry_control(error, now),
            },
            (
                InFlight::InitProducerId,
                Response::InitProducerId {
                    error,
                    producer_id,
                    producer_epoch,
                },
            ) => {
                if error == ErrorCode::NONE {
                    self.producer = Some((producer_id, producer_epoch));
                    self.next_sequence.clear();
                    self.phase = TxnPhase::Ready;
                    self.events.push_back(TxnEvent::Initialized {
                        producer_id,
                        producer_epoch,
                    });
                } else {
                    self.on_control_error(error, now);
                }
            }
            (InFlight::AddPartitions(asked), Response::AddPartitionsToTxn(results)) => {
                let error = results
                    .iter()
                    .map(|(_, e)| *e)
                    .find(|e| *e != ErrorCode::NONE);
                match error {
                    None => self.added.extend(asked),
                    Some(error) => self.on_control_error(error, now),
                }
            }
            (InFlight::AddOffsets, Response::AddOffsetsToTxn(error)) => {
                if error == ErrorCode::NONE {
                    if let Some(o) = &mut self.offsets {
                        o.added = true;
                    }
                } else {
                    self.on_control_error(error, now);
                }
            }
            (InFlight::FindGroupCoordinator, Response::FindCoordinator(found)) => match found {
                Ok(id) => {
                    if let Some(o) = &mut self.offsets {
                        o.coordinator = Some(id);
                    }
                }
                Err(_) => self.control_retry_at = now.plus(self.config.retry_backoff_ms),
            },
            (InFlight::TxnOffsetCommit, Response::TxnOffsetCommit(results)) => {
                let error = results
                    .iter()
                    .map(|(_, e)| *e)
                    .find(|e| *e != ErrorCode::NONE);
                match error {
                    None => self.offsets = None,
                    // The Java client's `TxnOffsetCommitHandler`: the group coordinator is
                    // looked up again and the offsets sent again.
                    Some(
                        ErrorCode::NOT_COORDINATOR
                        | ErrorCode::COORDINATOR_NOT_AVAILABLE
                        | ErrorCode::REQUEST_TIMED_OUT,
                    ) => {
                        if let Some(o) = &mut self.offsets {
                            o.coordinator = None;
                        }
                        self.control_retry_at = now.plus(self.config.retry_backoff_ms);
                    }
                    Some(error) => self.on_control_error(error, now),
                }
            }
            (InFlight::EndTxn, Response::EndTxn(error)) => {
                if error == ErrorCode::NONE {
                    self.end_done();
                } else {
                    self.on_control_error(error, now);
                }
            }
            (InFlight::Produce(tp), Response::Produce(response)) => {
                self.on_produce(tp, response, now);
            }
            _ => {}
        }
        self.pump(now);
    }

    fn end_done(&mut self) {
        let event = if self.phase == TxnPhase::Aborting {
            TxnEvent::Aborted
        } else {
            TxnEvent::Committed
        };
        self.phase = TxnPhase::Ready;
        self.added.clear();
        self.offsets = None;
        self.events.push_back(event);
    }

    fn on_metadata(&mut self, metadata: MetadataResponse) {
        for (topic, partitions) in metadata.topics {
            for (i, p) in partitions.iter().enumerate() {
                let tp = TopicPartition::new(&topic, i as i32);
                if p.leader >= 0 {
                    self.leaders.insert(tp, p.leader);
                } else {
                    self.leaders.remove(&tp);
                }
            }
        }
        self.metadata_stale = self
            .unsent
            .keys()
            .chain(self.sent.keys())
            .any(|tp| !self.leaders.contains_key(tp));
    }

    fn on_produce(&mut self, tp: TopicPartition, response: ProduceResponse, now: Millis) {
        let Some(answer) = response.partitions.into_iter().find(|p| p.tp == tp) else {
            return;
        };
        match answer.error {
            ErrorCode::NONE => {
                let batch = self
                    .sent
                    .remove(&tp)
                    .expect("a batch per produce in flight");
                for (i, id) in batch.ids.into_iter().enumerate() {
                    self.events.push_back(TxnEvent::Delivered {
                        id,
                        tp: tp.clone(),
                        offset: answer.base_offset + i as i64,
                    });
                }
            }
            ErrorCode::PRODUCER_FENCED | ErrorCode::INVALID_PRODUCER_EPOCH => {
                self.fence(answer.error);
            }
            error if error.is_retriable() => {
                if let Some(batch) = self.sent.get_mut(&tp) {
                    batch.in_flight = false;
                }
                self.metadata_stale = true;
                self.control_retry_at = now.plus(self.config.retry_backoff_ms);
            }
            error => {
                // The batch cannot be written: the transaction must be aborted.
                self.sent.remove(&tp);
                self.events.push_back(TxnEvent::Error {
                    error,
                    fatal: false,
                });
            }
        }
    }

    /// A request that got no answer.
    fn failed(&mut self, context: InFlight, now: Millis) {
        match context {
            InFlight::Metadata => self.metadata_stale = true,
            InFlight::Produce(tp) => {
                if let Some(batch) = self.sent.get_mut(&tp) {
                    batch.in_flight = false;
                }
                self.metadata_stale = true;
            }
            InFlight::FindGroupCoordinator | InFlight::TxnOffsetCommit => {
                self.control_in_flight = false;
                if let Some(o) = &mut self.offsets {
                    o.coordinator = None;
                }
            }
            _ => {
                self.control_in_flight = false;
                self.coordinator = None;
            }
        }
        self.control_retry_at = now.plus(self.config.retry_backoff_ms);
    }

    /// An error answer to a transactional request, as the Java client's handlers sort them.
    fn on_control_error(&mut self, error: ErrorCode, now: Millis) {
        match error {
            ErrorCode::PRODUCER_FENCED
            | ErrorCode::INVALID_PRODUCER_EPOCH
            | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED => self.fence(error),
            ErrorCode::NOT_COORDINATOR
            | ErrorCode::COORDINATOR_NOT_AVAILABLE
            | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
            | ErrorCode::CONCURRENT_TRANSACTIONS
            | ErrorCode::REQUEST_TIMED_OUT => self.retry_control(error, now),
            error => {
                let fatal = matches!(
                    self.phase,
                    TxnPhase::Initializing | TxnPhase::Committing | TxnPhase::Aborting
                );
                if fatal {
                    self.phase = TxnPhase::FatalError;
                }
                self.events.push_back(TxnEvent::Error { error, fatal });
            }
        }
    }

    fn retry_control(&mut self, error: ErrorCode, now: Millis) {
        if matches!(
            error,
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE
        ) {
            self.coordinator = None;
        }
        self.control_retry_at = now.plus(self.config.retry_backoff_ms);
    }

    fn fence(&mut self, error: ErrorCode) {
        if self.phase == TxnPhase::Fenced {
            return;
        }
        self.phase = TxnPhase::Fenced;
        self.unsent.clear();
        self.sent.clear();
        self.offsets = None;
        self.requests.clear();
        self.control_in_flight = false;
        self.events.push_back(TxnEvent::Fenced { error });
    }

    /// Partitions with records that are not in the transaction yet.
    fn partitions_to_add(&self) -> Vec<TopicPartition> {
        self.unsent
            .keys()
            .filter(|tp| !self.added.contains(*tp))
            .cloned()
            .collect()
    }

    fn wants_control(&self) -> bool {
        match self.phase {
            TxnPhase::Initializing => true,
            TxnPhase::InTransaction | TxnPhase::Committing | TxnPhase::Aborting => {
                !self.partitions_to_add().is_empty()
                    || self.offsets.is_some()
                    || (self.phase != TxnPhase::InTransaction && self.ready_to_end())
            }
            _ => false,
        }
    }

    fn ready_to_end(&self) -> bool {
        self.sent.is_empty()
            && self.offsets.is_none()
            && (self.phase == TxnPhase::Aborting || self.unsent.is_empty())
    }

    /// Everything that can go now goes: metadata, the next transactional request, batches.
    fn pump(&mut self, now: Millis) {
        if matches!(self.phase, TxnPhase::Fenced | TxnPhase::FatalError) {
            return;
        }
        if self.metadata_stale
            && !self
                .requests
                .iter()
                .any(|c| matches!(c, InFlight::Metadata))
        {
            let topics: BTreeSet<String> = self
                .unsent
                .keys()
                .chain(self.sent.keys())
                .map(|tp| tp.topic.clone())
                .collect();
            if !topics.is_empty() {
                let to = self.next_bootstrap();
                let topics = topics.into_iter().collect();
                self.request(to, Request::Metadata { topics }, InFlight::Metadata, now);
            }
        }
        if !self.control_in_flight && now >= self.control_retry_at {
            self.next_control(now);
        }
        self.produce(now);
    }

    fn next_bootstrap(&mut self) -> BrokerId {
        let to = self.bootstrap[self.bootstrap_index % self.bootstrap.len()];
        self.bootstrap_index += 1;
        to
    }

    fn next_control(&mut self, now: Millis) {
        if !self.wants_control() {
            return;
        }
        let id = self.config.transactional_id.clone();
        let Some(coordinator) = self.coordinator else {
            let to = self.next_bootstrap();
            let request = Request::FindTransactionCoordinator {
                transactional_id: id,
            };
            self.send_control(to, request, InFlight::FindCoordinator, now);
            return;
        };
        if self.phase == TxnPhase::Initializing {
            let request = Request::InitTransactionalProducerId {
                transactional_id: id,
                transaction_timeout_ms: self.config.transaction_timeout_ms,
                expected: self.producer,
            };
            self.send_control(coordinator, request, InFlight::InitProducerId, now);
            return;
        }
        let (producer_id, producer_epoch) = self.producer.expect("initialized");
        let to_add = self.partitions_to_add();
        if !to_add.is_empty() && self.phase != TxnPhase::Aborting {
            let request = Request::AddPartitionsToTxn {
                transactional_id: id,
                producer_id,
                producer_epoch,
                partitions: to_add.clone(),
            };
            self.send_control(coordinator, request, InFlight::AddPartitions(to_add), now);
            return;
        }
        if let Some(o) = self.offsets.clone() {
            match (o.added, o.coordinator) {
                (false, _) => {
                    let request = Request::AddOffsetsToTxn {
                        transactional_id: id,
                        producer_id,
                        producer_epoch,
                        group_id: o.group_id,
                    };
                    self.send_control(coordinator, request, InFlight::AddOffsets, now);
                }
                (true, None) => {
                    let to = self.next_bootstrap();
                    let request = Request::FindCoordinator {
                        group_id: o.group_id,
                    };
                    self.send_control(to, request, InFlight::FindGroupCoordinator, now);
                }
                (true, Some(group_coordinator)) => {
                    let request = Request::TxnOffsetCommit {
                        group_id: o.group_id,
                        producer_id,
                        producer_epoch,
                        generation_id: o.generation_id,
                        member_id: o.member_id,
                        group_instance_id: None,
                        offsets: o
                            .offsets
                            .into_iter()
                            .map(|(tp, offset)| {
                                let commit = CommitOffset {
                                    offset,
                                    leader_epoch: None,
                                    metadata: None,
                                };
                                (tp, commit)
                            })
                            .collect(),
                    };
                    self.send_control(group_coordinator, request, InFlight::TxnOffsetCommit, now);
                }
            }
            return;
        }
        if self.phase != TxnPhase::InTransaction && self.ready_to_end() {
            // A transaction that added nothing ends at the client, as the Java client's does.
            if self.added.is_empty() {
                self.end_done();
                return;
            }
            let request = Request::EndTxn {
                transactional_id: id,
                producer_id,
                producer_epoch,
                commit: self.phase == TxnPhase::Committing,
            };
            self.send_control(coordinator, request, InFlight::EndTxn, now);
        }
    }

    fn send_control(&mut self, to: BrokerId, request: Request, context: InFlight, now: Millis) {
        self.control_in_flight = true;
        self.request(to, request, context, now);
    }

    /// One batch per added partition with records, to its leader.
    fn produce(&mut self, now: Millis) {
        let Some((producer_id, producer_epoch)) = self.producer else {
            return;
        };
        if !matches!(
            self.phase,
            TxnPhase::InTransaction | TxnPhase::Committing | TxnPhase::Aborting
        ) {
            return;
        }
        // Resends of batches whose request failed (after the backoff).
        let resend: Vec<TopicPartition> = self
            .sent
            .iter()
            .filter(|(_, b)| !b.in_flight)
            .map(|(tp, _)| tp.clone())
            .collect();
        if now >= self.control_retry_at {
            for tp in resend {
                self.produce_batch(tp, now);
            }
        }
        if self.phase == TxnPhase::Aborting {
            return;
        }
        let ready: Vec<TopicPartition> = self
            .unsent
            .keys()
            .filter(|tp| self.added.contains(*tp) && !self.sent.contains_key(*tp))
            .cloned()
            .collect();
        for tp in ready {
            let records = self.unsent.remove(&tp).unwrap_or_default();
            let sequence = self.next_sequence.entry(tp.clone()).or_insert(0);
            let mut builder = BatchBuilder::new()
                .idempotent(producer_id, producer_epoch, *sequence)
                .transactional();
            *sequence = sequence.wrapping_add(records.len() as i32);
            let timestamp = now.0 as i64;
            for (_, key, value) in &records {
                builder.push(timestamp, key.as_deref(), Some(value), &[]);
            }
            let batch = SentBatch {
                ids: records.iter().map(|(id, _, _)| *id).collect(),
                bytes: builder.build(),
                in_flight: false,
            };
            self.sent.insert(tp.clone(), batch);
            self.produce_batch(tp, now);
        }
    }

    fn produce_batch(&mut self, tp: TopicPartition, now: Millis) {
        let Some(&leader) = self.leaders.get(&tp) else {
            self.metadata_stale = true;
            return;
        };
        let Some(batch) = self.sent.get_mut(&tp) else {
            return;
        };
        batch.in_flight = true;
        let request = Request::Produce(ProduceRequest {
            acks: ACKS_ALL,
            timeout_ms: self.config.request_timeout_ms,
            partitions: vec![ProducePartition {
                tp: tp.clone(),
                records: batch.bytes.clone(),
            }],
        });
        self.request(leader, request, InFlight::Produce(tp), now);
    }

    fn request(&mut self, to: BrokerId, request: Request, context: InFlight, now: Millis) {
        let to = Destination::Broker(to);
        let deadline = now.plus(self.config.request_timeout_ms);
        let correlation_id = self.requests.start(to, deadline, context);
        self.outgoing.push_back(Outgoing {
            to,
            correlation_id,
            request,
        });
    }
}
