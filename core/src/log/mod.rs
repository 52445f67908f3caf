//! The partition log: segments, offset and time indexes, retention, recovery.
//!
//! A [`Log`] is Kafka's partition log over one [`Storage`] (one partition's directory): a list
//! of segments, each a `.log` file of record batches named by its 20-digit base offset with a
//! sparse `.index` and `.timeindex`. It has a log start offset (the first offset still kept),
//! a log end offset (the next offset to assign) and a flushed offset (everything below it is
//! durable).
//!
//! Durability is the shell's decision: appends go to storage unsynced, and [`Log::flush`]
//! syncs them. A write may be acknowledged to a producer only once `flushed_offset` has passed
//! it (acks and fsync mean the same, in the simulator and on disk). The high watermark is the
//! replication layer's business, not the log's; reads can be capped at it with
//! [`Log::read_bounded`].
//!
//! On [`Log::open`] every segment is scanned and validated: indexes, timestamps and producer
//! state are rebuilt from the batches themselves, and a torn or corrupt tail is cut at the
//! last valid batch and reported, never served.

mod append;
mod checkpoint;
mod cleaner;
mod config;
mod epochs;
mod error;
mod index;
mod read;
mod read_committed;
mod recovery;
mod retention;
mod segment;
mod truncate;
mod txn;
mod txn_index;

pub use append::{APPEND_DECOMPRESSED_MAX_BYTES, AppendInfo};
pub use cleaner::{CleanableRange, CleanerConfig, CleanerStats, CleanerStep};
pub use config::{LogConfig, MAX_SEGMENT_BYTES};
pub use epochs::EpochStart;
pub use error::{AppendError, DeleteRecordsError, ReadError};
pub use read::{ReadResult, TimestampOffset};
pub use read_committed::{AbortedFilter, BatchKind};
pub use recovery::{RecoveryReport, TruncatedTail};
pub use retention::RetentionReport;
pub use txn::AbortedTxn;

use std::collections::BTreeSet;

use crate::producer_state::ProducerStateTable;
use crate::storage::{Storage, StorageError};
use segment::Segment;

/// One partition's log. See the module docs.
#[derive(Debug)]
pub struct Log<S> {
    storage: S,
    config: LogConfig,
    /// Sorted by base offset, never empty; the last one is the active segment appends go to.
    segments: Vec<Segment>,
    log_start_offset: i64,
    log_end_offset: i64,
    flushed_offset: i64,
    /// Files written since the last flush.
    unflushed_files: BTreeSet<String>,
    producers: ProducerStateTable,
    /// Transactions closed by a marker not yet below the high watermark (see `txn`); the
    /// aborted ones are in each segment's `.txnindex` file (`txn_index`), not in memory.
    txns: txn::Unreplicated,
    /// Set when a write to storage failed: memory and storage may disagree, so the log refuses
    /// everything until reopened (Kafka takes the log directory offline).
    failed: bool,
    /// The cleaner's checkpoint: records below it were cleaned (see `cleaner`).
    first_dirty_offset: i64,
    /// The cleaning round in progress, if any.
    cleaning: Option<cleaner::Cleaning>,
    /// The shell's codecs, with which an append opens a producer's compressed batch to check
    /// its records ([`Log::set_codecs`]; [`crate::batch::NoCodecs`] until then, and then
    /// compressed batches are refused).
    codecs: &'static dyn crate::batch::Codecs,
}

/// A segment as the playground and the metrics show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    pub base_offset: i64,
    pub next_offset: i64,
    pub size_bytes: u64,
    /// Largest record timestamp in the segment, -1 if empty.
    pub max_timestamp: i64,
}

impl<S: Storage> Log<S> {
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Changes the settings (an AlterConfigs); they apply from the next append or retention
    /// run. A cleaning round in progress is abandoned if anything changed.
    pub fn set_config(&mut self, config: LogConfig) {
        assert_valid(&config);
        if config != self.config {
            // A storage failure here marks the log failed; there is nothing else to undo.
            let _ = self.abort_cleaning();
        }
        self.config = config;
    }

    /// Lends the log the shell's compression codecs: with them an append decompresses a
    /// producer's compressed batch to check its records (count, structure, keys on a
    /// compacted topic) before it is acknowledged; without them (the default,
    /// [`crate::batch::NoCodecs`], the playground whose clients never compress) a compressed
    /// batch is refused with `UNSUPPORTED_COMPRESSION_TYPE`, never stored unread.
    pub fn set_codecs(&mut self, codecs: &'static dyn crate::batch::Codecs) {
        self.codecs = codecs;
    }

