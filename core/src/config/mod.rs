//! Topic and broker configs with Kafka's names and defaults.
//!
//! A topic's effective config is the broker's defaults with the topic's own overrides on top,
//! exactly as in Kafka: the controller keeps only the overrides (as `ConfigRecord`s in the
//! metadata log), so changing a broker default changes every topic that did not override it.
//! Keys and values are Kafka's strings, parsed here into typed structs whose field names carry
//! their unit (`retention_ms`, `segment_bytes`). Anything a client sends that is not a known key
//! or not a valid value is a [`ConfigError`], which answers `INVALID_CONFIG`.

mod broker;
mod describe;
mod error;
mod parse;
mod topic;
mod values;

pub use broker::{BrokerConfig, BrokerKey};
pub use describe::{ConfigEntry, ConfigSource, ConfigType, describe_broker, describe_topic};
pub use error::ConfigError;
pub use topic::{TopicConfig, TopicKey};
pub use values::{CleanupPolicy, CompressionType, TimestampType};
