//! The ways a config can be wrong, with the message a client sees.

use crate::ErrorCode;

/// A config key Partita does not know, a value it cannot accept, or a combination Kafka
/// refuses. All answer `INVALID_CONFIG`; the messages are Kafka's (`ConfigException`,
/// `LogConfig.validateNames`, `LogConfig.validateValues`), so clients print familiar text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not one of Kafka's topic configs.
    #[error("Unknown topic config name: {key}")]
    UnknownTopicConfig { key: String },
    /// Not a broker config Partita knows.
    #[error("Unknown broker config name: {key}")]
    UnknownBrokerConfig { key: String },
    /// The value does not parse as the config's type, or fails its validator.
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    InvalidValue {
        key: String,
        value: String,
        reason: String,
    },
    /// A valid value that the rest of the config (or Partita) rules out, e.g.
    /// `min.compaction.lag.ms` above `max.compaction.lag.ms`, or tiered storage.
    #[error("{0}")]
    Conflict(String),
}

impl ConfigError {
    /// The Kafka error code this error answers with.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::INVALID_CONFIG
    }
}
