//! TxnOffsetCommit on the group coordinator (KIP-98, KIP-447), as Kafka's
//! `GroupMetadataManager` keeps pending transactional offsets:
//!
//! - **Written at once, visible at the marker.** The offsets are checked like an OffsetCommit's
//!   (the member of KIP-447, or none for an older client), then written to the group's
//!   `__consumer_offsets` partition as one transactional batch of the producer (its id and
//!   epoch, `encode_txn_offset_batch`), acks=all. The request is answered once the ISR has it;
//!   a failed write is answered with its error as Kafka maps it (`offsets_write_error`) and
//!   the offsets it carried are no longer pending (`failPendingTxnOffsetCommit`).
//! - **The marker decides.** When the transaction's commit marker reaches the offsets
//!   partition (through this node's broker: it leads the partition), the producer's pending
//!   offsets of that partition's groups become the committed ones (the records are already in
//!   the log: nothing more is written); an abort marker drops them. A marker never commits
//!   the offsets of an older epoch of the producer (a zombie's).
//! - **Failover.** A node that loads an offsets partition (`offsets_load.rs`) reads the
//!   transactional records back: those of a committed transaction apply, those of an aborted
//!   one are dropped, and those of a transaction still open become pending here again
//!   ([`Node::restore_pending_offsets`]), so a coordinator that fails over between
//!   TxnOffsetCommit and EndTxn loses nothing.
//!
//! Pending offsets answer UNSTABLE_OFFSET_COMMIT to an OffsetFetch with `require_stable`
//! (KIP-447, `offset_fetch.rs`). They are bounded: at most [`MAX_PENDING_OFFSET_PRODUCERS`]
//! producer epochs hold offsets on one node at once.

use std::collections::BTreeMap;

use super::{Node, RequestRef, Waiting};
use crate::assignor::TopicPartition;
use crate::batch::EndTxnMarker;
use crate::broker::{ACKS_ALL, AppendOrigin, ProducePartition, ProduceRequest, StorageFactory};
use crate::client::Response;
use crate::group::{
    CommitOffset, CommittedOffset, GroupRecord, OFFSETS_TOPIC, OffsetCommitRequest, RequestId,
    TxnGroupRecord, encode_txn_offset_batch, offsets_partition,
};
use crate::node::offsets_topic::OFFSETS_COMMIT_TIMEOUT_MS;
use crate::{ErrorCode, Millis};

/// How many producer epochs may hold TxnOffsetCommit offsets on one group coordinator at
/// once; a TxnOffsetCommit of one more gets COORDINATOR_LOAD_IN_PROGRESS (retriable), so a
/// flood of open transactions cannot grow the node's memory without bound.
pub(super) const MAX_PENDING_OFFSET_PRODUCERS: usize = 10_000;

/// A TxnOffsetCommit as it reaches the group coordinator.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TxnOffsetCommit {
    pub(super) group_id: String,
    /// The producer id and epoch.
    pub(super) producer: (i64, i16),
    /// KIP-447's member: generation -1, an empty member id and no instance id for an older
    /// client (no member check).
    pub(super) generation_id: i32,
    pub(super) member_id: String,
    pub(super) group_instance_id: Option<String>,
    pub(super) offsets: Vec<(TopicPartition, CommitOffset)>,
}

/// One offset of a transaction waiting for its marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PendingOffset {
    pub(super) group: String,
    pub(super) tp: TopicPartition,
    pub(super) offset: CommittedOffset,
    /// The write carrying it while the ISR does not have it yet; `None` once it does.
    pub(super) write: Option<RequestId>,
}

/// A TxnOffsetCommit's write to its offsets partition in flight.
#[derive(Clone, Debug)]
pub(super) struct TxnOffsetWrite {
    request: RequestRef,
    producer: (i64, i16),
    partitions: Vec<TopicPartition>,
}

/// The pending transactional offsets of a node's group coordinator.
#[derive(Debug, Default)]
pub(super) struct PendingTxnOffsets {
    /// By producer id and epoch, until that epoch's commit (or abort) marker reaches the
    /// group's offsets partition.
    pub(super) by_producer: BTreeMap<(i64, i16), Vec<PendingOffset>>,
    /// Writes in flight: the broker's request id -> what it answers.
    writes: BTreeMap<RequestId, TxnOffsetWrite>,
}

