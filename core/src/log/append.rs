//! Appends: a producer's batch on the leader (validated, deduplicated, offsets assigned in
//! place) and already-numbered batches on a follower.

use super::segment::Segment;
use super::{AppendError, Log};
use crate::Millis;
use crate::batch::{
    BatchError, BatchSummary, Compression, DECOMPRESSED_BATCH_MAX_BYTES, assign_offsets,
    keyless_record_indexes, open_records, set_log_append_time, split_batches, validate_batch,
    validate_client_records,
};
use crate::producer_state::SequenceCheck;
use crate::storage::{Storage, StorageError};

/// The outcome of a produce append, as the Produce response reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendInfo {
    pub base_offset: i64,
    pub last_offset: i64,
    pub log_start_offset: i64,
    /// A resend of a batch already in the log: nothing was written, the offsets are the
    /// original ones.
    pub duplicate: bool,
    /// The time the batch was stamped with, for a `LogAppendTime` topic (else `None`).
    pub log_append_time: Option<Millis>,
}

impl<S: Storage> Log<S> {
    /// Appends a producer's batch as the leader.
    ///
    /// `records` must hold exactly one batch (Produce v3+). It is validated (CRC, record
    /// count, sizes against `max.message.bytes` and `segment.bytes`; its records opened,
    /// decompressed if need be, see [`APPEND_DECOMPRESSED_MAX_BYTES`]: as many as the header
    /// counts, and on a compacted topic each with a key, else
    /// [`AppendError::KeylessRecords`]), checked against the
    /// producer state if the producer is idempotent (a duplicate returns the original offsets
    /// and writes nothing), then stamped with the next offset and `leader_epoch` in place and
    /// written unsynced. It becomes durable at the next [`Log::flush`].
    pub fn append(
        &mut self,
        records: &mut [u8],
        leader_epoch: i32,
        now: Millis,
    ) -> Result<AppendInfo, AppendError> {
        self.ensure_healthy()?;
        let summary = one_client_batch(records)?;
        if summary.header.is_control() {
            return Err(BatchError::ControlBatchFromClient.into());
        }
        let size_bytes = records.len() as u64;
        if size_bytes > self.config.max_message_bytes {
            return Err(AppendError::MessageTooLarge {
                size_bytes,
                max_bytes: self.config.max_message_bytes,
            });
        }
        self.check_fits_segment(size_bytes)?;
        self.check_records(records, &summary)?;
        let idempotent = summary.header.has_producer_id();
        if summary.header.is_transactional() && !idempotent {
            return Err(BatchError::TransactionalWithoutProducerId.into());
        }
        if idempotent
            && let SequenceCheck::Duplicate(original) = self.producers.check(&summary.header)?
        {
            return Ok(AppendInfo {
                base_offset: original.first_offset,
                last_offset: original.last_offset,
                log_start_offset: self.log_start_offset,
                duplicate: true,
                log_append_time: None,
            });
        }
        let base_offset = self.log_end_offset;
        offsets_fit(base_offset, summary.header.last_offset_delta)?;
        assign_offsets(records, base_offset, leader_epoch)?;
        let mut summary = summary;
        summary.header.base_offset = base_offset;
        summary.header.partition_leader_epoch = leader_epoch;
        let log_append_time = self.config.log_append_time.then_some(now);
        if let Some(now) = log_append_time {
            let now_ms = i64::try_from(now.0).unwrap_or(i64::MAX);
            set_log_append_time(records, now_ms)?;
            // The header (offsets included, already assigned) as it is now stored.
            summary = validate_batch(records)?;
        }
        self.write_batch(records, &summary, now)?;
        Ok(AppendInfo {
            base_offset,
            last_offset: summary.header.last_offset(),
            log_start_offset: self.log_start_offset,
            duplicate: false,
            log_append_time,
        })
    }

    /// Appends batches fetched from the leader, as a follower: they already carry their
    /// offsets and leader epochs, and must continue this log at or after its end (after: the
    /// leader's cleaner removed the offsets in between, as Kafka's `appendAsFollower` allows).
    /// Returns the new log end offset.
    pub fn append_replicated(&mut self, records: &[u8], now: Millis) -> Result<i64, AppendError> {
        self.ensure_healthy()?;
        let batches = split_batches(records)?;
        let mut expected = self.log_end_offset;
        for (range, summary) in &batches {
            if summary.header.base_offset < expected {
                return Err(AppendError::UnexpectedOffset {
                    expected,
                    got: summary.header.base_offset,
                });
            }
            self.check_fits_segment(range.len() as u64)?;
            expected = summary.header.next_offset();
        }
        for (range, summary) in &batches {
            self.write_batch(&records[range.clone()], summary, now)?;
        }
        Ok(self.log_end_offset)
    }

    /// Kafka's `LogValidator` pass over a producer's records: a compressed batch is opened
    /// (once, for both checks) and its records must be exactly as many as its header counts,
    /// with offset deltas 0, 1, 2, ... (offsets are assigned from the count; an uncompressed
    /// batch was checked so by `validate_batch`); on a compacted topic every record must
    /// have a key. A batch the codecs cannot open is refused ([`AppendError::Codec`]), never
    /// stored unread: on a compacted topic the cleaner would drop its keyless records after
    /// they were acknowledged.
    fn check_records(&self, records: &[u8], summary: &BatchSummary) -> Result<(), AppendError> {
        let header = &summary.header;
        let compressed = header.compression()? != Compression::None;
        if !compressed && !self.config.compact {
            return Ok(());
        }
        let section = open_records(records, header, self.codecs, APPEND_DECOMPRESSED_MAX_BYTES)?;
        if compressed {
            validate_client_records(header, &section)?;
        }
        if self.config.compact {
            let batch_indexes = keyless_record_indexes(&section)?;
            if !batch_indexes.is_empty() {
                return Err(AppendError::KeylessRecords { batch_indexes });
            }
        }
        Ok(())
    }

