//! The log cleaner: compaction of a `cleanup.policy=compact` log, keeping for every key the
//! record with the highest offset (Kafka's `LogCleaner`, `Cleaner` and `LogCleanerManager`).
//!
//! A log is split at the cleaner's checkpoint, the **first dirty offset**: below it the log
//! is clean (each key appears at most once since the last cleaning), above it records are
//! dirty. A cleaning round:
//!
//! 1. **Maps** the dirty section `[first dirty, first uncleanable)` into an [`OffsetMap`] of
//!    key -> latest offset, as far as `log.cleaner.dedupe.buffer.size` allows. The first
//!    uncleanable offset is the base of the segment holding the earliest of: the active
//!    segment, the upper bound the caller gives (the broker's last stable offset: records
//!    that may still be truncated, or belong to a transaction not ended yet, are never
//!    cleaned), and the first segment younger than
//!    `min.compaction.lag.ms`. The segments below it are synced first (Kafka flushes a
//!    segment when it rolls): a record must never be dropped for a newer one that a crash
//!    could still lose.
//! 2. **Rewrites** every segment from the log start up to where the map ends, in groups that
//!    fit one segment (`segment.bytes`), each group into one new segment: a record stays if
//!    no later record has its key and it is not of an aborted transaction (those are neither
//!    mapped nor kept, as in Kafka's cleaner; commit and abort markers stay whole); a tombstone (null value) stays until its batch's delete
//!    horizon (KIP-534: stamped `delete.retention.ms` after the cleaning that first kept it)
//!    has passed; keyless records go. Offsets never change: a rewritten batch keeps its base
//!    offset, `lastOffsetDelta`, leader epoch and producer fields, and a batch is kept as its
//!    header alone where something depends on it (a producer's last sequence, the first batch
//!    of a leader epoch, the last batch of the group so the segment still ends where it did).
//! 3. **Swaps** each group in crash-safely (`swap`), and finally moves the checkpoint to where
//!    the map ended.
//!
//! The work is incremental: [`Log::clean_step`] reads at most half of
//! `log.cleaner.io.buffer.size` (Kafka's read buffer; the other half is its write buffer) and
//! returns. Anything else that removes segments (retention, DeleteRecords, truncation) or
//! changes the config aborts a round in progress; the next one starts over.
//!
//! Compressed batches are opened with the shell's [`Codecs`] (the core carries none), each
//! decompressed into at most [`CleanerConfig::max_decompressed_batch_bytes`], mapped and
//! filtered like any other, and rewritten with their own codec (Kafka's cleaner recompresses
//! too). One that cannot be opened (no such codec here, as in the wasm playground; corrupt;
//! inflating past the bound) is kept whole and unread, and counted in
//! [`CleanerStats::unread_batches`]; while one lies in the log before a tombstone, that
//! tombstone is kept too, since it may be all that hides an older value of its key inside.

mod aborted;
mod filter;
mod offset_map;
pub(super) mod swap;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use super::segment::{Segment, header_at};
use super::{Log, checkpoint, txn_index};
use crate::Millis;
use crate::batch::{
    Codecs, DECOMPRESSED_BATCH_MAX_BYTES, HEADER_BYTES, NoCodecs, raw_records_section,
    validate_stored_batch,
};
use crate::storage::{Storage, StorageError};
use aborted::AbortedRanges;
use filter::{Judge, Kept};
use offset_map::OffsetMap;

/// The broker-level settings of the cleaner, with Kafka's names and defaults, and the codecs
/// the shell lends it.
#[derive(Clone, Copy)]
pub struct CleanerConfig {
    /// `log.cleaner.dedupe.buffer.size`: bytes for the key -> offset map of one round.
    pub dedupe_buffer_size: u64,
    /// `log.cleaner.io.buffer.load.factor`: how full the dedupe map may get.
    pub dedupe_buffer_load_factor: f64,
    /// `log.cleaner.io.buffer.size`: half of it is read per [`Log::clean_step`] (compressed
    /// batches count with their decompressed size too).
    pub io_buffer_size: u64,
    /// The most one compressed batch's records may inflate to in the cleaner; a batch past
    /// it is kept unread ([`DECOMPRESSED_BATCH_MAX_BYTES`] by default).
    pub max_decompressed_batch_bytes: usize,
    /// The codecs that open and rewrite compressed batches: [`NoCodecs`] by default (they are
    /// then kept unread); the native shell lends the real ones.
    pub codecs: &'static dyn Codecs,
}

