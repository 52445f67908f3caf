//! How an idempotent batch can be refused, mapped to Kafka's codes.

use crate::ErrorCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProducerError {
    /// A zombie producer: a newer instance with the same id has bumped the epoch.
    #[error("producer {producer_id} epoch {got} is older than the current epoch {current}")]
    FencedEpoch {
        producer_id: i64,
        current: i16,
        got: i16,
    },
    /// A batch was lost in between (or arrived early); the producer must not skip it.
    #[error("producer {producer_id}: expected sequence {expected}, got {got}")]
    OutOfOrderSequence {
        producer_id: i64,
        expected: i32,
        got: i32,
    },
}

impl ProducerError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ProducerError::FencedEpoch { .. } => ErrorCode::INVALID_PRODUCER_EPOCH,
            ProducerError::OutOfOrderSequence { .. } => ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
        }
    }
}