impl PendingTxnOffsets {
    /// Whether a transaction holds an offset of `group` for `tp` that its marker has not
    /// settled yet (Kafka's pending transactional offset commits, which OffsetFetch with
    /// `require_stable` answers UNSTABLE_OFFSET_COMMIT for, KIP-447).
    pub(super) fn has_pending_offset(&self, group: &str, tp: &TopicPartition) -> bool {
        self.by_producer
            .values()
            .flatten()
            .any(|p| p.group == group && &p.tp == tp)
    }

    /// Drops the pending offsets of the groups `unloaded` names (their offsets partition
    /// left this node; the next leader reads them back from the log).
    pub(super) fn drop_groups(&mut self, unloaded: impl Fn(&str) -> bool) {
        self.by_producer.retain(|_, offsets| {
            offsets.retain(|p| !unloaded(&p.group));
            !offsets.is_empty()
        });
    }

    /// The newest epoch of `producer_id` holding offsets here.
    fn latest_epoch(&self, producer_id: i64) -> Option<i16> {
        self.by_producer
            .range((producer_id, i16::MIN)..=(producer_id, i16::MAX))
            .map(|(k, _)| k.1)
            .max()
    }
}

/// Kafka's answer to a TxnOffsetCommit (or OffsetCommit) whose write failed with `error`
/// (`GroupMetadataManager.storeOffsets`): the log's errors become the coordinator's.
pub(super) fn offsets_write_error(error: ErrorCode) -> ErrorCode {
    match error {
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
        | ErrorCode::NOT_ENOUGH_REPLICAS
        | ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND => ErrorCode::COORDINATOR_NOT_AVAILABLE,
        ErrorCode::NOT_LEADER_OR_FOLLOWER | ErrorCode::KAFKA_STORAGE_ERROR => {
            ErrorCode::NOT_COORDINATOR
        }
        ErrorCode::MESSAGE_TOO_LARGE
        | ErrorCode::RECORD_LIST_TOO_LARGE
        | ErrorCode::INVALID_FETCH_SIZE => ErrorCode::INVALID_COMMIT_OFFSET_SIZE,
        other => other,
    }
}

fn answer(partitions: impl IntoIterator<Item = TopicPartition>, code: ErrorCode) -> Response {
    Response::TxnOffsetCommit(partitions.into_iter().map(|tp| (tp, code)).collect())
}

impl<F: StorageFactory> Node<F> {
    /// TxnOffsetCommit, on the group's coordinator (see the module docs): answered as
    /// [`Response::TxnOffsetCommit`], one error per partition: at once when refused
    /// (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, the member checks, PRODUCER_FENCED),
    /// else once the offsets' transactional batch is in the ISR of the offsets partition.
    pub(super) fn txn_offset_commit(
        &mut self,
        now: Millis,
        request: RequestRef,
        commit: TxnOffsetCommit,
    ) {
        match self.prepare_txn_offsets(now, &commit) {
            Ok(partition) => self.write_txn_offsets(now, request, partition, commit),
            Err(code) => {
                let refused = answer(commit.offsets.into_iter().map(|(tp, _)| tp), code);
                self.respond(request, refused);
            }
        }
    }

