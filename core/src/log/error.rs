//! What each log operation can fail with, mapped to Kafka's error codes.

use crate::ErrorCode;
use crate::batch::{BatchError, CodecError, OpenError};
use crate::producer_state::ProducerError;
use crate::storage::StorageError;

/// Why an append was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Producer(#[from] ProducerError),
    /// A compressed batch the log's codecs cannot open: no such codec here (the playground:
    /// `UNSUPPORTED_COMPRESSION_TYPE`), corrupt (`CORRUPT_MESSAGE`), or decompressing past
    /// [`super::append::APPEND_DECOMPRESSED_MAX_BYTES`] (`MESSAGE_TOO_LARGE`); see
    /// [`CodecError::code`].
    #[error("cannot open the compressed batch: {0}")]
    Codec(#[from] CodecError),
    /// The batch is larger than the topic's `max.message.bytes`.
    #[error("batch of {size_bytes} bytes exceeds max.message.bytes {max_bytes}")]
    MessageTooLarge { size_bytes: u64, max_bytes: u64 },
    /// The batch could never fit in a segment (`segment.bytes`).
    #[error("batch of {size_bytes} bytes exceeds segment.bytes {segment_bytes}")]
    RecordListTooLarge { size_bytes: u64, segment_bytes: u64 },
    /// Records without a key sent to a compacted topic (`cleanup.policy` contains `compact`):
    /// the whole batch is refused, and each such record reported by its index in the batch
    /// (Kafka's `LogValidator.validateKey`, answered per record since KIP-467).
    #[error("compacted topic cannot accept message without key (records {batch_indexes:?})")]
    KeylessRecords { batch_indexes: Vec<i32> },
    /// Replicated batches must continue the log exactly where it ends.
    #[error("replicated batch starts at offset {got}, log ends at {expected}")]
    UnexpectedOffset { expected: i64, got: i64 },
    /// The batch's offsets would pass `i64::MAX`: the log can take no more records (its end
    /// offset came from a corrupt or hostile log-start checkpoint, or a follower's batch
    /// numbered near the end of the offset space). Kafka has no error code for a log out of
    /// offsets; its append fails with an unclassified `KafkaException`, which its produce path
    /// answers with `UNKNOWN_SERVER_ERROR` (not retriable, so producers stop instead of looping),
    /// and so does Partita, with this message.
    #[error(
        "log out of offsets: a batch of {records} records at log end {log_end_offset} would pass i64::MAX"
    )]
    OffsetOverflow { log_end_offset: i64, records: i64 },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl AppendError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AppendError::Batch(err) => err.code(),
            AppendError::Producer(err) => err.code(),
            AppendError::Codec(err) => err.code(),
            AppendError::MessageTooLarge { .. } => ErrorCode::MESSAGE_TOO_LARGE,
            AppendError::RecordListTooLarge { .. } => ErrorCode::RECORD_LIST_TOO_LARGE,
            AppendError::KeylessRecords { .. } => ErrorCode::INVALID_RECORD,
            AppendError::UnexpectedOffset { .. } | AppendError::OffsetOverflow { .. } => {
                ErrorCode::UNKNOWN_SERVER_ERROR
            }
            AppendError::Storage(err) => err.code(),
        }
    }
}

impl From<OpenError> for AppendError {
    fn from(err: OpenError) -> Self {
        match err {
            OpenError::Batch(err) => AppendError::Batch(err),
            OpenError::Codec(err) => AppendError::Codec(err),
        }
    }
}

/// Why a read (Fetch, ListOffsets) failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Below the log start or beyond the log end: the consumer applies `auto.offset.reset`.
    #[error("offset {offset} is outside the log [{log_start_offset}, {log_end_offset}]")]
    OffsetOutOfRange {
        offset: i64,
        log_start_offset: i64,
        log_end_offset: i64,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ReadError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ReadError::OffsetOutOfRange { .. } => ErrorCode::OFFSET_OUT_OF_RANGE,
            ReadError::Storage(err) => err.code(),
        }
    }
}

/// Why DeleteRecords failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeleteRecordsError {
    /// Records can only be deleted up to the log end.
    #[error("offset {offset} is beyond the log end {log_end_offset}")]
    OffsetOutOfRange { offset: i64, log_end_offset: i64 },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl DeleteRecordsError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DeleteRecordsError::OffsetOutOfRange { .. } => ErrorCode::OFFSET_OUT_OF_RANGE,
            DeleteRecordsError::Storage(err) => err.code(),
        }
    }
}
