//! What validating a record batch can fail with, each mapped to the code Kafka answers.

use crate::ErrorCode;

/// Why a record batch was rejected. Each variant maps to the error code Kafka's broker sends
/// back for the same fault, so a real client reacts the same way (e.g. retries a
/// `CORRUPT_MESSAGE`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Fewer bytes than the header or the declared batch length.
    #[error("batch truncated: need {needed} bytes, have {available}")]
    Truncated { needed: usize, available: usize },
    /// `batchLength` is below the header size or above [`super::MAX_BATCH_BYTES`].
    #[error("invalid batch length {0}")]
    InvalidLength(i32),
    /// Magic 0 or 1: the pre-0.11 message formats, which Partita does not store.
    #[error("message format magic {0} is not supported, only magic 2")]
    UnsupportedMagic(i8),
    /// A magic byte that no Kafka version ever wrote.
    #[error("invalid magic {0}")]
    InvalidMagic(i8),
    /// The CRC-32C over attributes..end does not match the header.
    #[error("CRC mismatch: header says {expected:#010x}, computed {computed:#010x}")]
    CrcMismatch { expected: u32, computed: u32 },
    /// Compression codec bits 5..=7, which Kafka does not define.
    #[error("unknown compression codec {0}")]
    UnknownCompression(u8),
    /// The record count is zero or negative.
    #[error("batch has {0} records, must have at least one")]
    InvalidRecordCount(i32),
    /// `lastOffsetDelta` disagrees with the record count or the records' own offset deltas.
    #[error("inconsistent offsets: {0}")]
    InconsistentOffsets(&'static str),
    /// The header's record count is not the number of records the batch holds (Kafka's
    /// `DefaultRecordBatch` iterator: "Incorrect declared batch size", an
    /// `InvalidRecordException`, so INVALID_RECORD). Checked for compressed batches too, once
    /// decompressed: offsets are assigned from the count.
    #[error("the batch declares {declared} records but holds {actual}")]
    RecordCountMismatch { declared: i32, actual: usize },
    /// The records of an uncompressed batch do not parse or do not fill the batch exactly.
    #[error("malformed record: {0}")]
    MalformedRecord(&'static str),
    /// A produce request carried a control batch; only the broker writes those.
    #[error("clients may not write control batches")]
    ControlBatchFromClient,
    /// A transactional batch without a producer id (Kafka's `LogValidator`: "transactional
    /// records must have a producer id").
    #[error("a transactional batch needs a producer id")]
    TransactionalWithoutProducerId,
    /// A produce request for one partition carried more or fewer than one batch.
    #[error("a produce request must carry exactly one batch per partition, got {0}")]
    NotOneBatch(usize),
}

impl BatchError {
    /// The Kafka error code for this fault.
    pub fn code(&self) -> ErrorCode {
        match self {
            BatchError::Truncated { .. }
            | BatchError::InvalidLength(_)
            | BatchError::InvalidMagic(_)
            | BatchError::CrcMismatch { .. }
            | BatchError::UnknownCompression(_)
            | BatchError::MalformedRecord(_) => ErrorCode::CORRUPT_MESSAGE,
            BatchError::UnsupportedMagic(_) => ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT,
            BatchError::InvalidRecordCount(_)
            | BatchError::RecordCountMismatch { .. }
            | BatchError::InconsistentOffsets(_)
            | BatchError::ControlBatchFromClient
            | BatchError::TransactionalWithoutProducerId
            | BatchError::NotOneBatch(_) => ErrorCode::INVALID_RECORD,
        }
    }
}
