//! The node's side of transactions (KIP-98): the transaction coordinator of the transactional
//! ids whose `__transaction_state` partition this node leads, FindCoordinator for them, and
//! the markers it writes to partition leaders; and, as a group coordinator, the offsets of
//! TxnOffsetCommit held until the transaction's commit marker reaches the group's offsets
//! partition (Kafka's pending transactional offsets in `GroupMetadata`).
//!
//! Markers go to each partition's leader: this node's broker, or a peer's through
//! [`PeerMessage::WriteTxnMarkers`] (Kafka's `TransactionMarkerChannelManager`: grouped by
//! leader, retriable errors retried after [`MARKER_RETRY_BACKOFF_MS`] with the leader looked
//! up again, a deleted partition's marker dropped). The coordinator's state is written to
//! `__transaction_state` and loaded from it by the next leader (`txn_state_log.rs`).
//!
//! Pending transactional offsets are kept by producer id and epoch: a TxnOffsetCommit with an
//! epoch older than the newest this group coordinator knows (from its offsets partition's
//! producer state, or offsets it holds) is PRODUCER_FENCED, and a marker drops, never commits,
//! the offsets of an older epoch (a zombie's).
//!
//! What is kept in memory only: the pending transactional offsets (Kafka writes them to
//! `__consumer_offsets` at once, marked transactional; here a group coordinator that fails
//! over before the commit marker arrives loses them, and the transaction's offsets are not
//! committed though its records are).

use std::collections::{BTreeMap, BTreeSet};

use super::txn_init::TxnInit;
use super::{Event, Node, PeerMessage, RequestRef, Waiting};
use crate::assignor::TopicPartition;
use crate::batch::EndTxnMarker;
use crate::broker::{StorageFactory, TxnMarkerWrite};
use crate::client::Response;
use crate::controller::{BrokerId, CreateTopic};
use crate::group::{
    CommitOffset, OFFSETS_TOPIC, OffsetCommitRequest, RequestId, offsets_partition,
};
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
/// How long a marker write waits for the ISR before it is retried.
pub const MARKER_WRITE_TIMEOUT_MS: u64 = 5_000;
/// How soon markers that failed are written again.
pub const MARKER_RETRY_BACKOFF_MS: u64 = 100;

/// An offset of TxnOffsetCommit waiting for its transaction's marker: group, partition,
/// offset.
type PendingOffset = (String, TopicPartition, CommitOffset);

/// How many producer epochs may hold TxnOffsetCommit offsets on one group coordinator at
/// once; a TxnOffsetCommit of one more gets COORDINATOR_LOAD_IN_PROGRESS (retriable), so a
/// flood of open transactions cannot grow the node's memory without bound.
pub(super) const MAX_PENDING_OFFSET_PRODUCERS: usize = 10_000;

/// The transaction state of a node (see the module docs).
#[derive(Debug)]
pub struct Transactions {
    pub(super) coordinator: TransactionCoordinator,
    /// The coordinator's marker writes in flight, to this node's broker or a peer's: the
    /// request id -> whose markers, where to.
    pub(super) in_flight: BTreeMap<RequestId, MarkerWrite>,
    /// The `__transaction_state` partitions this node leads and has loaded
    /// (`txn_state_log.rs`).
    pub(super) loaded: BTreeSet<i32>,
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
    /// Answers waiting for state writes: (after, through, request, answer).
    pub(super) held: Vec<(u64, u64, RequestRef, Response)>,
    /// Markers this node's broker is appending (for this node's coordinator, or for a peer's
    /// WriteTxnMarkers): the broker's request id -> who asked and what.
    appending: BTreeMap<RequestId, MarkerAppend>,
    /// When markers of transactions still in Prepare* are written again.
    retry_at: Option<Millis>,
    /// TxnOffsetCommit offsets by producer id and epoch, until that epoch's commit (or
    /// abort) marker reaches the group's offsets partition.
    pub(super) pending_offsets: BTreeMap<(i64, i16), Vec<PendingOffset>>,
}

