//! Full validation of a batch (lengths, CRC-32C, record count, record structure) and the split
//! of a produce or fetch payload into its batches.

use std::ops::Range;

use super::header::ATTRIBUTES_AT;
use super::records::walk_records;
use super::{BatchError, BatchHeader, Compression, HEADER_BYTES, TimestampType};

/// A batch that passed [`validate_batch`]: its header and what the log indexes by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchSummary {
    pub header: BatchHeader,
    /// Offset delta of the first record carrying the batch's max timestamp. For a compressed
    /// batch, whose records the broker does not open, it is `lastOffsetDelta` (as Kafka's
    /// shallow offset of max timestamp).
    pub max_timestamp_offset_delta: i32,
}

/// Validates a batch as a producer sends it, at the start of `bytes` (which may continue with
/// more batches).
///
/// Checks magic, lengths, the CRC-32C over attributes..end, the compression codec, that the
/// record count is positive and agrees with `lastOffsetDelta`, and for an uncompressed batch
/// that the records parse, are as many as declared, and carry offset deltas 0, 1, 2, ...
pub fn validate_batch(bytes: &[u8]) -> Result<BatchSummary, BatchError> {
    validate(bytes, Origin::Client)
}

/// Validates a batch as the log stores and serves it: as [`validate_batch`], except that a
/// batch rewritten by the log cleaner may have fewer records than `lastOffsetDelta + 1`, none
/// at all (kept empty for producer state, Kafka's `RETAIN_EMPTY`), and gaps between offset
/// deltas, which must still increase and stay within `lastOffsetDelta`.
pub fn validate_stored_batch(bytes: &[u8]) -> Result<BatchSummary, BatchError> {
    validate(bytes, Origin::Log)
}

/// Where a batch comes from: a client writes every offset delta; the log may have compacted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Client,
    Log,
}

fn validate(bytes: &[u8], origin: Origin) -> Result<BatchSummary, BatchError> {
    let header = BatchHeader::parse(bytes)?;
    let size = header.size_bytes();
    let batch = bytes.get(..size).ok_or(BatchError::Truncated {
        needed: size,
        available: bytes.len(),
    })?;
    let computed = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
    if computed != header.crc {
        return Err(BatchError::CrcMismatch {
            expected: header.crc,
            computed,
        });
    }
    let compression = header.compression()?;
    let compacted = origin == Origin::Log;
    let count_ok = if compacted {
        header.record_count >= 0
    } else {
        header.record_count > 0
    };
    if !count_ok || header.last_offset_delta < 0 {
        return Err(BatchError::InvalidRecordCount(header.record_count));
    }
    let span = i64::from(header.last_offset_delta) + 1;
    let count = i64::from(header.record_count);
    if (compacted && count > span) || (!compacted && count != span) {
        return Err(BatchError::InconsistentOffsets(
            "lastOffsetDelta + 1 != record count",
        ));
    }
    let mut max_timestamp_offset_delta = header.last_offset_delta;
    if compression == Compression::None {
        max_timestamp_offset_delta = check_records(&header, &batch[HEADER_BYTES..], origin)?;
    }
    Ok(BatchSummary {
        header,
        max_timestamp_offset_delta,
    })
}

/// Checks the records section of a stored batch with `header` as [`validate_stored_batch`]
/// checks an uncompressed one: for a compressed batch, what its section decompressed to (the
/// log cleaner opens compressed batches this way before trusting their records).
pub fn validate_stored_records(header: &BatchHeader, records: &[u8]) -> Result<(), BatchError> {
    check_records(header, records, Origin::Log).map(|_| ())
}

/// Checks the records section of a producer's batch with `header` as [`validate_batch`]
/// checks an uncompressed one (they parse, are exactly `recordCount` of them:
/// [`BatchError::RecordCountMismatch`] otherwise, with offset deltas 0, 1, 2, ...): for a
/// compressed batch, what its section decompressed to, since the broker assigns offsets from
/// the header's count (Kafka's `LogValidator.validateMessagesAndAssignOffsetsCompressed`).
pub fn validate_client_records(header: &BatchHeader, records: &[u8]) -> Result<(), BatchError> {
    check_records(header, records, Origin::Client).map(|_| ())
}

/// The records of a batch with `header`: they parse, are as many as declared, and carry
/// increasing offset deltas (0, 1, 2, ... from a client; within `lastOffsetDelta` in the log).
/// Returns the offset delta of the first record with the max timestamp.
fn check_records(header: &BatchHeader, records: &[u8], origin: Origin) -> Result<i32, BatchError> {
    let compacted = origin == Origin::Log;
    let mut max_timestamp_offset_delta = header.last_offset_delta;
    let mut next_delta = 0;
    let mut max_timestamp = i64::MIN;
    let count = walk_records(records, |record| {
        let in_order = if compacted {
            record.offset_delta >= next_delta && record.offset_delta <= header.last_offset_delta
        } else {
            record.offset_delta == next_delta
        };
        if !in_order {
            return Err(BatchError::InconsistentOffsets(
                "record offset deltas not 0, 1, 2, ...",
            ));
        }
        let timestamp = header.base_timestamp.wrapping_add(record.timestamp_delta);
        if timestamp > max_timestamp {
            max_timestamp = timestamp;
            max_timestamp_offset_delta = record.offset_delta;
        }
        next_delta = record.offset_delta + 1;
        Ok(())
    })?;
    if count != header.record_count as usize {
        return Err(BatchError::RecordCountMismatch {
            declared: header.record_count,
            actual: count,
        });
    }
    // Stamped by the broker: every record has the batch's max timestamp, the first too.
    if header.timestamp_type() == TimestampType::LogAppendTime {
        max_timestamp_offset_delta = 0;
    }
    Ok(max_timestamp_offset_delta)
}

/// Splits a payload of concatenated batches as the log stores and serves them (a fetch
/// response's `records`, a follower's appends) into batches validated by
/// [`validate_stored_batch`], with each one's byte range. A trailing partial batch is an
/// error, not silently dropped: the sender meant to send it.
pub fn split_batches(payload: &[u8]) -> Result<Vec<(Range<usize>, BatchSummary)>, BatchError> {
    let mut batches = Vec::new();
    let mut position = 0;
    while position < payload.len() {
        let summary = validate_stored_batch(&payload[position..])?;
        let end = position + summary.header.size_bytes();
        batches.push((position..end, summary));
        position = end;
    }
    Ok(batches)
}
