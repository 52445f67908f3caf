//! The node's side of transactions (KIP-98): the transaction coordinator of the transactional
//! ids whose `__transaction_state` partition this node leads, FindCoordinator for them, and
//! the markers it writes to partition leaders.
//!
//! The markers go to each partition's leader (`txn_markers.rs`). The coordinator's state is
//! written to `__transaction_state` and loaded from it by the next leader
//! (`txn_state_log.rs`).
//!
//! Transactional offsets (TxnOffsetCommit) are the group coordinator's: `txn_offsets.rs`; a
//! marker that reaches an offsets partition through this node's broker settles them there.

use std::collections::{BTreeMap, BTreeSet};

use super::txn_init::TxnInit;
use super::txn_markers::{MarkerAppend, MarkerWrite};
use super::txn_offsets::PendingTxnOffsets;
use super::txn_state_load::TxnLoads;
use super::{Node, RequestRef};
use crate::assignor::TopicPartition;
use crate::broker::StorageFactory;
use crate::client::Response;
use crate::controller::CreateTopic;
use crate::group::{OFFSETS_TOPIC, RequestId};
use crate::node::CoordinatorEndpoint;
use crate::txn::{
    InitOutcome, TRANSACTION_MAX_TIMEOUT_MS, TRANSACTION_STATE_PARTITIONS, TRANSACTION_STATE_TOPIC,
    TransactionCoordinator, TxnMetadata, TxnState, transaction_partition,
};
use crate::{ErrorCode, Millis};

/// `transaction.state.log.replication.factor`'s default, capped at the live brokers.
pub const TRANSACTION_STATE_REPLICATION_FACTOR: u16 = 3;
/// `transaction.state.log.min.isr`'s default.
pub const TRANSACTION_STATE_MIN_ISR: u16 = 2;

/// The transaction state of a node (see the module docs).
#[derive(Debug)]
pub struct Transactions {
    pub(super) coordinator: TransactionCoordinator,
    /// The coordinator's marker writes in flight, to this node's broker or a peer's: the
    /// request id -> whose markers, where to.
    pub(super) in_flight: BTreeMap<RequestId, MarkerWrite>,
    /// The `__transaction_state` partitions this node leads and has loaded
    /// (`txn_state_load.rs`).
    pub(super) loaded: BTreeSet<i32>,
    /// The loads of `__transaction_state` partitions in progress (`txn_state_load.rs`).
    pub(super) loads: TxnLoads,
    /// Each transactional id's state as last written to its partition.
    pub(super) written: BTreeMap<String, TxnMetadata>,
    /// Transactional ids with state writes waiting for the ISR, and how many.
    pub(super) writing: BTreeMap<String, u32>,
    /// State writes in flight: the broker's request id -> (transactional id, write number).
    pub(super) state_writes: BTreeMap<RequestId, (String, u64)>,
    /// The number of the last state write issued.
    pub(super) next_write: u64,
    /// The numbers of the latest state writes that failed.
    pub(super) failed_writes: BTreeSet<u64>,
    /// Transactional InitProducerIds waiting for a producer id from the controller
    /// (`txn_init.rs`).
    pub(super) inits: BTreeMap<RequestRef, TxnInit>,
    /// Answers waiting for state writes: (the write numbers, request, answer).
    pub(super) held: Vec<(BTreeSet<u64>, RequestRef, Response)>,
    /// While a call's answer is being prepared, the state writes it depends on
    /// (`Node::collect_txn_writes`).
    pub(super) depends: Option<BTreeSet<u64>>,
    /// Markers this node's broker is appending (for this node's coordinator, or for a peer's
    /// WriteTxnMarkers): the broker's request id -> who asked and what.
    pub(super) appending: BTreeMap<RequestId, MarkerAppend>,
    /// When markers of transactions still in Prepare* are written again.
    pub(super) retry_at: Option<Millis>,
    /// The group coordinator's pending transactional offsets (`txn_offsets.rs`).
    pub(super) offsets: PendingTxnOffsets,
    /// Expired transactional ids whose tombstone is being written: the id -> the write's
    /// number (`txn_expiry.rs`).
    pub(super) expiring: BTreeMap<String, u64>,
    /// When expired transactional ids are next looked for
    /// (`transaction.remove.expired.transaction.cleanup.interval.ms`).
    pub(super) expiry_check_at: Option<Millis>,
}

