//! The one way a config can be wrong, with the message a client sees.

use crate::ErrorCode;

/// A config key Partita does not know, or a value it cannot accept. Both answer
/// `INVALID_CONFIG`; the message names the key so an operator knows what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("Unknown configuration {key:?}")]
    UnknownKey { key: String },
    #[error("Invalid value {value:?} for configuration {key}: {reason}")]
    InvalidValue {
        key: &'static str,
        value: String,
        reason: String,
    },
}

impl ConfigError {
    /// The Kafka error code this error answers with.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::INVALID_CONFIG
    }
}