impl Default for CleanerConfig {
    fn default() -> Self {
        CleanerConfig {
            dedupe_buffer_size: 128 * 1024 * 1024,
            dedupe_buffer_load_factor: 0.9,
            io_buffer_size: 512 * 1024,
            max_decompressed_batch_bytes: DECOMPRESSED_BATCH_MAX_BYTES,
            codecs: &NoCodecs,
        }
    }
}

impl fmt::Debug for CleanerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CleanerConfig")
            .field("dedupe_buffer_size", &self.dedupe_buffer_size)
            .field("dedupe_buffer_load_factor", &self.dedupe_buffer_load_factor)
            .field("io_buffer_size", &self.io_buffer_size)
            .field(
                "max_decompressed_batch_bytes",
                &self.max_decompressed_batch_bytes,
            )
            .field("codecs", &self.codecs)
            .finish()
    }
}

/// Equal when the sizes are and the codecs are the same object.
impl PartialEq for CleanerConfig {
    fn eq(&self, other: &Self) -> bool {
        self.dedupe_buffer_size == other.dedupe_buffer_size
            && self.dedupe_buffer_load_factor == other.dedupe_buffer_load_factor
            && self.io_buffer_size == other.io_buffer_size
            && self.max_decompressed_batch_bytes == other.max_decompressed_batch_bytes
            && std::ptr::addr_eq(self.codecs, other.codecs)
    }
}

impl CleanerConfig {
    fn read_budget_bytes(&self) -> u64 {
        (self.io_buffer_size / 2).max(1)
    }

    fn map_capacity_bytes(&self) -> u64 {
        (self.dedupe_buffer_size as f64 * self.dedupe_buffer_load_factor) as u64
    }
}

/// What a cleaning would cover now (Kafka's `LogToClean`), for the choice of the filthiest
/// log and for display.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CleanableRange {
    pub first_dirty_offset: i64,
    /// The base offset of the first segment that cannot be cleaned yet.
    pub first_uncleanable_offset: i64,
    /// Bytes of the segments below the first dirty offset.
    pub clean_bytes: u64,
    /// Bytes of the segments from the one holding the first dirty offset to the first
    /// uncleanable one.
    pub cleanable_bytes: u64,
    /// How long past `max.compaction.lag.ms` the oldest dirty segment is; above 0, the log is
    /// cleaned whatever its dirty ratio.
    pub compaction_delay_ms: u64,
    /// The log's `min.cleanable.dirty.ratio`.
    pub min_cleanable_dirty_ratio: f64,
}

impl CleanableRange {
    /// cleanable / (clean + cleanable) bytes.
    pub fn dirty_ratio(&self) -> f64 {
        let total = self.clean_bytes + self.cleanable_bytes;
        if total == 0 {
            return 0.0;
        }
        self.cleanable_bytes as f64 / total as f64
    }

    /// Kafka's condition: past `max.compaction.lag.ms` with something to clean, or dirtier
    /// than `min.cleanable.dirty.ratio`.
    pub fn should_clean(&self) -> bool {
        (self.compaction_delay_ms > 0 && self.cleanable_bytes > 0)
            || self.dirty_ratio() > self.min_cleanable_dirty_ratio
    }
}

/// What a finished round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanerStats {
    /// The dirty section that was mapped: `[first dirty, end)`; `end` is the new checkpoint.
    pub first_dirty_offset: i64,
    pub end_offset: i64,
    pub keys_mapped: usize,
    /// How full the dedupe map got, in percent of its capacity (Kafka's buffer utilization).
    pub map_utilization_percent: u32,
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub records_read: u64,
    pub records_kept: u64,
    /// Base offsets of the segments written (one per group).
    pub segments_written: Vec<i64>,
    /// Compressed batches kept whole because they could not be opened (see the module docs),
    /// and why the last one could not.
    pub unread_batches: u64,
    pub last_unread_reason: Option<String>,
}

/// The outcome of one [`Log::clean_step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CleanerStep {
    /// No round is in progress.
    Idle,
    /// The round goes on at the next step.
    Working,
    /// The round is over.
    Done(CleanerStats),
}

/// Where the checkpoint of the cleaner (the first dirty offset) is kept.
pub(super) const CLEANER_CHECKPOINT_FILE: &str = "cleaner-offset.checkpoint";