    /// The first offset still in the log (ListOffsets "earliest", the low watermark).
    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// The offset the next record gets (ListOffsets "latest" before replication caps it).
    pub fn log_end_offset(&self) -> i64 {
        self.log_end_offset
    }

    /// Every offset below this is durable: synced by [`Log::flush`] or found on open.
    pub fn flushed_offset(&self) -> i64 {
        self.flushed_offset
    }

    /// Bytes across all segments.
    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(|segment| segment.size_bytes).sum()
    }

    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.segments
            .iter()
            .map(|segment| SegmentInfo {
                base_offset: segment.base_offset,
                next_offset: segment.next_offset,
                size_bytes: segment.size_bytes,
                max_timestamp: segment.max_timestamp,
            })
            .collect()
    }

    pub fn producer_state(&self) -> &ProducerStateTable {
        &self.producers
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Gives the storage back, e.g. to simulate a crash and reopen.
    pub fn into_storage(self) -> S {
        self.storage
    }

    /// Syncs every file written since the last flush, then moves `flushed_offset` to the log
    /// end. The shell calls it when its flush policy says so (per write for acks, or batched),
    /// and acknowledges writes below `flushed_offset` afterwards.
    pub fn flush(&mut self) -> Result<(), StorageError> {
        self.ensure_healthy()?;
        for index in 0..self.segments.len() {
            for (file, bytes) in self.segments[index].take_unwritten() {
                let written = self.storage.append(&file, &bytes);
                self.guard(written)?;
                self.unflushed_files.insert(file);
            }
        }
        // Segment order: a later file is never durable while an earlier one is not.
        while let Some(file) = self.unflushed_files.first().cloned() {
            let synced = self.storage.sync(&file);
            self.guard(synced)?;
            self.unflushed_files.remove(&file);
        }
        self.flushed_offset = self.log_end_offset;
        Ok(())
    }

    fn ensure_healthy(&self) -> Result<(), StorageError> {
        if self.failed {
            return Err(StorageError::Io {
                file: "log".into(),
                reason: "an earlier write failed; reopen the log to recover".into(),
            });
        }
        Ok(())
    }

    /// Marks the log failed if a storage write failed.
    fn guard<T>(&mut self, result: Result<T, StorageError>) -> Result<T, StorageError> {
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn active(&self) -> &Segment {
        self.segments
            .last()
            .expect("a log always has an active segment")
    }

    /// Creates the three files of a new segment and syncs them, so a durable segment file
    /// always marks where the log continues.
    fn create_segment(&mut self, base_offset: i64) -> Result<Segment, StorageError> {
        let segment = Segment::new(base_offset);
        for file in segment.created_files() {
            let created = self
                .storage
                .append(&file, b"")
                .and_then(|()| self.storage.sync(&file));
            self.guard(created)?;
        }
        Ok(segment)
    }

    /// Deletes a segment's files (those that exist, its `.txnindex` with the others);
    /// returns their names.
    fn delete_segment_files(&mut self, segment: &Segment) -> Result<Vec<String>, StorageError> {
        let existing = self.storage.list()?;
        let mut deleted_files = Vec::new();
        for file in segment.files() {
            if existing.contains(&file) {
                let deleted = self.storage.delete(&file);
                self.guard(deleted)?;
                deleted_files.push(file.clone());
            }
            self.unflushed_files.remove(&file);
        }
        Ok(deleted_files)
    }

    /// Checks the invariants that tie the offsets together.
    fn assert_invariants(&self) {
        let first = &self.segments[0];
        assert!(
            first.base_offset <= self.log_start_offset,
            "log start below the first segment"
        );
        assert!(
            self.log_start_offset <= self.log_end_offset,
            "log start beyond log end"
        );
        assert!(
            self.flushed_offset <= self.log_end_offset,
            "flushed beyond log end"
        );
        assert_eq!(
            self.active().next_offset,
            self.log_end_offset,
            "active segment ends at log end"
        );
        debug_assert!(
            self.segments
                .windows(2)
                .all(|w| w[0].next_offset <= w[1].base_offset)
        );
    }
}

fn assert_valid(config: &LogConfig) {
    assert!(
        (1..=MAX_SEGMENT_BYTES).contains(&config.segment_bytes),
        "segment_bytes out of range"
    );
    assert!(
        (0.0..=1.0).contains(&config.min_cleanable_dirty_ratio),
        "min_cleanable_dirty_ratio out of range"
    );
}

#[cfg(test)]
mod compressed_tests;
#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod txn_index_tests;
#[cfg(test)]
mod txn_tests;
