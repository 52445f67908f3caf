//! Transactions in the log: commit and abort markers, the aborted-transactions index and the
//! last stable offset (KIP-98).
//!
//! A transactional producer's batches carry the transactional bit; the transaction stays open
//! in a partition until its coordinator writes a commit or abort marker (a control batch,
//! [`EndTxnMarker`]) there. The *last stable offset* (LSO) is the smallest of the high
//! watermark, the first offset of every open transaction, and the first offset of every
//! transaction whose marker the high watermark has not passed yet (Kafka's
//! `ProducerStateManager.firstUnstableOffset`): a `read_committed` consumer reads only below it.
//! Each aborted transaction is kept in the *aborted transactions index* (Kafka's
//! `TransactionIndex` and `AbortedTxn`) so a Fetch can tell the consumer which producer's
//! records to drop between which offsets.
//!
//! The index lives in memory and is rebuilt with the producer state from the batches when the
//! log is opened or truncated (Partita reads every segment on open; see `recovery`), so it
//! never disagrees with the log; Kafka writes a `.txnindex` per segment instead.

use std::collections::VecDeque;

use super::append::offsets_fit;
use super::{AppendError, AppendInfo, Log};
use crate::Millis;
use crate::batch::{BatchHeader, EndTxnMarker, assign_offsets, validate_batch};
use crate::producer_state::{CompletedTxn, ProducerStateTable};
use crate::storage::Storage;

/// One aborted transaction in a partition, as the index keeps it and Fetch reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AbortedTxn {
    pub producer_id: i64,
    /// The offset of its first batch in this partition.
    pub first_offset: i64,
    /// The offset of its abort marker.
    pub last_offset: i64,
    /// The first unstable offset right after the abort (the marker's next offset if nothing
    /// else was open): Kafka's `lastStableOffset` field of an `AbortedTxn`.
    pub last_stable_offset: i64,
}

/// The log's transaction bookkeeping besides the producer state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct TxnIndex {
    /// Aborted transactions in marker order (so sorted by `last_offset`).
    aborted: Vec<AbortedTxn>,
    /// Transactions closed by a marker the high watermark may not have passed yet: they keep
    /// the LSO at their first offset until it does (Kafka's `unreplicatedTxns`).
    unreplicated: VecDeque<CompletedTxn>,
}

impl TxnIndex {
    /// Notes what a batch just appended (or replayed) does to transactions: a data batch may
    /// open one in `producers`, a control batch closes one. `bytes` is the whole batch. A
    /// control batch whose marker cannot be read is treated as closing nothing (a leader
    /// never writes one; a log written by something else is served as is).
    pub(super) fn track(
        &mut self,
        producers: &mut ProducerStateTable,
        header: &BatchHeader,
        bytes: &[u8],
    ) {
        if !header.is_control() {
            producers.record(header);
            return;
        }
        if !header.has_producer_id() {
            return;
        }
        let Ok(marker) = EndTxnMarker::from_batch(bytes) else {
            return;
        };
        let Some(completed) = producers.complete(header, &marker) else {
            return;
        };
        if completed.aborted {
            let next = header.next_offset();
            let last_stable_offset = producers
                .first_ongoing_offset()
                .map_or(next, |f| f.min(next));
            self.aborted.push(AbortedTxn {
                producer_id: completed.producer_id,
                first_offset: completed.first_offset,
                last_offset: completed.last_offset,
                last_stable_offset,
            });
        }
        self.unreplicated.push_back(completed);
    }

    /// Forgets aborted transactions wholly below the log start (retention, DeleteRecords).
    pub(super) fn remove_before(&mut self, log_start_offset: i64) {
        self.aborted
            .retain(|txn| txn.last_offset >= log_start_offset);
        self.unreplicated
            .retain(|txn| txn.last_offset >= log_start_offset);
    }
}

impl<S: Storage> Log<S> {
    /// Appends a commit or abort marker for `marker.producer_id` as the leader, as a
    /// WriteTxnMarkers request asks (Kafka's `UnifiedLog.appendAsLeader` with origin
    /// COORDINATOR). Refused if the producer's epoch here is newer than the marker's
    /// (INVALID_PRODUCER_EPOCH) or a newer coordinator wrote the last marker
    /// (TRANSACTION_COORDINATOR_FENCED). A marker for a producer with nothing open here is
    /// still written, as Kafka does. A log whose next offset would pass `i64::MAX` refuses it
    /// (`AppendError::OffsetOverflow`), as [`Log::append`] does.
    pub fn append_marker(
        &mut self,
        marker: &EndTxnMarker,
        leader_epoch: i32,
        now: Millis,
    ) -> Result<AppendInfo, AppendError> {
        self.ensure_healthy()?;
        self.producers.check_marker(marker)?;
        let timestamp = i64::try_from(now.0).unwrap_or(i64::MAX);
        let mut records = marker.to_batch(timestamp);
        let base_offset = self.log_end_offset;
        // One record: refused like any append when its offset would pass i64::MAX.
        offsets_fit(base_offset, 0)?;
        assign_offsets(&mut records, base_offset, leader_epoch)?;
        let summary = validate_batch(&records)?;
        self.write_batch(&records, &summary, now)?;
        Ok(AppendInfo {
            base_offset,
            last_offset: base_offset,
            log_start_offset: self.log_start_offset,
            duplicate: false,
            log_append_time: None,
        })
    }

    /// The last stable offset for a partition whose high watermark is `high_watermark`: see
    /// the module docs. Never below the log start offset (an open transaction whose first
    /// offset retention or DeleteRecords removed holds it at the log start, as Kafka's
    /// `UnifiedLog.updateFirstUnstableOffset` clamps the first unstable offset) and never
    /// above the high watermark.
    pub fn last_stable_offset(&self, high_watermark: i64) -> i64 {
        let ongoing = self.producers.first_ongoing_offset();
        let unreplicated = self
            .txns
            .unreplicated
            .iter()
            .filter(|txn| txn.last_offset >= high_watermark)
            .map(|txn| txn.first_offset)
            .min();
        let Some(first_unstable) = [ongoing, unreplicated].into_iter().flatten().min() else {
            return high_watermark;
        };
        first_unstable
            .max(self.log_start_offset)
            .min(high_watermark)
    }

    /// Drops the closed transactions whose markers are below `high_watermark`: they no longer
    /// hold the last stable offset back. The partition calls it when its high watermark moves.
    pub fn note_high_watermark(&mut self, high_watermark: i64) {
        while self
            .txns
            .unreplicated
            .front()
            .is_some_and(|txn| txn.last_offset < high_watermark)
        {
            self.txns.unreplicated.pop_front();
        }
    }

    /// The aborted transactions a read_committed Fetch of offsets `[start, upper)` must
    /// report: those whose marker is at or after `start` and that began before `upper`
    /// (Kafka's `UnifiedLog.collectAbortedTransactions`), in marker order.
    pub fn aborted_transactions(&self, start: i64, upper: i64) -> Vec<AbortedTxn> {
        let from = self
            .txns
            .aborted
            .partition_point(|txn| txn.last_offset < start);
        self.txns.aborted[from..]
            .iter()
            .filter(|txn| txn.first_offset < upper)
            .copied()
            .collect()
    }
}
