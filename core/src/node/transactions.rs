//! The node's side of transactions (KIP-98): the transaction coordinator of the transactional
//! ids whose `__transaction_state` partition this node leads, FindCoordinator for them, and
//! the markers it writes to partition leaders; and, as a group coordinator, the offsets of
//! TxnOffsetCommit held until the transaction's commit marker reaches the group's offsets
//! partition (Kafka's pending transactional offsets in `GroupMetadata`).
//!
//! What is kept in memory only, for now: the coordinator's transaction states (Kafka persists
//! them in `__transaction_state`; here the topic places coordinators but holds no records, so
//! a coordinator that restarts or fails over forgets its transactions, and their producers
//! must call InitProducerId again) and the pending transactional offsets. Markers go to
//! partitions this node leads; a partition led by another node is retried until it is led
//! here or the transaction times out (the peer transport carries no WriteTxnMarkers yet).

use std::collections::BTreeMap;

use super::{Event, Node, Waiting};
use crate::assignor::TopicPartition;
use crate::broker::{StorageFactory, TxnMarkerWrite};
use crate::controller::CreateTopic;
use crate::group::{
    CommitOffset, OFFSETS_TOPIC, OffsetCommitRequest, RequestId, offsets_partition,
};
use crate::node::CoordinatorEndpoint;
use crate::txn::{
    InitOutcome, TRANSACTION_MAX_TIMEOUT_MS, TRANSACTION_STATE_PARTITIONS, TRANSACTION_STATE_TOPIC,
    TransactionCoordinator, transaction_partition,
};
use crate::{ErrorCode, Millis};

/// `transaction.state.log.replication.factor`'s default, capped at the live brokers.
pub const TRANSACTION_STATE_REPLICATION_FACTOR: u16 = 3;
/// How long a marker write waits for the ISR before it is retried.
pub const MARKER_WRITE_TIMEOUT_MS: u64 = 5_000;
/// How soon markers that failed are written again.
pub const MARKER_RETRY_BACKOFF_MS: u64 = 100;

/// The transaction state of a node (see the module docs).
#[derive(Debug)]
pub struct Transactions {
    pub(super) coordinator: TransactionCoordinator,
    /// Marker writes in flight: the broker's request id -> whose markers.
    in_flight: BTreeMap<RequestId, MarkerWrite>,
    /// When markers of transactions still in Prepare* are written again.
    retry_at: Option<Millis>,
    /// TxnOffsetCommit offsets by producer id, until its commit (or abort) marker.
    pending_offsets: BTreeMap<i64, Vec<(String, TopicPartition, CommitOffset)>>,
}

impl Default for Transactions {
    fn default() -> Self {
        Transactions {
            coordinator: TransactionCoordinator::new(TRANSACTION_MAX_TIMEOUT_MS),
            in_flight: BTreeMap::new(),
            retry_at: None,
            pending_offsets: BTreeMap::new(),
        }
    }
}

impl Transactions {
    /// Whether a transaction holds an offset of `group` for `tp` that its marker has not
    /// settled yet (Kafka's pending transactional offset commits, which OffsetFetch with
    /// `require_stable` answers UNSTABLE_OFFSET_COMMIT for, KIP-447).
    pub(super) fn has_pending_offset(&self, group: &str, tp: &TopicPartition) -> bool {
        self.pending_offsets
            .values()
            .flatten()
            .any(|(g, p, _)| g == group && p == tp)
    }
}