impl Default for Transactions {
    fn default() -> Self {
        Transactions {
            coordinator: TransactionCoordinator::new(TRANSACTION_MAX_TIMEOUT_MS),
            in_flight: BTreeMap::new(),
            loaded: BTreeSet::new(),
            loads: TxnLoads::default(),
            written: BTreeMap::new(),
            writing: BTreeMap::new(),
            state_writes: BTreeMap::new(),
            next_write: 0,
            failed_writes: BTreeSet::new(),
            inits: BTreeMap::new(),
            held: Vec::new(),
            depends: None,
            appending: BTreeMap::new(),
            retry_at: None,
            offsets: PendingTxnOffsets::default(),
            expiring: BTreeMap::new(),
            expiry_check_at: None,
        }
    }
}

impl<F: StorageFactory> Node<F> {
    /// The transaction coordinator (getters for the shells and tests).
    pub fn transaction_coordinator(&self) -> &TransactionCoordinator {
        &self.txns.coordinator
    }

    /// FindCoordinator with key type 1: the leader of the transactional id's partition of
    /// `__transaction_state`, creating the topic on first use (COORDINATOR_NOT_AVAILABLE until
    /// it exists and while the partition has no live leader), as Kafka does.
    pub fn find_transaction_coordinator(
        &mut self,
        now: Millis,
        transactional_id: &str,
    ) -> Result<CoordinatorEndpoint, ErrorCode> {
        if self.broker.is_none() {
            return Err(ErrorCode::COORDINATOR_NOT_AVAILABLE);
        }
        if self.image.topic(TRANSACTION_STATE_TOPIC).is_none() {
            self.create_transaction_state_topic(now);
        }
        let (leader, _) = self
            .transaction_partition_leader(transactional_id)
            .ok_or(ErrorCode::COORDINATOR_NOT_AVAILABLE)?;
        self.coordinator_endpoint(leader)
    }

    /// The leader and leader epoch of the transactional id's `__transaction_state` partition.
    pub(super) fn transaction_partition_leader(
        &self,
        transactional_id: &str,
    ) -> Option<(i32, i32)> {
        let topic = self.image.topic(TRANSACTION_STATE_TOPIC)?;
        let count = topic.partitions.len() as i32;
        if count == 0 {
            return None;
        }
        let state = topic
            .partitions
            .get(transaction_partition(transactional_id, count) as usize)?;
        Some((state.leader, state.leader_epoch))
    }

    /// The coordinator epoch if this node coordinates `transactional_id`, else NOT_COORDINATOR;
    /// COORDINATOR_LOAD_IN_PROGRESS while it leads the partition without having loaded it.
    pub(super) fn transaction_gate(&self, transactional_id: &str) -> Result<i32, ErrorCode> {
        match self.transaction_partition_leader(transactional_id) {
            Some((leader, epoch)) if leader == self.config.node_id => {
                let loaded = self
                    .transaction_state_partition(transactional_id)
                    .is_some_and(|p| self.txns.loaded.contains(&p));
                if loaded {
                    Ok(epoch)
                } else {
                    Err(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS)
                }
            }
            _ => Err(ErrorCode::NOT_COORDINATOR),
        }
    }

