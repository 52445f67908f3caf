//! Transactions in the log: commit and abort markers, the aborted-transactions index and the
//! last stable offset (KIP-98).
//!
//! A transactional producer's batches carry the transactional bit; the transaction stays open
//! in a partition until its coordinator writes a commit or abort marker (a control batch,
//! [`EndTxnMarker`]) there. The *last stable offset* (LSO) is the smallest of the high
//! watermark, the first offset of every open transaction, and the first offset of every
//! transaction whose marker the high watermark has not passed yet (Kafka's
//! `ProducerStateManager.firstUnstableOffset`): a `read_committed` consumer reads only below it.
//! Each aborted transaction is written to the *aborted transactions index* of the segment
//! holding its abort marker (Kafka's `TransactionIndex` and `AbortedTxn`, a `.txnindex` file:
//! `txn_index`) so a Fetch can tell the consumer which producer's records to drop between
//! which offsets; [`Log::aborted_transactions`] reads the indexes of the segments a fetch
//! overlaps, so the log keeps no aborted transaction in memory. Recovery rebuilds each
//! segment's index from its batches as it reads them (Partita reads every segment on open;
//! see `recovery`), truncation cuts it, and retention and the cleaner delete it with its
//! segment.

use std::collections::VecDeque;

use super::append::offsets_fit;
use super::{AppendError, AppendInfo, Log, txn_index};
use crate::Millis;
use crate::batch::{BatchHeader, EndTxnMarker, assign_offsets, validate_batch};
use crate::producer_state::{CompletedTxn, ProducerStateTable};
use crate::storage::{Storage, StorageError};

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

/// Transactions closed by a marker the high watermark may not have passed yet: they keep
/// the LSO at their first offset until it does (Kafka's `unreplicatedTxns`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Unreplicated {
    /// In marker order.
    txns: VecDeque<CompletedTxn>,
}

impl Unreplicated {
    /// Notes what a batch just appended (or replayed) does to transactions: a data batch may
    /// open one in `producers`, a control batch closes one. `bytes` is the whole batch (of a
    /// data batch, only the header is read). Returns the aborted transaction a marker closed,
    /// for the segment's index. A control batch whose marker cannot be read is treated as
    /// closing nothing (a leader never writes one; a log written by something else is
    /// served as is).
    pub(super) fn track(
        &mut self,
        producers: &mut ProducerStateTable,
        header: &BatchHeader,
        bytes: &[u8],
    ) -> Option<AbortedTxn> {
        if !header.is_control() {
            producers.record(header);
            return None;
        }
        if !header.has_producer_id() {
            return None;
        }
        let marker = EndTxnMarker::from_batch(bytes).ok()?;
        let completed = producers.complete(header, &marker)?;
        let aborted = completed.aborted.then(|| {
            let next = header.next_offset();
            let last_stable_offset = producers
                .first_ongoing_offset()
                .map_or(next, |f| f.min(next));
            AbortedTxn {
                producer_id: completed.producer_id,
                first_offset: completed.first_offset,
                last_offset: completed.last_offset,
                last_stable_offset,
            }
        });
        self.txns.push_back(completed);
        aborted
    }

    /// Forgets transactions wholly below the log start (retention, DeleteRecords).
    pub(super) fn remove_before(&mut self, log_start_offset: i64) {
        self.txns.retain(|txn| txn.last_offset >= log_start_offset);
        self.shrink();
    }

    /// Gives memory back once most of what a recovery or a burst queued is gone.
    fn shrink(&mut self) {
        if self.txns.capacity() > 64 && self.txns.len() * 4 < self.txns.capacity() {
            self.txns.shrink_to(self.txns.len() * 2);
        }
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
            .txns
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
        let unreplicated = &mut self.txns.txns;
        while unreplicated
            .front()
            .is_some_and(|txn| txn.last_offset < high_watermark)
        {
            unreplicated.pop_front();
        }
        self.txns.shrink();
    }

    /// The aborted transactions a read_committed Fetch of offsets `[start, upper)` must
    /// report: those whose marker is at or after `start` (and the log start) and that began
    /// before `upper`, in marker order (Kafka's `UnifiedLog.collectAbortedTransactions`). It
    /// reads the `.txnindex` files from the segment holding `start` on, a chunk at a time,
    /// until an entry's last stable offset reaches `upper`: no abort recorded later can have
    /// begun before it. A read that fails is a storage error (KAFKA_STORAGE_ERROR).
    pub fn aborted_transactions(
        &self,
        start: i64,
        upper: i64,
    ) -> Result<Vec<AbortedTxn>, StorageError> {
        let start = start.max(self.log_start_offset);
        let first = self
            .segments
            .partition_point(|s| s.base_offset <= start)
            .saturating_sub(1);
        let mut aborted = Vec::new();
        for segment in &self.segments[first..] {
            if segment.txn_index_bytes == 0 {
                continue;
            }
            let file = segment.txn_index_file();
            let len = segment.txn_index_bytes;
            if txn_index::collect(&self.storage, &file, len, start, upper, &mut aborted)? {
                break;
            }
        }
        Ok(aborted)
    }

    /// Appends an abort to the index of the active segment, which holds its marker.
    pub(super) fn index_abort(&mut self, aborted: &AbortedTxn) -> Result<(), StorageError> {
        let file = self.active().txn_index_file();
        let written = self.storage.append(&file, &txn_index::encode(aborted));
        self.guard(written)?;
        self.unflushed_files.insert(file);
        let segment = self.segments.last_mut().expect("active segment");
        segment.txn_index_bytes += txn_index::ENTRY_BYTES as u64;
        Ok(())
    }
}