/// A round in progress.
#[derive(Debug)]
pub(super) struct Cleaning {
    now_ms: i64,
    first_uncleanable: i64,
    map: OffsetMap,
    /// The aborted transactions below `first_uncleanable`: their records are left out.
    aborted: AbortedRanges,
    /// The last offset of each producer's last batch among those mapped or below the dirty
    /// section (read while mapping): those batches keep at least their header, so the
    /// producer's last sequence number survives compaction (and a crash of what is above).
    producer_last_offsets: BTreeMap<i64, i64>,
    phase: Phase,
    stats: CleanerStats,
}

#[derive(Debug)]
enum Phase {
    /// Reading the dirty section: the next batch is at `position` of the segment at `base`.
    Mapping {
        base: i64,
        position: u64,
    },
    Rewriting(Box<Rewrite>),
}

#[derive(Debug)]
struct Rewrite {
    /// Groups of segments (by base offset) still to clean, in offset order.
    groups: VecDeque<Vec<i64>>,
    current: Option<GroupWork>,
    /// The leader epoch of the batch read before, across groups.
    previous_epoch: Option<i32>,
    /// A compressed batch was met earlier in this round (see the module docs).
    opaque_seen: bool,
}

#[derive(Debug)]
struct GroupWork {
    bases: Vec<i64>,
    /// The offset after the group's last source batch: the cleaned copy ends there too.
    end_offset: i64,
    /// Which source segment, and where in it, comes next.
    index: usize,
    position: u64,
    /// The cleaned copy as written so far.
    output: Segment,
}