    fn create_transaction_state_topic(&mut self, now: Millis) {
        let live = self.image.live_brokers().len().max(1);
        let replication_factor = usize::from(TRANSACTION_STATE_REPLICATION_FACTOR).min(live) as u16;
        let create = CreateTopic {
            name: TRANSACTION_STATE_TOPIC.to_string(),
            partitions: Some(TRANSACTION_STATE_PARTITIONS as u32),
            replication_factor: Some(replication_factor),
            assignment: None,
            configs: vec![
                ("cleanup.policy".to_string(), "compact".to_string()),
                // `transaction.state.log.min.isr` (2), capped at the replicas: a state
                // write is acknowledged once two replicas have it when there are two.
                (
                    "min.insync.replicas".to_string(),
                    TRANSACTION_STATE_MIN_ISR
                        .min(replication_factor)
                        .to_string(),
                ),
            ],
        };
        self.create_internal_topic(now, create);
    }

    /// InitProducerId with a transactional id (see [`TransactionCoordinator::init_producer_id`]).
    /// `fresh_producer_id` is an id the caller obtained from the node's block when a previous
    /// call answered [`InitOutcome::NeedProducerId`]. A fencing abort's markers are sent here;
    /// the answer is then CONCURRENT_TRANSACTIONS.
    pub fn init_transactional_producer_id(
        &mut self,
        now: Millis,
        transactional_id: &str,
        timeout_ms: i64,
        expected: Option<(i64, i16)>,
        fresh_producer_id: Option<i64>,
    ) -> Result<InitOutcome, ErrorCode> {
        // Kafka's order: the timeout, the coordinator, then a pending transition.
        self.txns.coordinator.check_timeout(timeout_ms)?;
        let coordinator_epoch = self.transaction_gate(transactional_id)?;
        self.txn_transition_pending(transactional_id)?;
        let outcome = self.txns.coordinator.init_producer_id(
            transactional_id,
            timeout_ms,
            expected,
            fresh_producer_id,
            coordinator_epoch,
            now,
        )?;
        // The new epoch (and a fencing abort) is written first; a fencing abort's markers go
        // once its PrepareAbort is in the ISR (`txn_state_log.rs`).
        self.persist_txn(now, transactional_id);
        self.drain_roles(now);
        Ok(outcome)
    }

    /// AddPartitionsToTxn: one error for all `partitions` (UNKNOWN_TOPIC_OR_PARTITION for
    /// those the metadata does not know, which are then not added).
    pub fn add_partitions_to_txn(
        &mut self,
        now: Millis,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[TopicPartition],
    ) -> Vec<(TopicPartition, ErrorCode)> {
        let unknown: Vec<&TopicPartition> = partitions
            .iter()
            .filter(|tp| !self.image.contains_partition(&tp.topic, tp.partition))
            .collect();
        let result = if !unknown.is_empty() {
            // Kafka answers the unknown ones UNKNOWN_TOPIC_OR_PARTITION and the others
            // OPERATION_NOT_ATTEMPTED.
            return partitions
                .iter()
                .map(|tp| {
                    let code = if unknown.contains(&tp) {
                        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                    } else {
                        ErrorCode::OPERATION_NOT_ATTEMPTED
                    };
                    (tp.clone(), code)
                })
                .collect();
        } else {
            self.transaction_gate(transactional_id).and_then(|_| {
                // Kafka's order: the producer's id and epoch, then a pending transition.
                self.txns.coordinator.check_producer(
                    transactional_id,
                    producer_id,
                    producer_epoch,
                )?;
                self.txn_transition_pending(transactional_id)?;
                self.txns.coordinator.add_partitions(
                    transactional_id,
                    producer_id,
                    producer_epoch,
                    partitions,
                    now,
                )
            })
        };
        if result.is_ok() {
            self.persist_txn(now, transactional_id);
            self.drain_roles(now);
        }
        let code = result.err().unwrap_or(ErrorCode::NONE);
        partitions.iter().map(|tp| (tp.clone(), code)).collect()
    }