impl Default for Transactions {
    fn default() -> Self {
        Transactions {
            coordinator: TransactionCoordinator::new(TRANSACTION_MAX_TIMEOUT_MS),
            in_flight: BTreeMap::new(),
            loaded: BTreeSet::new(),
            written: BTreeMap::new(),
            writing: BTreeMap::new(),
            state_writes: BTreeMap::new(),
            next_write: 0,
            failed_writes: BTreeSet::new(),
            inits: BTreeMap::new(),
            held: Vec::new(),
            appending: BTreeMap::new(),
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

    /// Drops the held transactional offsets of the groups `unloaded` names (their offsets
    /// partition left this node).
    pub(super) fn drop_pending_offsets(&mut self, unloaded: impl Fn(&str) -> bool) {
        self.pending_offsets.retain(|_, offsets| {
            offsets.retain(|(group, _, _)| !unloaded(group));
            !offsets.is_empty()
        });
    }
}

/// One marker write of the coordinator: the markers of one transaction for one leader.
#[derive(Clone, Debug)]
pub(super) struct MarkerWrite {
    pub(super) transactional_id: String,
    producer_id: i64,
    producer_epoch: i16,
    /// The leader it went to (this node for its own broker).
    to: BrokerId,
    /// When an answer is no longer waited for (a lost message, a dead leader): the
    /// markers are then written again.
    deadline: Millis,
}

/// Markers this node's broker appends: the peer's (node, request id) that asked, or `None`
/// for this node's own coordinator.
#[derive(Clone, Debug)]
struct MarkerAppend {
    for_peer: Option<(BrokerId, u64)>,
    markers: Vec<TxnMarkerWrite>,
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
        let coordinator_epoch = self.transaction_gate(transactional_id)?;
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
    /// Prepare* is in its log: the shell waits for [`Node::transaction_writes_done`]); the
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
        // The markers are the transaction's partitions: sent from its durable state.
        self.txns.coordinator.end_txn(
            transactional_id,
            producer_id,
            producer_epoch,
            commit,
            coordinator_epoch,
        )?;
        self.persist_txn(now, transactional_id);
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
        (producer_id, producer_epoch): (i64, i16),
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
        // A producer fenced by a newer epoch of its id (Kafka's log append of the offset
        // records checks the epoch against the offsets partition's producer state).
        let latest = self.latest_producer_epoch(producer_id, group_id);
        if latest.is_some_and(|latest| producer_epoch < latest) {
            return refuse(&commit.offsets, ErrorCode::PRODUCER_FENCED);
        }
        let key = (producer_id, producer_epoch);
        if !self.txns.pending_offsets.contains_key(&key)
            && self.txns.pending_offsets.len() >= MAX_PENDING_OFFSET_PRODUCERS
        {
            // Retriable: the client backs off and sends it again once markers settle some.
            return refuse(&commit.offsets, ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
        }
        let pending = self.txns.pending_offsets.entry(key).or_default();
        for (tp, offset) in &commit.offsets {
            pending.retain(|(group, p, _)| !(group == group_id && p == tp));
            pending.push((group_id.to_string(), tp.clone(), offset.clone()));
        }
        refuse(&commit.offsets, ErrorCode::NONE)
    }

    /// The newest epoch of `producer_id` this group coordinator knows: from the producer
    /// state of `group_id`'s offsets partition (markers and batches written there) and the
    /// offsets it holds.
    fn latest_producer_epoch(&self, producer_id: i64, group_id: &str) -> Option<i16> {
        let tp = TopicPartition::new(OFFSETS_TOPIC, self.group_partition(group_id));
        let in_log = self
            .broker
            .as_ref()
            .and_then(|b| b.describe_producers(&tp).ok())
            .and_then(|ps| ps.into_iter().find(|p| p.producer_id == producer_id))
            .map(|p| p.producer_epoch);
        let held = self
            .txns
            .pending_offsets
            .range((producer_id, i16::MIN)..=(producer_id, i16::MAX))
            .map(|(k, _)| k.1)
            .max();
        in_log.max(held)
    }

    /// Sends `markers` of `transactional_id` to the partitions' leaders, one write per
    /// leader (Kafka's `TransactionMarkerChannelManager` groups them by broker the same
    /// way): this node's broker for those it leads, a [`PeerMessage::WriteTxnMarkers`] for
    /// the others. A marker of a deleted partition is dropped; one of a partition without a
    /// live leader is retried after [`MARKER_RETRY_BACKOFF_MS`].
    pub(super) fn write_markers(
        &mut self,
        now: Millis,
        transactional_id: &str,
        markers: Vec<TxnMarkerWrite>,
    ) {
        let Some(first) = markers.first() else {
            return;
        };
        let (producer_id, producer_epoch) = (first.marker.producer_id, first.marker.producer_epoch);
        let mut by_leader: BTreeMap<BrokerId, Vec<TxnMarkerWrite>> = BTreeMap::new();
        let mut deleted = Vec::new();
        let mut leaderless = false;
        for write in markers {
            let state = self
                .image
                .topic(&write.tp.topic)
                .map(|t| t.partitions.get(write.tp.partition as usize));
            match state {
                None | Some(None) => deleted.push(write.tp),
                Some(Some(s)) if self.image.broker(s.leader).is_some_and(|b| !b.fenced) => {
                    by_leader.entry(s.leader).or_default().push(write);
                }
                Some(Some(_)) => leaderless = true,
            }
        }
        for tp in deleted {
            self.event(Event::Transaction {
                description: format!(
                    "{transactional_id}: the marker for {}-{} is dropped: the partition was deleted",
                    tp.topic, tp.partition
                ),
            });
            if self.txns.coordinator.marker_written(
                transactional_id,
                producer_id,
                producer_epoch,
                &tp,
            ) {
                self.persist_txn(now, transactional_id);
            }
        }
        if leaderless {
            self.schedule_marker_retry(now);
        }
        let me = self.config.node_id;
        for (leader, markers) in by_leader {
            let id = self.next_request_id();
            self.txns.in_flight.insert(
                id,
                MarkerWrite {
                    transactional_id: transactional_id.to_string(),
                    producer_id,
                    producer_epoch,
                    to: leader,
                    deadline: now.plus(Millis(2 * MARKER_WRITE_TIMEOUT_MS)),
                },
            );
            if leader == me {
                self.append_markers(now, id, None, markers);
            } else {
                let request_id = id.0;
                self.send(
                    leader,
                    PeerMessage::WriteTxnMarkers {
                        request_id,
                        markers,
                    },
                );
            }
        }
    }

    /// Appends `markers` through this node's broker, acks=all (the path of every marker,
    /// ours or a peer's); the answer comes back through [`Node::on_txn_markers`].
    fn append_markers(
        &mut self,
        now: Millis,
        id: RequestId,
        for_peer: Option<(BrokerId, u64)>,
        markers: Vec<TxnMarkerWrite>,
    ) {
        let Some(broker) = self.broker.as_mut() else {
            return;
        };
        self.pending.insert(id, Waiting::TxnMarkers);
        self.txns.appending.insert(
            id,
            MarkerAppend {
                for_peer,
                markers: markers.clone(),
            },
        );
        broker.write_txn_markers(id, markers, Millis(MARKER_WRITE_TIMEOUT_MS), now);
    }

    /// A peer's WriteTxnMarkers (its transaction coordinator's markers for partitions this
    /// node leads): appended as this node's own are, answered once the ISR has them. A node
    /// without the broker role answers NOT_LEADER_OR_FOLLOWER for each.
    pub(super) fn on_peer_write_txn_markers(
        &mut self,
        now: Millis,
        from: BrokerId,
        request_id: u64,
        markers: Vec<TxnMarkerWrite>,
    ) {
        if self.broker.is_none() || markers.is_empty() {
            let results = markers
                .into_iter()
                .map(|m| (m.tp, ErrorCode::NOT_LEADER_OR_FOLLOWER))
                .collect();
            self.send(
                from,
                PeerMessage::WriteTxnMarkersResponse {
                    request_id,
                    results,
                },
            );
            return;
        }
        let id = self.next_request_id();
        self.append_markers(now, id, Some((from, request_id)), markers);
    }

    /// The broker appended markers (from `drain_broker`; one result per marker, in order): a
    /// commit marker in an offsets partition makes the producer's pending offsets of its
    /// groups committed (this node coordinates them: it leads that partition); then the
    /// peer that asked is answered, or this node's coordinator told.
    pub(super) fn on_txn_markers(
        &mut self,
        now: Millis,
        request: RequestId,
        results: Vec<(TopicPartition, ErrorCode)>,
    ) {
        let Some(append) = self.txns.appending.remove(&request) else {
            return;
        };
        for (write, (tp, code)) in append.markers.iter().zip(&results) {
            if *code == ErrorCode::NONE && tp.topic == OFFSETS_TOPIC {
                self.complete_txn_offsets(now, &write.marker, tp.partition);
            }
        }
        match append.for_peer {
            Some((peer, request_id)) => self.send(
                peer,
                PeerMessage::WriteTxnMarkersResponse {
                    request_id,
                    results,
                },
            ),
            None => {
                let me = self.config.node_id;
                self.on_marker_results(now, request, me, results);
            }
        }
    }

    /// The answer to one of the coordinator's marker writes, from leader `from` (Kafka's
    /// `TransactionMarkerRequestCompletionHandler`): a written marker's partition leaves
    /// its transaction, which completes with the last; a marker refused as stale
    /// (INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED: a later epoch or coordinator
    /// moved on) is dropped; any other error (NOT_LEADER_OR_FOLLOWER,
    /// UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT...) is retried,
    /// to the leader the metadata names then.
    pub(super) fn on_marker_results(
        &mut self,
        now: Millis,
        request: RequestId,
        from: BrokerId,
        results: Vec<(TopicPartition, ErrorCode)>,
    ) {
        if self
            .txns
            .in_flight
            .get(&request)
            .is_none_or(|w| w.to != from)
        {
            return;
        }
        let write = self.txns.in_flight.remove(&request).expect("checked");
        let mut retry = false;
        for (tp, code) in results {
            match code {
                ErrorCode::NONE => {}
                ErrorCode::INVALID_PRODUCER_EPOCH | ErrorCode::TRANSACTION_COORDINATOR_FENCED => {
                    self.event(Event::Transaction {
                        description: format!(
                            "{}: the marker for {}-{} is dropped: {} refused it ({})",
                            write.transactional_id,
                            tp.topic,
                            tp.partition,
                            from,
                            code.name()
                        ),
                    });
                }
                _ => {
                    retry = true;
                    continue;
                }
            }
            if self.txns.coordinator.marker_written(
                &write.transactional_id,
                write.producer_id,
                write.producer_epoch,
                &tp,
            ) {
                self.persist_txn(now, &write.transactional_id);
            }
        }
        if retry {
            self.schedule_marker_retry(now);
        }
    }

    pub(super) fn schedule_marker_retry(&mut self, now: Millis) {
        let at = now.plus(Millis(MARKER_RETRY_BACKOFF_MS));
        self.txns.retry_at = Some(self.txns.retry_at.map_or(at, |t| t.min(at)));
    }

    /// Commits (or drops) the producer's pending offsets of the groups of offsets partition
    /// `partition`.
    pub(super) fn complete_txn_offsets(
        &mut self,
        now: Millis,
        marker: &EndTxnMarker,
        partition: i32,
    ) {
        let count = self
            .image
            .topic(OFFSETS_TOPIC)
            .map_or(1, |t| t.partitions.len().max(1) as i32);
        let producer_id = marker.producer_id;
        let keys: Vec<(i64, i16)> = self
            .txns
            .pending_offsets
            .range((producer_id, i16::MIN)..=(producer_id, marker.producer_epoch))
            .map(|(k, _)| *k)
            .collect();
        let mut done = Vec::new();
        for key in keys {
            let pending = self.txns.pending_offsets.get_mut(&key).expect("listed");
            let (ended, kept): (Vec<_>, Vec<_>) = std::mem::take(pending)
                .into_iter()
                .partition(|(group, _, _)| offsets_partition(group, count) == partition);
            *pending = kept;
            if pending.is_empty() {
                self.txns.pending_offsets.remove(&key);
            }
            // An older epoch's offsets were a zombie's: the marker of the epoch that
            // fenced it never commits them.
            if key.1 == marker.producer_epoch && marker.commit {
                done.extend(ended);
            }
        }
        if done.is_empty() {
            return;
        }
        if let Some(coordinator) = self.coordinator.as_mut() {
            coordinator.commit_txn_offsets(done, now);
        }
    }

    /// Time-driven work: transactions past their timeout are aborted, and markers that
    /// failed are written again.
    pub(super) fn tick_transactions(&mut self, now: Millis) {
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
            lost,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