    /// Checks `commit` as Kafka's `GroupCoordinator.handleTxnCommitOffsets` does: the
    /// group's offsets partition, the member, the producer's epoch, the bound. Its offsets
    /// partition, or the error to answer.
    fn prepare_txn_offsets(
        &mut self,
        now: Millis,
        commit: &TxnOffsetCommit,
    ) -> Result<i32, ErrorCode> {
        let partition = self
            .group_gate(&commit.group_id)?
            .ok_or(ErrorCode::COORDINATOR_NOT_AVAILABLE)?;
        let coordinator = self
            .coordinator
            .as_mut()
            .ok_or(ErrorCode::COORDINATOR_NOT_AVAILABLE)?;
        let request = OffsetCommitRequest {
            group_id: commit.group_id.clone(),
            generation_id: commit.generation_id,
            member_id: commit.member_id.clone(),
            group_instance_id: commit.group_instance_id.clone(),
            offsets: commit.offsets.clone(),
        };
        coordinator
            .validate_txn_offset_commit(&request, now)
            .map_err(|e| e.code())?;
        // A producer fenced by a newer epoch of its id (Kafka's log append of the offset
        // records checks the epoch against the offsets partition's producer state).
        let (producer_id, producer_epoch) = commit.producer;
        let latest = self.latest_producer_epoch(producer_id, partition);
        if latest.is_some_and(|latest| producer_epoch < latest) {
            return Err(ErrorCode::PRODUCER_FENCED);
        }
        let pending = &self.txns.offsets.by_producer;
        if !pending.contains_key(&commit.producer) && pending.len() >= MAX_PENDING_OFFSET_PRODUCERS
        {
            // Retriable: the client backs off and sends it again once markers settle some.
            return Err(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
        }
        Ok(partition)
    }

    /// Writes `commit`'s offsets to offsets partition `partition` as the producer's
    /// transactional batch, acks=all, and holds them as pending; answered from
    /// [`Node::on_txn_offset_write`].
    fn write_txn_offsets(
        &mut self,
        now: Millis,
        request: RequestRef,
        partition: i32,
        commit: TxnOffsetCommit,
    ) {
        let tp = TopicPartition::new(OFFSETS_TOPIC, partition);
        let offsets: Vec<(TopicPartition, CommittedOffset)> = commit
            .offsets
            .into_iter()
            .map(|(tp, o)| {
                let committed = CommittedOffset {
                    offset: o.offset,
                    leader_epoch: o.leader_epoch,
                    metadata: o.metadata.unwrap_or_default(),
                    commit_timestamp: now,
                };
                (tp, committed)
            })
            .collect();
        let records: Vec<GroupRecord> = offsets
            .iter()
            .map(|(p, o)| GroupRecord::Offset {
                group: commit.group_id.clone(),
                partition: p.clone(),
                value: Some(o.clone()),
            })
            .collect();
        let sequence = self.next_offsets_sequence(&tp, commit.producer);
        let batch = encode_txn_offset_batch(&records, now, commit.producer, sequence);
        let id = self.next_request_id();
        self.pending.insert(id, Waiting::TxnOffsetWrite);
        self.txns.offsets.writes.insert(
            id,
            TxnOffsetWrite {
                request,
                producer: commit.producer,
                partitions: offsets.iter().map(|(p, _)| p.clone()).collect(),
            },
        );
        let held = self
            .txns
            .offsets
            .by_producer
            .entry(commit.producer)
            .or_default();
        for (p, offset) in offsets {
            held.retain(|o| !(o.group == commit.group_id && o.tp == p));
            held.push(PendingOffset {
                group: commit.group_id.clone(),
                tp: p,
                offset,
                write: Some(id),
            });
        }
        let produce = ProduceRequest {
            acks: ACKS_ALL,
            timeout_ms: Millis(OFFSETS_COMMIT_TIMEOUT_MS),
            partitions: vec![ProducePartition { tp, records: batch }],
        };
        self.broker
            .as_mut()
            .expect("partitioned groups")
            .produce_from(id, produce, AppendOrigin::Coordinator, now);
    }

    /// The sequence the coordinator's next batch of `producer` in offsets partition `tp`
    /// starts at: after the producer's last one there at the same epoch, else 0.
    fn next_offsets_sequence(&self, tp: &TopicPartition, (producer_id, epoch): (i64, i16)) -> i32 {
        self.broker
            .as_ref()
            .and_then(|b| b.describe_producers(tp).ok())
            .and_then(|ps| ps.into_iter().find(|p| p.producer_id == producer_id))
            .filter(|p| p.producer_epoch == epoch && p.last_sequence >= 0)
            .map_or(0, |p| crate::producer_state::next_sequence(p.last_sequence))
    }

    /// The broker answered a TxnOffsetCommit's write (from `drain_broker`): the offsets it
    /// carried stay pending (now in the ISR) and the request is answered; or, failed, they
    /// are no longer pending and the request gets the error (Kafka's
    /// `failPendingTxnOffsetCommit`; the client retries a retriable one).
    pub(super) fn on_txn_offset_write(&mut self, request: RequestId, error: ErrorCode) {
        let Some(write) = self.txns.offsets.writes.remove(&request) else {
            return;
        };
        let ok = error == ErrorCode::NONE;
        if let Some(held) = self.txns.offsets.by_producer.get_mut(&write.producer) {
            if ok {
                for offset in held.iter_mut().filter(|o| o.write == Some(request)) {
                    offset.write = None;
                }
            } else {
                held.retain(|o| o.write != Some(request));
                if held.is_empty() {
                    self.txns.offsets.by_producer.remove(&write.producer);
                }
            }
        }
        let code = if ok {
            ErrorCode::NONE
        } else {
            offsets_write_error(error)
        };
        self.respond(write.request, answer(write.partitions, code));
    }

    /// The newest epoch of `producer_id` this group coordinator knows: from the producer
    /// state of offsets partition `partition` (markers and batches written there) and the
    /// offsets it holds.
    fn latest_producer_epoch(&self, producer_id: i64, partition: i32) -> Option<i16> {
        let tp = TopicPartition::new(OFFSETS_TOPIC, partition);
        let in_log = self
            .broker
            .as_ref()
            .and_then(|b| b.describe_producers(&tp).ok())
            .and_then(|ps| ps.into_iter().find(|p| p.producer_id == producer_id))
            .map(|p| p.producer_epoch);
        in_log.max(self.txns.offsets.latest_epoch(producer_id))
    }

    /// A marker reached offsets partition `partition` (this node's broker appended it):
    /// the producer's pending offsets of that partition's groups become committed (its
    /// commit, at its epoch: the records are in the log already) or are dropped. Offsets
    /// whose write is still in flight stay pending: their batch lands after the marker, in
    /// the next transaction, as a node loading the log would see it.
    pub(super) fn complete_txn_offsets(
        &mut self,
        now: Millis,
        marker: &EndTxnMarker,
        partition: i32,
    ) {
        let count = self.offsets_partition_count();
        let producer_id = marker.producer_id;
        let keys: Vec<(i64, i16)> = self
            .txns
            .offsets
            .by_producer
            .range((producer_id, i16::MIN)..=(producer_id, marker.producer_epoch))
            .map(|(k, _)| *k)
            .collect();
        let mut done = Vec::new();
        for key in keys {
            let pending = self.txns.offsets.by_producer.get_mut(&key).expect("listed");
            let (ended, kept): (Vec<_>, Vec<_>) =
                std::mem::take(pending).into_iter().partition(|o| {
                    o.write.is_none() && offsets_partition(&o.group, count) == partition
                });
            *pending = kept;
            if pending.is_empty() {
                self.txns.offsets.by_producer.remove(&key);
            }
            // An older epoch's offsets were a zombie's: the marker of the epoch that
            // fenced it never commits them.
            if key.1 == marker.producer_epoch && marker.commit {
                done.extend(ended.into_iter().map(|o| (o.group, o.tp, o.offset)));
            }
        }
        if done.is_empty() {
            return;
        }
        if let Some(coordinator) = self.coordinator.as_mut() {
            coordinator.apply_txn_offsets(done, now);
        }
    }

    /// The offsets of transactions still open in offsets partition `partition`'s log, by
    /// producer id (`GroupLogReplay`): pending here again, as when they were written.
    pub(super) fn restore_pending_offsets(&mut self, open: BTreeMap<i64, Vec<TxnGroupRecord>>) {
        for (producer_id, records) in open {
            for (epoch, _, record) in records {
                let GroupRecord::Offset {
                    group,
                    partition: tp,
                    value: Some(offset),
                } = record
                else {
                    continue;
                };
                let held = self
                    .txns
                    .offsets
                    .by_producer
                    .entry((producer_id, epoch))
                    .or_default();
                held.retain(|o| !(o.group == group && o.tp == tp));
                held.push(PendingOffset {
                    group,
                    tp,
                    offset,
                    write: None,
                });
            }
        }
    }
}
