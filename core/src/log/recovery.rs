//! Opening a log over existing storage: validate every batch, cut a torn or corrupt tail,
//! rebuild indexes and producer state.

use std::collections::BTreeSet;

use super::segment::{LOG_SUFFIX, Segment, parse_file_name};
use super::txn_index::{self, Reconciled};
use super::{Log, LogConfig, assert_valid, checkpoint, cleaner};
use crate::producer_state::ProducerStateTable;
use crate::storage::{Storage, StorageError};

/// What opening the log found and repaired, for the shell to log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub segments: usize,
    pub batches: u64,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    /// Where the valid batches stopped, if they did before the end of the files.
    pub truncated: Option<TruncatedTail>,
    /// Files removed: segments after a corrupt one, segments below the log start, index files
    /// without a log file, the log cleaner's unfinished files and the segments a finished
    /// swap replaced.
    pub deleted_files: Vec<String>,
    /// Cleaned segments a crash left committed but not yet in place, now installed.
    pub installed_swaps: Vec<String>,
    /// Aborted-transactions indexes (`.txnindex`) rewritten from their segment's batches
    /// because they were missing, torn or did not match them, each with what was wrong.
    pub rebuilt_txn_indexes: Vec<String>,
}

/// A cut made during recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TruncatedTail {
    pub file: String,
    pub position: u64,
    pub bytes_dropped: u64,
    pub reason: String,
}

impl<S: Storage> Log<S> {
    /// An empty log at offset 0 on empty storage, or the log found in `storage`, repaired.
    ///
    /// Every segment is read and validated batch by batch (Kafka only re-reads the segments
    /// after its recovery point; Partita keeps no recovery point and reads all). At the first
    /// invalid batch (torn, bad CRC, offsets going backwards) its segment is cut there and
    /// all later segments are deleted; nothing after a hole is ever served. Each segment's
    /// aborted-transactions index is rebuilt from its batches as it is read and its
    /// `.txnindex` rewritten where it differs (missing, torn, corrupt), so the file is never
    /// trusted and only one segment's aborts are in memory at a time. The repaired state is
    /// synced, so everything in the log is durable when this returns.
    pub fn open(
        mut storage: S,
        config: LogConfig,
    ) -> Result<(Log<S>, RecoveryReport), StorageError> {
        assert_valid(&config);
        let mut report = RecoveryReport::default();
        // The cleaner's leftovers first: a committed swap becomes a segment, the rest goes.
        let leftovers = cleaner::swap::recover(&mut storage)?;
        report.deleted_files.extend(leftovers.deleted_files);
        report.installed_swaps = leftovers.installed_swaps;
        let files = storage.list()?;
        let log_bases: BTreeSet<i64> = files
            .iter()
            .filter_map(|file| parse_file_name(file))
            .filter(|&(_, suffix)| suffix == LOG_SUFFIX)
            .map(|(base, _)| base)
            .collect();
        for file in &files {
            if parse_file_name(file).is_some_and(|(base, _)| !log_bases.contains(&base)) {
                storage.delete(file)?;
                report.deleted_files.push(file.clone());
            }
        }
        let checkpointed_start = checkpoint::read(&storage)?;
        let first_dirty_offset =
            checkpoint::read_file(&storage, cleaner::CLEANER_CHECKPOINT_FILE)?.unwrap_or(0);
        let mut producers = ProducerStateTable::new();
        let mut txns = super::txn::Unreplicated::default();
        let mut segments: Vec<Segment> = Vec::new();
        let mut rewritten_indexes = Vec::new();
        let mut bases = log_bases.into_iter();
        for base in bases.by_ref() {
            let min_offset = segments.last().map_or(0, |s| s.next_offset);
            if !segments.is_empty() && base != min_offset {
                // A hole: the previous segment lost its unsynced tail. What follows is
                // unreachable and dropped with the rest below.
                let file = Segment::new(base).log_file();
                report.truncated = Some(TruncatedTail {
                    bytes_dropped: storage.len(&file)?,
                    file,
                    position: 0,
                    reason: format!(
                        "segment starts at offset {base} but the log before it ends at {min_offset}"
                    ),
                });
                delete_segment_at(&mut storage, base, &files, &mut report)?;
                break;
            }
            let mut aborts = Vec::new();
            let (mut segment, bad) = Segment::load(
                &storage,
                base,
                min_offset,
                config.index_interval_bytes,
                |header, bytes| {
                    aborts.extend(txns.track(&mut producers, header, bytes));
                    report.batches += 1;
                },
            )?;
            let stop = bad.is_some();
            if let Some(bad) = bad {
                let file = segment.log_file();
                let len = storage.len(&file)?;
                storage.truncate(&file, bad.position)?;
                report.truncated = Some(TruncatedTail {
                    file,
                    position: bad.position,
                    bytes_dropped: len - bad.position,
                    reason: bad.reason,
                });
            }
            let file = segment.txn_index_file();
            let exists = files.binary_search(&file).is_ok();
            let reconciled = txn_index::reconcile(&mut storage, &file, exists, &aborts)?;
            if let Reconciled::Rebuilt(reason) = reconciled {
                report.rebuilt_txn_indexes.push(format!("{file}: {reason}"));
                rewritten_indexes.push(file);
            }
            segment.txn_index_bytes = (aborts.len() * txn_index::ENTRY_BYTES) as u64;
            segments.push(segment);
            if stop {
                break;
            }
        }
        for base in bases {
            delete_segment_at(&mut storage, base, &files, &mut report)?;
        }
        let mut log = Log {
            storage,
            config,
            segments: Vec::new(),
            log_start_offset: 0,
            log_end_offset: 0,
            flushed_offset: 0,
            unflushed_files: BTreeSet::new(),
            producers,
            txns,
            failed: false,
            first_dirty_offset,
            cleaning: None,
            codecs: &crate::batch::NoCodecs,
        };
        log.unflushed_files.extend(rewritten_indexes);
        log.adopt_segments(segments, checkpointed_start.unwrap_or(0), &mut report)?;
        log.flush()?;
        report.segments = log.segments.len();
        report.log_start_offset = log.log_start_offset;
        report.log_end_offset = log.log_end_offset;
        log.assert_invariants();
        Ok((log, report))
    }