    fn check_fits_segment(&self, size_bytes: u64) -> Result<(), AppendError> {
        if size_bytes > self.config.segment_bytes {
            return Err(AppendError::RecordListTooLarge {
                size_bytes,
                segment_bytes: self.config.segment_bytes,
            });
        }
        Ok(())
    }

    /// Writes one validated batch whose header already carries its final offsets.
    pub(super) fn write_batch(
        &mut self,
        bytes: &[u8],
        summary: &BatchSummary,
        now: Millis,
    ) -> Result<(), StorageError> {
        let header = &summary.header;
        assert!(
            header.base_offset >= self.log_end_offset,
            "offsets never go backwards"
        );
        debug_assert_eq!(bytes.len(), header.size_bytes());
        if self.needs_roll(summary, now) {
            // The new segment starts at the log end even if the batch starts later (offsets a
            // leader's cleaner removed): segments stay contiguous, which recovery relies on to
            // tell a lost tail from a gap. Only a gap past the indexes' reach starts it later.
            let reach = header.last_offset() - self.log_end_offset <= i64::from(u32::MAX);
            self.roll(if reach {
                self.log_end_offset
            } else {
                header.base_offset
            })?;
        }
        let log_file = self.active().log_file();
        let written = self.storage.append(&log_file, bytes);
        self.guard(written)?;
        self.unflushed_files.insert(log_file);
        let interval = self.config.index_interval_bytes;
        let segment = self.segments.last_mut().expect("active segment");
        let entries = segment.track(summary, interval);
        segment.defer(&entries);
        self.log_end_offset = header.next_offset();
        if let Some(aborted) = self.txns.track(&mut self.producers, header, bytes) {
            self.index_abort(&aborted)?;
        }
        self.assert_invariants();
        Ok(())
    }

    /// Kafka's roll conditions: the batch would overflow `segment.bytes`, the segment is older
    /// than `segment.ms` (counted from its first batch's timestamp), or the batch's offsets
    /// would not fit the indexes' 32-bit relative offsets. An empty segment never rolls.
    fn needs_roll(&self, summary: &BatchSummary, now: Millis) -> bool {
        let active = self.active();
        if active.is_empty() {
            return false;
        }
        let size = summary.header.size_bytes() as u64;
        let too_big = active.size_bytes + size > self.config.segment_bytes;
        let too_old = active.rolling_timestamp.is_some_and(|first| {
            (now.0 as i64).saturating_sub(first) >= self.config.segment_ms.0 as i64
        });
        let too_far = summary.header.last_offset() - active.base_offset > i64::from(u32::MAX);
        too_big || too_old || too_far
    }

    /// Starts a new active segment at `base_offset`.
    pub(super) fn roll(&mut self, base_offset: i64) -> Result<(), StorageError> {
        assert!(base_offset >= self.log_end_offset);
        let segment: Segment = self.create_segment(base_offset)?;
        self.segments.push(segment);
        Ok(())
    }
}

/// The most a producer's compressed batch may decompress to at append: past it the batch is
/// refused with `MESSAGE_TOO_LARGE` after at most this many bytes were produced.
///
/// It is the fixed [`DECOMPRESSED_BATCH_MAX_BYTES`] (64 MiB), not a bound derived from
/// `max.message.bytes`, because:
/// - `max.message.bytes` bounds the compressed bytes, and the compression ratio has no bound
///   (zeros compress more than a thousandfold with zstd), so any multiple of it is a guess;
///   what bounds a real batch's uncompressed size is the client (`batch.size`, and the Java
///   producer's `max.request.size` checked on uncompressed bytes; librdkafka's
///   `message.max.bytes`; 1 MB by default), far below 64 MiB;
/// - the log cleaner opens batches with the same bound (`CleanerConfig`'s default), so every
///   batch accepted on a compacted topic is one the cleaner can open and compact; a bound
///   per topic could be raised later past what the cleaner opens;
/// - memory: the engine opens one batch at a time, so opening costs at most 64 MiB (the
///   codecs grow their output by doubling but never past the bound), within the 256 MiB the
///   hostile-client test holds the broker to under hundreds of 64 MiB bombs.
///
/// Kafka streams the records instead and has no such bound; a producer whose batch needs
/// more gets `MESSAGE_TOO_LARGE`, which the Java producer answers by splitting the batch.
pub const APPEND_DECOMPRESSED_MAX_BYTES: usize = DECOMPRESSED_BATCH_MAX_BYTES;

/// Refuses a batch whose offsets, numbered from `base_offset`, would pass `i64::MAX` (the next
/// offset after the batch must still be an offset).
pub(super) fn offsets_fit(base_offset: i64, last_offset_delta: i32) -> Result<(), AppendError> {
    let records = i64::from(last_offset_delta) + 1;
    if base_offset.checked_add(records).is_none() {
        return Err(AppendError::OffsetOverflow {
            log_end_offset: base_offset,
            records,
        });
    }
    Ok(())
}

/// The one batch of a produce request, validated as a client's (every offset delta present).
fn one_client_batch(records: &[u8]) -> Result<BatchSummary, BatchError> {
    if records.is_empty() {
        return Err(BatchError::NotOneBatch(0));
    }
    let summary = validate_batch(records)?;
    if summary.header.size_bytes() != records.len() {
        return Err(BatchError::NotOneBatch(split_batches(records)?.len()));
    }
    Ok(summary)
}