#[derive(Clone, Debug)]
struct MarkerWrite {
    transactional_id: String,
    producer_id: i64,
    producer_epoch: i16,
    commit: bool,
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
        match self.image.broker(leader) {
            Some(b) if !b.fenced => Ok(CoordinatorEndpoint {
                node_id: leader,
                host: b.host.clone(),
                port: b.port,
            }),
            _ => Err(ErrorCode::COORDINATOR_NOT_AVAILABLE),
        }
    }

    /// The leader and leader epoch of the transactional id's `__transaction_state` partition.
    fn transaction_partition_leader(&self, transactional_id: &str) -> Option<(i32, i32)> {
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

    /// The coordinator epoch if this node coordinates `transactional_id`, else NOT_COORDINATOR.
    fn transaction_gate(&self, transactional_id: &str) -> Result<i32, ErrorCode> {
        match self.transaction_partition_leader(transactional_id) {
            Some((leader, epoch)) if leader == self.config.node_id => Ok(epoch),
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
                ("min.insync.replicas".to_string(), "1".to_string()),
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
        let coordinator_epoch = self.transaction_gate(transactional_id)?;
        let outcome = self.txns.coordinator.init_producer_id(
            transactional_id,
            timeout_ms,
            expected,
            fresh_producer_id,
            coordinator_epoch,
            now,
        )?;
        if let InitOutcome::Fencing(markers) = &outcome {
            self.write_markers(now, transactional_id, markers.clone());
            self.drain_roles(now);
        }
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
                self.txns.coordinator.add_partitions(
                    transactional_id,
                    producer_id,
                    producer_epoch,
                    partitions,
                    now,
                )
            })
        };
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
        let tp = TopicPartition::new(OFFSETS_TOPIC, self.group_partition(group_id));
        self.txns.coordinator.add_offsets(
            transactional_id,
            producer_id,
            producer_epoch,
            group_id,
            tp,
            now,
        )
    }

    /// EndTxn: prepares the commit or abort and sends its markers. Answered once prepared
    /// (as Kafka answers once PrepareCommit/PrepareAbort is in its log); the markers complete
    /// the transaction later, and requests meanwhile get CONCURRENT_TRANSACTIONS.
    pub fn end_txn(
        &mut self,
        now: Millis,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
    ) -> Result<(), ErrorCode> {
        let coordinator_epoch = self.transaction_gate(transactional_id)?;
        let markers = self.txns.coordinator.end_txn(
            transactional_id,
            producer_id,
            producer_epoch,
            commit,
            coordinator_epoch,
        )?;
        self.write_markers(now, transactional_id, markers);
        self.drain_roles(now);
        Ok(())
    }

    /// TxnOffsetCommit, on the group's coordinator: checks the member as OffsetCommit does
    /// (KIP-447's generation and member id; -1 and empty for an older client) and holds the
    /// offsets until the producer's commit marker reaches the group's offsets partition.
    #[allow(clippy::too_many_arguments)]
    pub fn txn_offset_commit(
        &mut self,
        now: Millis,
        group_id: &str,
        producer_id: i64,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<String>,
        offsets: Vec<(TopicPartition, CommitOffset)>,
    ) -> Vec<(TopicPartition, ErrorCode)> {
        let refuse = |offsets: &[(TopicPartition, CommitOffset)], code: ErrorCode| {
            offsets.iter().map(|(tp, _)| (tp.clone(), code)).collect()
        };
        if let Err(code) = self.group_gate(group_id) {
            return refuse(&offsets, code);
        }
        let Some(coordinator) = self.coordinator.as_mut() else {
            return refuse(&offsets, ErrorCode::COORDINATOR_NOT_AVAILABLE);
        };
        let commit = OffsetCommitRequest {
            group_id: group_id.to_string(),
            generation_id,
            member_id: member_id.to_string(),
            group_instance_id,
            offsets,
        };
        if let Err(error) = coordinator.validate_txn_offset_commit(&commit, now) {
            return refuse(&commit.offsets, error.code());
        }
        let pending = self.txns.pending_offsets.entry(producer_id).or_default();
        for (tp, offset) in &commit.offsets {
            pending.retain(|(group, p, _)| !(group == group_id && p == tp));
            pending.push((group_id.to_string(), tp.clone(), offset.clone()));
        }
        refuse(&commit.offsets, ErrorCode::NONE)
    }

    /// Sends `markers` of `transactional_id` to the partitions' leaders: this node's broker
    /// for those it leads. Markers for partitions led elsewhere are retried later.
    fn write_markers(&mut self, now: Millis, transactional_id: &str, markers: Vec<TxnMarkerWrite>) {
        let Some(first) = markers.first() else {
            return;
        };
        let write = MarkerWrite {
            transactional_id: transactional_id.to_string(),
            producer_id: first.marker.producer_id,
            producer_epoch: first.marker.producer_epoch,
            commit: first.marker.commit,
        };
        let me = self.config.node_id;
        let led_here = markers.iter().all(|m| {
            self.image
                .topic(&m.tp.topic)
                .and_then(|t| t.partitions.get(m.tp.partition as usize))
                .is_some_and(|s| s.leader == me)
        });
        if !led_here {
            self.event(Event::Misrouted {
                request: "WriteTxnMarkers to a partition led by another node",
            });
            self.schedule_marker_retry(now);
            return;
        }
        let id = self.next_request_id();
        self.pending.insert(id, Waiting::TxnMarkers);
        self.txns.in_flight.insert(id, write);
        self.broker
            .as_mut()
            .expect("a transaction coordinator is a broker")
            .write_txn_markers(id, markers, Millis(MARKER_WRITE_TIMEOUT_MS), now);
    }

    fn schedule_marker_retry(&mut self, now: Millis) {
        let at = now.plus(Millis(MARKER_RETRY_BACKOFF_MS));
        self.txns.retry_at = Some(self.txns.retry_at.map_or(at, |t| t.min(at)));
    }

    /// The broker answered a marker write (from `drain_broker`): on success the transaction
    /// completes, and a commit marker in an offsets partition this node coordinates makes
    /// the producer's pending offsets committed; on failure the markers are written again.
    pub(super) fn on_txn_markers(
        &mut self,
        now: Millis,
        request: RequestId,
        results: Vec<(TopicPartition, ErrorCode)>,
    ) {
        let Some(write) = self.txns.in_flight.remove(&request) else {
            return;
        };
        for (tp, code) in &results {
            if *code == ErrorCode::NONE && tp.topic == OFFSETS_TOPIC {
                self.complete_txn_offsets(now, write.producer_id, tp.partition, write.commit);
            }
        }
        if results.iter().all(|(_, code)| *code == ErrorCode::NONE) {
            self.txns.coordinator.markers_written(
                &write.transactional_id,
                write.producer_id,
                write.producer_epoch,
            );
        } else {
            self.schedule_marker_retry(now);
        }
    }

    /// Commits (or drops) the producer's pending offsets of the groups of offsets partition
    /// `partition`.
    fn complete_txn_offsets(
        &mut self,
        now: Millis,
        producer_id: i64,
        partition: i32,
        commit: bool,
    ) {
        let count = self
            .image
            .topic(OFFSETS_TOPIC)
            .map_or(1, |t| t.partitions.len().max(1) as i32);
        let Some(pending) = self.txns.pending_offsets.get_mut(&producer_id) else {
            return;
        };
        let (done, kept): (Vec<_>, Vec<_>) = std::mem::take(pending)
            .into_iter()
            .partition(|(group, _, _)| offsets_partition(group, count) == partition);
        *pending = kept;
        if pending.is_empty() {
            self.txns.pending_offsets.remove(&producer_id);
        }
        if !commit || done.is_empty() {
            return;
        }
        if let Some(coordinator) = self.coordinator.as_mut() {
            coordinator.commit_txn_offsets(done, now);
        }
    }

    /// Time-driven work: transactions past their timeout are aborted, and markers that
    /// failed are written again.
    pub(super) fn tick_transactions(&mut self, now: Millis) {
        let leader_epoch = 0;
        let expired = self.txns.coordinator.expire(now, leader_epoch);
        let retry = self.txns.retry_at.is_some_and(|at| now >= at);
        let mut writes = expired;
        if retry {
            self.txns.retry_at = None;
            let busy: Vec<String> = self
                .txns
                .in_flight
                .values()
                .map(|w| w.transactional_id.clone())
                .collect();
            writes.extend(
                self.txns
                    .coordinator
                    .pending_markers(leader_epoch)
                    .into_iter()
                    .filter(|(id, _)| !busy.contains(id)),
            );
        }
        for (id, markers) in writes {
            let markers = match self.transaction_gate(&id) {
                // The coordinator epoch is the current leader epoch of its partition.
                Ok(epoch) => markers
                    .into_iter()
                    .map(|mut m| {
                        m.marker.coordinator_epoch = epoch;
                        m
                    })
                    .collect(),
                Err(_) => markers,
            };
            self.write_markers(now, &id, markers);
        }
    }

    /// When [`Node::tick_transactions`] has work next.
    pub(super) fn transactions_deadline(&self) -> Option<Millis> {
        [self.txns.coordinator.next_deadline(), self.txns.retry_at]
            .into_iter()
            .flatten()
            .min()
    }
}
