//! Topic and broker configs with Kafka's names, types, defaults, validation and documentation.
//!
//! Every config is a row of a table (`topic_table` for the topic configs and their
//! broker-level synonyms, `broker_table` for the broker's own), and everything is generated
//! from those rows: parsing into the typed [`TopicConfig`] and [`BrokerConfig`] (field names
//! carry their unit: `retention_ms`, `segment_bytes`), DescribeConfigs listings with sources,
//! synonyms and documentation ([`describe_topic`], [`describe_broker`]), and the list of
//! configs the engine does not act on yet ([`not_honoured`], for `--help` and the README).
//!
//! A topic's effective config is the broker's defaults with the topic's own overrides on top,
//! exactly as in Kafka: the controller keeps only the overrides (as records in the metadata
//! log), so changing a broker default changes every topic that did not override it. The
//! broker's defaults come in layers: Kafka's, the static configs it started with, and the
//! dynamic ones (cluster default, then per broker) set at run time. Anything a client sends
//! that is not a known key or not a valid value is a [`ConfigError`] (`INVALID_CONFIG`) with
//! Kafka's message.

mod broker;
mod broker_table;
mod def;
mod describe;
mod error;
mod topic;
mod topic_table;
mod values;

pub use broker::{BrokerConfig, BrokerKey};
pub use broker_table::{BROKER_CONFIGS, BrokerConfigDef};
pub use def::{ConfigDef, ConfigType, ConfigValue, Validator};
pub use describe::{
    BrokerLayers, ConfigEntry, ConfigSource, ConfigSynonym, describe_broker,
    describe_broker_default, describe_topic,
};
pub use error::ConfigError;
pub use topic::TopicConfig;
pub use topic_table::{
    SEGMENT_BYTES_MIN, Synonym, TOPIC_CONFIGS, TopicConfigDef, topic_config_def,
};
pub use values::{CleanupPolicy, CompressionType, TimestampType};

/// The topic configs that are accepted, stored and described but that the engine does not act
/// on yet, by name.
pub fn not_honoured() -> impl Iterator<Item = &'static str> {
    TOPIC_CONFIGS
        .iter()
        .filter(|row| !row.honoured)
        .map(|row| row.def.name)
}

/// The broker configs accepted and described but without effect (the README lists them),
/// sorted by name.
pub fn broker_not_honoured() -> impl Iterator<Item = &'static str> {
    BROKER_CONFIGS
        .iter()
        .filter(|row| !row.honoured)
        .map(|row| row.def.name)
}
