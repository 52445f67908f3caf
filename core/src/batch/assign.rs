//! Offset assignment in place: the leader rewrites two header fields and nothing else; and,
//! for a topic with `message.timestamp.type=LogAppendTime`, the batch's timestamp.

use super::header::{
    ATTRIBUTES_AT, BASE_OFFSET_AT, CRC_AT, MAX_TIMESTAMP_AT, PARTITION_LEADER_EPOCH_AT,
    TIMESTAMP_TYPE_BIT,
};
use super::{BatchError, HEADER_BYTES};

/// Stamps `base_offset` and `partition_leader_epoch` into the batch at the start of `batch`.
///
/// Both fields lie before the CRC-covered range, so the CRC stays valid and the records,
/// compressed or not, are untouched. The caller has validated the batch.
pub fn assign_offsets(
    batch: &mut [u8],
    base_offset: i64,
    partition_leader_epoch: i32,
) -> Result<(), BatchError> {
    if batch.len() < HEADER_BYTES {
        return Err(BatchError::Truncated {
            needed: HEADER_BYTES,
            available: batch.len(),
        });
    }
    debug_assert!(base_offset >= 0, "offsets are never negative");
    batch[BASE_OFFSET_AT..BASE_OFFSET_AT + 8].copy_from_slice(&base_offset.to_be_bytes());
    batch[PARTITION_LEADER_EPOCH_AT..PARTITION_LEADER_EPOCH_AT + 4]
        .copy_from_slice(&partition_leader_epoch.to_be_bytes());
    Ok(())
}

/// Stamps the batch with the broker's append time, as Kafka does for a topic with
/// `message.timestamp.type=LogAppendTime`: the timestamp-type attribute bit is set and
/// `maxTimestamp` becomes `append_time_ms`, which consumers then read as every record's
/// timestamp. Both fields are covered by the CRC, so it is computed again; the records
/// themselves, compressed or not, are untouched. The caller has validated the batch.
pub fn set_log_append_time(batch: &mut [u8], append_time_ms: i64) -> Result<(), BatchError> {
    if batch.len() < HEADER_BYTES {
        return Err(BatchError::Truncated {
            needed: HEADER_BYTES,
            available: batch.len(),
        });
    }
    let attributes = i16::from_be_bytes([batch[ATTRIBUTES_AT], batch[ATTRIBUTES_AT + 1]]);
    batch[ATTRIBUTES_AT..ATTRIBUTES_AT + 2]
        .copy_from_slice(&(attributes | TIMESTAMP_TYPE_BIT).to_be_bytes());
    batch[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8].copy_from_slice(&append_time_ms.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
    batch[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}