impl<S: Storage> Log<S> {
    /// What cleaning this log now would cover, `None` unless `cleanup.policy` has `compact`
    /// or when the log is empty. Nothing at or above `upper_bound` is ever cleaned (the
    /// broker passes the last stable offset, as Kafka does: an open transaction's records
    /// may still be aborted; a log without transactions may pass its high watermark).
    pub fn cleanable_range(&self, now: Millis, upper_bound: i64) -> Option<CleanableRange> {
        if !self.config.compact {
            return None;
        }
        let first_dirty = self.first_dirty_offset();
        let now_ms = now.0 as i64;
        let inactive = &self.segments[..self.segments.len() - 1];
        let lag = self.config.min_compaction_lag_ms.0 as i64;
        let too_young = inactive
            .iter()
            .filter(|s| s.next_offset > first_dirty)
            .find(|s| lag > 0 && s.max_timestamp > now_ms.saturating_sub(lag))
            .map(|s| s.base_offset);
        // Unsynced records may be cleaned: the cleaned copy is synced before it replaces them.
        let bound = [
            Some(self.active().base_offset),
            Some(upper_bound),
            too_young,
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("the active segment is always there")
        .max(first_dirty);
        // Whole segments only: the first uncleanable one is the segment holding the bound.
        let first_uncleanable = self
            .segments
            .iter()
            .find(|s| s.next_offset > bound || s.base_offset >= bound)
            .map_or(self.log_end_offset, |s| s.base_offset)
            .max(self.segments[0].base_offset);
        let clean_bytes = self
            .segments
            .iter()
            .filter(|s| s.base_offset < first_dirty)
            .map(|s| s.size_bytes)
            .sum();
        let from = first_dirty.min(first_uncleanable);
        let cleanable_bytes = self
            .segments
            .iter()
            .filter(|s| s.next_offset > from && s.base_offset < first_uncleanable)
            .map(|s| s.size_bytes)
            .sum::<u64>();
        if clean_bytes + cleanable_bytes == 0 {
            return None;
        }
        let max_lag = self.config.max_compaction_lag_ms.0 as i64;
        let earliest_dirty = inactive
            .iter()
            .filter(|s| s.next_offset > first_dirty)
            .filter_map(|s| s.rolling_timestamp.filter(|&t| t > 0))
            .min();
        let clean_until = now_ms.saturating_sub(max_lag.max(0));
        let compaction_delay_ms = earliest_dirty
            .filter(|&t| t < clean_until)
            .map_or(0, |t| (clean_until - t) as u64);
        Some(CleanableRange {
            first_dirty_offset: first_dirty,
            first_uncleanable_offset: first_uncleanable,
            clean_bytes,
            cleanable_bytes,
            compaction_delay_ms,
            min_cleanable_dirty_ratio: self.config.min_cleanable_dirty_ratio,
        })
    }

    /// The cleaner's checkpoint, reset to the log start when it lies outside the log (Kafka's
    /// `LogCleanerManager.cleanableOffsets`).
    pub fn first_dirty_offset(&self) -> i64 {
        let checkpoint = self.first_dirty_offset;
        if checkpoint < self.log_start_offset || checkpoint > self.log_end_offset {
            self.log_start_offset
        } else {
            checkpoint
        }
    }

    pub fn is_cleaning(&self) -> bool {
        self.cleaning.is_some()
    }

    /// Starts a round over `range` (from [`Log::cleanable_range`]); tombstone horizons are
    /// judged and stamped with `now`. A round already in progress is abandoned first.
    pub fn begin_cleaning(
        &mut self,
        range: &CleanableRange,
        now: Millis,
        config: &CleanerConfig,
    ) -> Result<(), StorageError> {
        self.ensure_healthy()?;
        self.abort_cleaning()?;
        self.sync_segments_below(range.first_uncleanable_offset)?;
        let first_dirty = range.first_dirty_offset;
        self.cleaning = Some(Cleaning {
            now_ms: now.0 as i64,
            first_uncleanable: range.first_uncleanable_offset,
            map: OffsetMap::new(config.map_capacity_bytes()),
            aborted: AbortedRanges::new(
                self.aborted_transactions(self.log_start_offset, range.first_uncleanable_offset)?,
            ),
            producer_last_offsets: BTreeMap::new(),
            // From the log's first segment: the clean section's batch headers are read for
            // the producers' last batches, the dirty section's records for the map.
            phase: Phase::Mapping {
                base: self.segments[0].base_offset,
                position: 0,
            },
            stats: CleanerStats {
                first_dirty_offset: first_dirty,
                ..CleanerStats::default()
            },
        });
        Ok(())
    }

    /// Does one bounded step of the round in progress (see the module docs).
    pub fn clean_step(&mut self, config: &CleanerConfig) -> Result<CleanerStep, StorageError> {
        self.ensure_healthy()?;
        let Some(mut cleaning) = self.cleaning.take() else {
            return Ok(CleanerStep::Idle);
        };
        let mut budget = config.read_budget_bytes();
        let done = loop {
            let result = match cleaning.phase {
                Phase::Mapping { .. } => self.map_step(&mut cleaning, &mut budget, config),
                Phase::Rewriting(_) => self.rewrite_step(&mut cleaning, &mut budget, config),
            };
            match self.guard(result) {
                Err(err) => {
                    // Leave no partial file behind; the log is failed until reopened anyway.
                    self.cleaning = Some(cleaning);
                    let _ = self.abort_cleaning();
                    return Err(err);
                }
                Ok(true) => break true,
                Ok(false) if budget == 0 => break false,
                Ok(false) => {}
            }
        };
        if !done {
            self.cleaning = Some(cleaning);
            return Ok(CleanerStep::Working);
        }
        let end = cleaning.stats.end_offset;
        let written = checkpoint::write_file(&mut self.storage, CLEANER_CHECKPOINT_FILE, end);
        self.guard(written)?;
        self.first_dirty_offset = end;
        self.assert_invariants();
        Ok(CleanerStep::Done(cleaning.stats))
    }

    /// Runs a whole round now if the log is dirty enough (or past its max compaction lag):
    /// what the broker does over many steps, in one call, for tests and tools.
    pub fn clean_now(
        &mut self,
        now: Millis,
        upper_bound: i64,
        config: &CleanerConfig,
    ) -> Result<Option<CleanerStats>, StorageError> {
        let Some(range) = self.cleanable_range(now, upper_bound) else {
            return Ok(None);
        };
        if !range.should_clean() {
            return Ok(None);
        }
        self.begin_cleaning(&range, now, config)?;
        loop {
            match self.clean_step(config)? {
                CleanerStep::Working => {}
                CleanerStep::Idle => return Ok(None),
                CleanerStep::Done(stats) => return Ok(Some(stats)),
            }
        }
    }

    /// Abandons the round in progress, deleting its unfinished file. Called before anything
    /// else removes segments or changes the config.
    pub fn abort_cleaning(&mut self) -> Result<(), StorageError> {
        let Some(cleaning) = self.cleaning.take() else {
            return Ok(());
        };
        if let Phase::Rewriting(rewrite) = cleaning.phase
            && let Some(work) = rewrite.current
        {
            let file = swap::cleaned_file(work.bases[0]);
            if self.storage.list()?.contains(&file) {
                let deleted = self.storage.delete(&file);
                self.guard(deleted)?;
            }
        }
        Ok(())
    }

    /// Lowers the cleaner checkpoint to `offset` if it is above (after a truncation: what
    /// comes next at those offsets is dirty), durably.
    pub(super) fn lower_cleaner_checkpoint(&mut self, offset: i64) -> Result<(), StorageError> {
        if self.first_dirty_offset > offset {
            let written =
                checkpoint::write_file(&mut self.storage, CLEANER_CHECKPOINT_FILE, offset);
            self.guard(written)?;
            self.first_dirty_offset = offset;
        }
        Ok(())
    }

    /// Syncs the `.log` files of the segments below `offset`, oldest first.
    fn sync_segments_below(&mut self, offset: i64) -> Result<(), StorageError> {
        let files: Vec<String> = self
            .segments
            .iter()
            .filter(|s| s.base_offset < offset)
            .map(Segment::log_file)
            .filter(|file| self.unflushed_files.contains(file))
            .collect();
        for file in files {
            let synced = self.storage.sync(&file);
            self.guard(synced)?;
            self.unflushed_files.remove(&file);
        }
        Ok(())
    }

    fn segment_index(&self, base: i64) -> Option<usize> {
        self.segments.iter().position(|s| s.base_offset == base)
    }

    /// Maps dirty batches until the budget is spent; `Ok(true)` when the round is over
    /// (nothing dirty to clean), `Ok(false)` otherwise (mapping done moves to rewriting).
    fn map_step(
        &mut self,
        cleaning: &mut Cleaning,
        budget: &mut u64,
        config: &CleanerConfig,
    ) -> Result<bool, StorageError> {
        let Phase::Mapping { base, position } = &mut cleaning.phase else {
            unreachable!("mapping")
        };
        let first_dirty = cleaning.stats.first_dirty_offset;
        let mut full = false;
        while *budget > 0 && *base < cleaning.first_uncleanable {
            let index = self
                .segment_index(*base)
                .expect("segments in a round are never removed while it runs");
            let segment = &self.segments[index];
            if *position >= segment.size_bytes {
                let next = self
                    .segments
                    .get(index + 1)
                    .map_or(self.log_end_offset, |s| s.base_offset);
                cleaning.map.update_latest_offset(next - 1);
                (*base, *position) = (next, 0);
                continue;
            }
            let file = segment.log_file();
            let header = header_at(&self.storage, &file, *position)?;
            let size = header.size_bytes();
            if header.next_offset() > first_dirty {
                *budget = budget.saturating_sub(size as u64);
                let bytes = self.storage.read(&file, *position, size)?;
                // An aborted transaction's records are never the latest value of a key.
                let mapped = cleaning.aborted.contains(&header)
                    || map_batch(&mut cleaning.map, &bytes, first_dirty, config, budget)?;
                if !mapped {
                    full = true;
                    break;
                }
                cleaning.map.update_latest_offset(header.last_offset());
                cleaning.stats.bytes_read += size as u64;
            } else {
                *budget = budget.saturating_sub(HEADER_BYTES as u64);
            }
            if header.has_producer_id() && !header.is_control() {
                cleaning
                    .producer_last_offsets
                    .insert(header.producer_id, header.last_offset());
            }
            *position += size as u64;
        }
        if !full && *base < cleaning.first_uncleanable {
            return Ok(false);
        }
        let end = if full {
            cleaning.map.latest_offset() + 1
        } else {
            cleaning.first_uncleanable
        };
        cleaning.stats.end_offset = end.max(first_dirty);
        cleaning.stats.keys_mapped = cleaning.map.len();
        cleaning.stats.map_utilization_percent =
            (cleaning.map.utilization() * 100.0).round() as u32;
        if end <= first_dirty {
            return Ok(true);
        }
        cleaning.phase = Phase::Rewriting(Box::new(Rewrite {
            groups: self.group_segments(end),
            current: None,
            previous_epoch: None,
            opaque_seen: false,
        }));
        Ok(false)
    }

    /// The segments below `end`, grouped so that each group fits one segment (Kafka's
    /// `groupSegmentsBySize`: total size within `segment.bytes`, offsets within an int).
    fn group_segments(&self, end: i64) -> VecDeque<Vec<i64>> {
        let mut groups: VecDeque<Vec<i64>> = VecDeque::new();
        let mut size = 0;
        for segment in self.segments.iter().filter(|s| s.base_offset < end) {
            let fits = groups.back().is_some_and(|group| {
                let span = segment.next_offset - group[0];
                size + segment.size_bytes <= self.config.segment_bytes
                    && span <= i64::from(i32::MAX)
            });
            if fits {
                groups
                    .back_mut()
                    .expect("a group")
                    .push(segment.base_offset);
                size += segment.size_bytes;
            } else {
                groups.push_back(vec![segment.base_offset]);
                size = segment.size_bytes;
            }
        }
        groups
    }

    /// Rewrites batches until the budget is spent; `Ok(true)` once the last group is in.
    fn rewrite_step(
        &mut self,
        cleaning: &mut Cleaning,
        budget: &mut u64,
        config: &CleanerConfig,
    ) -> Result<bool, StorageError> {
        let Phase::Rewriting(rewrite) = &mut cleaning.phase else {
            unreachable!("rewriting")
        };
        while *budget > 0 {
            let Some(work) = &mut rewrite.current else {
                let Some(bases) = rewrite.groups.pop_front() else {
                    return Ok(true);
                };
                rewrite.current = Some(self.start_group(bases)?);
                continue;
            };
            let index = self
                .segment_index(work.bases[work.index])
                .expect("segments in a round are never removed while it runs");
            let source = &self.segments[index];
            if work.position >= source.size_bytes {
                work.index += 1;
                work.position = 0;
                if work.index == work.bases.len() {
                    let work = rewrite.current.take().expect("a group");
                    self.install_group(work, &mut cleaning.stats)?;
                }
                continue;
            }
            let file = source.log_file();
            let header = header_at(&self.storage, &file, work.position)?;
            let size = header.size_bytes();
            let bytes = self.storage.read(&file, work.position, size)?;
            *budget = budget.saturating_sub(size as u64);
            let epoch = header.partition_leader_epoch;
            let new_epoch = epoch >= 0 && rewrite.previous_epoch != Some(epoch);
            rewrite.previous_epoch = Some(epoch);
            let producer_last = header.has_producer_id()
                && cleaning.producer_last_offsets.get(&header.producer_id)
                    == Some(&header.last_offset());
            let keep_header = header.next_offset() == work.end_offset || new_epoch || producer_last;
            let judge = Judge {
                map: &cleaning.map,
                aborted: cleaning.aborted.contains(&header),
                now_ms: cleaning.now_ms,
                delete_retention_ms: self.config.delete_retention_ms.0 as i64,
                opaque_before: rewrite.opaque_seen,
                codecs: config.codecs,
                max_decompressed_bytes: config.max_decompressed_batch_bytes,
            };
            let kept =
                filter::judge(&bytes, keep_header, &judge).map_err(|err| StorageError::Io {
                    file: file.clone(),
                    reason: format!("corrupt batch at position {}: {err}", work.position),
                })?;
            if let Kept::Unread(reason) = &kept {
                rewrite.opaque_seen = true;
                cleaning.stats.unread_batches += 1;
                cleaning.stats.last_unread_reason = Some(format!(
                    "batch at offset {} of {file}: {reason}",
                    header.base_offset
                ));
            }
            if let Kept::Rewritten(rewritten) = &kept
                && header.compression() != Ok(crate::batch::Compression::None)
            {
                // Decompressing and recompressing costs about the records' size again.
                *budget = budget.saturating_sub(rewritten.len() as u64);
            }
            cleaning.stats.bytes_read += size as u64;
            cleaning.stats.records_read += header.record_count.max(0) as u64;
            let out = match &kept {
                Kept::Nothing => None,
                Kept::Whole | Kept::Unread(_) => Some(&bytes[..]),
                Kept::Rewritten(rewritten) => Some(&rewritten[..]),
            };
            if let Some(out) = out {
                self.write_cleaned(work, out)?;
                cleaning.stats.bytes_written += out.len() as u64;
                cleaning.stats.records_kept += kept_records(out);
            }
            work.position += size as u64;
        }
        Ok(false)
    }

    fn start_group(&mut self, bases: Vec<i64>) -> Result<GroupWork, StorageError> {
        let file = swap::cleaned_file(bases[0]);
        if self.storage.list()?.contains(&file) {
            self.storage.delete(&file)?;
        }
        self.storage.append(&file, b"")?;
        let last = self
            .segment_index(*bases.last().expect("groups are not empty"))
            .expect("segments in a round are never removed while it runs");
        Ok(GroupWork {
            end_offset: self.segments[last].next_offset,
            output: Segment::new(bases[0]),
            bases,
            index: 0,
            position: 0,
        })
    }

    /// Appends one kept batch to the group's cleaned file, checking it as the log would on
    /// reading it back.
    fn write_cleaned(&mut self, work: &mut GroupWork, batch: &[u8]) -> Result<(), StorageError> {
        let summary = validate_stored_batch(batch).unwrap_or_else(|err| {
            panic!("the cleaner wrote an invalid batch: {err}");
        });
        self.storage
            .append(&swap::cleaned_file(work.bases[0]), batch)?;
        let _entries = work
            .output
            .track(&summary, self.config.index_interval_bytes);
        Ok(())
    }

    /// Syncs a finished group's cleaned file, swaps it in for the group's segments with their
    /// aborted-transactions indexes merged into one, and installs its summary in their place.
    fn install_group(
        &mut self,
        work: GroupWork,
        stats: &mut CleanerStats,
    ) -> Result<(), StorageError> {
        assert_eq!(
            work.output.next_offset, work.end_offset,
            "a cleaned group ends where the group did"
        );
        self.storage.sync(&swap::cleaned_file(work.bases[0]))?;
        let first = self
            .segment_index(work.bases[0])
            .expect("segments in a round are never removed while it runs");
        let replaced = first..first + work.bases.len();
        // Abort markers are never dropped: the cleaned segment's aborts are the group's.
        let merged_txn_index = swap::cleaned_txn_index_file(work.bases[0]);
        let mut txn_index_bytes = 0;
        for segment in &self.segments[replaced.clone()] {
            if segment.txn_index_bytes > 0 {
                let (file, len) = (segment.txn_index_file(), segment.txn_index_bytes);
                txn_index::copy(&mut self.storage, &file, len, &merged_txn_index)?;
                txn_index_bytes += len;
            }
        }
        swap::swap_in(&mut self.storage, &work.bases)?;
        for segment in &self.segments[replaced.clone()] {
            for file in segment.files() {
                self.unflushed_files.remove(&file);
            }
        }
        let mut output = work.output;
        self.rewrite_indexes(&output)?;
        if txn_index_bytes > 0 {
            let file = output.txn_index_file();
            self.storage.rename(&merged_txn_index, &file)?;
            self.unflushed_files.insert(file);
            output.txn_index_bytes = txn_index_bytes;
        }
        stats.segments_written.push(output.base_offset);
        self.segments.splice(replaced, [output]);
        self.assert_invariants();
        Ok(())
    }
}

/// Puts the keyed records at or after `first_dirty` of one stored batch in the map; `false`
/// (and nothing put) if they do not fit. Control batches put nothing; compressed ones are
/// opened with the config's codecs (their decompressed size taken from `budget`), and put
/// nothing when they cannot be (the rewrite keeps them unread).
fn map_batch(
    map: &mut OffsetMap,
    batch: &[u8],
    first_dirty: i64,
    config: &CleanerConfig,
    budget: &mut u64,
) -> Result<bool, StorageError> {
    let corrupt = |err: crate::batch::BatchError| StorageError::Io {
        file: "cleaner".into(),
        reason: format!("corrupt batch while mapping: {err}"),
    };
    let header = crate::batch::BatchHeader::parse(batch).map_err(corrupt)?;
    if header.is_control() {
        return Ok(true);
    }
    let opened = filter::open_records(
        batch,
        &header,
        config.codecs,
        config.max_decompressed_batch_bytes,
    )
    .map_err(corrupt)?;
    let Ok(section) = opened else {
        return Ok(true);
    };
    if matches!(section, std::borrow::Cow::Owned(_)) {
        *budget = budget.saturating_sub(section.len() as u64);
    }
    let records = raw_records_section(&header, &section).map_err(corrupt)?;
    let keyed: Vec<(&[u8], i64)> = filter::keyed_offsets(&header, &records, first_dirty).collect();
    let key_bytes = keyed.iter().map(|(key, _)| key.len() as u64).sum();
    if !map.fits(keyed.len(), key_bytes) {
        return Ok(false);
    }
    for (key, offset) in keyed {
        map.put(key, offset);
    }
    Ok(true)
}

fn kept_records(batch: &[u8]) -> u64 {
    crate::batch::BatchHeader::parse(batch).map_or(0, |h| h.record_count.max(0) as u64)
}

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod txn_tests;