    /// Installs the recovered segments: drops those wholly below the checkpointed log start,
    /// restarts an empty log at the checkpoint if nothing is left, rewrites index files.
    fn adopt_segments(
        &mut self,
        mut segments: Vec<Segment>,
        checkpointed_start: i64,
        report: &mut RecoveryReport,
    ) -> Result<(), StorageError> {
        let log_end = segments.last().map_or(0, |s| s.next_offset);
        if segments.is_empty() || log_end < checkpointed_start {
            // The log lost everything up to the checkpoint: continue from it, so offsets
            // below it are never handed out twice.
            for segment in segments.drain(..) {
                report
                    .deleted_files
                    .extend(self.delete_segment_files(&segment)?);
            }
            segments.push(self.create_segment(checkpointed_start)?);
        }
        let below_start = segments[..segments.len() - 1]
            .iter()
            .take_while(|s| s.next_offset <= checkpointed_start)
            .count();
        for segment in segments.drain(..below_start) {
            report
                .deleted_files
                .extend(self.delete_segment_files(&segment)?);
        }
        for segment in &segments {
            self.rewrite_indexes(segment)?;
            // What was read back may sit only in the OS cache: make it durable before
            // `flushed_offset` claims it.
            self.unflushed_files.insert(segment.log_file());
        }
        self.log_start_offset = checkpointed_start.max(segments[0].base_offset);
        self.log_end_offset = segments.last().expect("at least one segment").next_offset;
        self.producers.remove_before(self.log_start_offset);
        self.txns.remove_before(self.log_start_offset);
        self.segments = segments;
        Ok(())
    }
}

/// Deletes the files of the segment at `base` among `files` (those present at open).
fn delete_segment_at(
    storage: &mut impl Storage,
    base: i64,
    files: &[String],
    report: &mut RecoveryReport,
) -> Result<(), StorageError> {
    for file in Segment::new(base).files() {
        if files.contains(&file) {
            storage.delete(&file)?;
            report.deleted_files.push(file);
        }
    }
    Ok(())
}
