//! The listing DescribeConfigs answers with: every key, its value, where the value came from.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{BrokerConfig, BrokerKey, ConfigError, TopicConfig, TopicKey};

/// Where a config value comes from, with Kafka's `ConfigSource` numbering on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ConfigSource {
    /// Kafka's built-in default (`DEFAULT_CONFIG`).
    Default,
    /// Set in the broker's config (`STATIC_BROKER_CONFIG`).
    Broker,
    /// A per-topic override (`DYNAMIC_TOPIC_CONFIG`).
    Topic,
}

impl ConfigSource {
    /// The number DescribeConfigs sends for this source.
    pub fn code(self) -> i8 {
        match self {
            ConfigSource::Topic => 1,
            ConfigSource::Broker => 4,
            ConfigSource::Default => 5,
        }
    }
}

/// A config's value type, with Kafka's `ConfigType` numbering on the wire (DescribeConfigs v3+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Long,
    List,
}

impl ConfigType {
    /// The number DescribeConfigs sends for this type.
    pub fn code(self) -> i8 {
        match self {
            ConfigType::Boolean => 1,
            ConfigType::String => 2,
            ConfigType::Int => 3,
            ConfigType::Long => 5,
            ConfigType::List => 7,
        }
    }
}

/// One line of a DescribeConfigs answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigEntry {
    pub name: &'static str,
    pub value: String,
    pub source: ConfigSource,
    pub config_type: ConfigType,
    /// Topic configs can be altered; Partita has no dynamic broker configs, so broker ones can't.
    pub read_only: bool,
}

/// A topic's configs: its `overrides` on top of the broker's defaults. A broker value equal to
/// Kafka's default is reported as `Default`, since Partita cannot tell it was written down.
pub fn describe_topic(
    broker: &BrokerConfig,
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<ConfigEntry>, ConfigError> {
    let effective = broker
        .topic_defaults
        .with_overrides(overrides.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let kafka = TopicConfig::default();
    Ok(TopicKey::ALL
        .into_iter()
        .map(|key| {
            let value = key.get(&effective);
            let source = if overrides.contains_key(key.name()) {
                ConfigSource::Topic
            } else if key.get(&broker.topic_defaults) != key.get(&kafka) {
                ConfigSource::Broker
            } else {
                ConfigSource::Default
            };
            ConfigEntry {
                name: key.name(),
                value,
                source,
                config_type: key.config_type(),
                read_only: false,
            }
        })
        .collect())
}

/// A broker's configs, under their broker-level names; all read-only.
pub fn describe_broker(broker: &BrokerConfig) -> Vec<ConfigEntry> {
    let kafka = BrokerConfig::default();
    BrokerKey::all()
        .map(|key| {
            let value = key.get(broker);
            let source = if value == key.get(&kafka) {
                ConfigSource::Default
            } else {
                ConfigSource::Broker
            };
            ConfigEntry {
                name: key.name(),
                value,
                source,
                config_type: key.config_type(),
                read_only: true,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(entries: &[ConfigEntry]) -> String {
        entries
            .iter()
            .map(|e| {
                format!(
                    "{}={} {:?}{}",
                    e.name,
                    e.value,
                    e.source,
                    if e.read_only { " ro" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn topic_listing_shows_the_source_of_each_value() {
        let broker = BrokerConfig::from_pairs([
            ("log.retention.ms", "3600000"),
            ("log.segment.bytes", "1024"),
        ])
        .unwrap();
        let overrides: BTreeMap<String, String> =
            [("segment.bytes".to_string(), "2048".to_string())]
                .into_iter()
                .collect();
        let entries = describe_topic(&broker, &overrides).unwrap();
        assert_eq!(
            render(&entries),
            "cleanup.policy=delete Default
compression.type=producer Default
flush.messages=9223372036854775807 Default
flush.ms=9223372036854775807 Default
max.message.bytes=1048588 Default
message.timestamp.type=CreateTime Default
min.insync.replicas=1 Default
retention.bytes=-1 Default
retention.ms=3600000 Broker
segment.bytes=2048 Topic
segment.ms=604800000 Default
unclean.leader.election.enable=false Default"
        );
        assert_eq!(ConfigSource::Topic.code(), 1);
        let types: Vec<i8> = entries.iter().map(|e| e.config_type.code()).collect();
        assert_eq!(types, [7, 2, 5, 5, 3, 2, 3, 5, 5, 3, 5, 1]);
    }

    #[test]
    fn broker_listing_is_read_only() {
        let broker = BrokerConfig::from_pairs([("num.partitions", "6")]).unwrap();
        let entries = describe_broker(&broker);
        let rendered = render(&entries);
        assert!(
            rendered.starts_with("auto.create.topics.enable=true Default ro\n"),
            "{rendered}"
        );
        assert!(
            rendered.contains("\nnum.partitions=6 Broker ro\n"),
            "{rendered}"
        );
        assert!(
            rendered.contains("\nlog.retention.ms=604800000 Default ro\n"),
            "{rendered}"
        );
        assert_eq!(entries.len(), 21);
    }
}