    /// AddOffsetsToTxn: adds the group's offsets partition to the transaction.
    pub fn add_offsets_to_txn(
        &mut self,
        now: Millis,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        group_id: &str,
    ) -> Result<(), ErrorCode> {
        self.transaction_gate(transactional_id)?;
        self.txns
            .coordinator
            .check_producer(transactional_id, producer_id, producer_epoch)?;
        self.txn_transition_pending(transactional_id)?;
        let tp = TopicPartition::new(OFFSETS_TOPIC, self.group_partition(group_id));
        self.txns.coordinator.add_offsets(
            transactional_id,
            producer_id,
            producer_epoch,
            group_id,
            tp,
            now,
        )?;
        self.persist_txn(now, transactional_id);
        self.drain_roles(now);
        Ok(())
    }

    /// EndTxn: prepares the commit or abort; its markers go once the PrepareCommit or
    /// PrepareAbort record is in the ISR. Answered once prepared (as Kafka answers once
    /// Prepare* is in its log: [`crate::client::Request::EndTxn`] is held until then); the
    /// markers complete the transaction later, and requests meanwhile get
    /// CONCURRENT_TRANSACTIONS.
    pub fn end_txn(
        &mut self,
        now: Millis,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
    ) -> Result<(), ErrorCode> {
        let coordinator_epoch = self.transaction_gate(transactional_id)?;
        self.txns
            .coordinator
            .check_producer(transactional_id, producer_id, producer_epoch)?;
        self.txn_transition_pending(transactional_id)?;
        // The markers are the transaction's partitions: sent from its durable state.
        self.txns.coordinator.end_txn(
            transactional_id,
            producer_id,
            producer_epoch,
            commit,
            coordinator_epoch,
            now,
        )?;
        self.persist_txn(now, transactional_id);
        self.drain_roles(now);
        Ok(())
    }

    /// Time-driven work: a step of each `__transaction_state` load, transactions past their
    /// timeout are aborted, idle transactional ids expire, and markers that failed are
    /// written again.
    pub(super) fn tick_transactions(&mut self, now: Millis) {
        self.step_transaction_loads(now);
        let lost: Vec<RequestId> = self
            .txns
            .in_flight
            .iter()
            .filter(|(_, w)| now >= w.deadline)
            .map(|(id, _)| *id)
            .collect();
        for id in lost {
            self.txns.in_flight.remove(&id);
            self.schedule_marker_retry(now);
        }
        // Timed-out transactions move to PrepareAbort with a bumped epoch: written, then
        // their markers go (`txn_state_log.rs`).
        let expired = self.txns.coordinator.expire(now, 0);
        for (id, _) in expired {
            self.persist_txn(now, &id);
        }
        self.tick_transactional_id_expiry(now);
        if self.txns.retry_at.is_some_and(|at| now >= at) {
            self.txns.retry_at = None;
            let ids: Vec<String> = self
                .txns
                .coordinator
                .iter()
                .map(|(id, _)| id.clone())
                .collect();
            for id in ids {
                // A state whose write failed is written again; a durable Prepare* one
                // without a marker write out gets its markers again.
                if !self.txns.writing.contains_key(&id) {
                    self.persist_txn(now, &id);
                }
                self.send_durable_markers(now, &id);
            }
            // A Prepare* transaction still waiting (a write out) is looked at again.
            let waiting =
                self.txns.coordinator.iter().any(|(_, t)| {
                    matches!(t.state, TxnState::PrepareCommit | TxnState::PrepareAbort)
                });
            if waiting {
                self.schedule_marker_retry(now);
            }
        }
    }

    /// When [`Node::tick_transactions`] has work next.
    pub(super) fn transactions_deadline(&self) -> Option<Millis> {
        let lost = self.txns.in_flight.values().map(|w| w.deadline).min();
        [
            self.txns.coordinator.next_deadline(),
            self.txns.retry_at,
            self.txns.expiry_check_at,
            self.txns.loads.next_deadline(),
            lost,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
