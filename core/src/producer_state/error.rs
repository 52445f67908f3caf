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
    /// A non-transactional batch from a producer with a transaction open here (Kafka's
    /// `ProducerAppendInfo.checkProducerEpoch`/`maybeValidateDataBatch`: INVALID_TXN_STATE).
    #[error(
        "producer {producer_id} has an ongoing transaction; a non-transactional batch is refused"
    )]
    NotTransactional { producer_id: i64 },
    /// A commit or abort marker from a coordinator older than the last one seen for this
    /// producer (TRANSACTION_COORDINATOR_FENCED).
    #[error("producer {producer_id}: marker from coordinator epoch {got}, last seen {current}")]
    CoordinatorFenced {
        producer_id: i64,
        current: i32,
        got: i32,
    },
}

impl ProducerError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ProducerError::FencedEpoch { .. } => ErrorCode::INVALID_PRODUCER_EPOCH,
            ProducerError::OutOfOrderSequence { .. } => ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
            ProducerError::NotTransactional { .. } => ErrorCode::INVALID_TXN_STATE,
            ProducerError::CoordinatorFenced { .. } => ErrorCode::TRANSACTION_COORDINATOR_FENCED,
        }
    }
}
