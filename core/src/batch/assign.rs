//! Offset assignment in place: the leader rewrites two header fields and nothing else.

use super::header::{BASE_OFFSET_AT, PARTITION_LEADER_EPOCH_AT};
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
