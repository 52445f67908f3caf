//! The listings DescribeConfigs answers with: every config, its value, where the value came
//! from, its synonyms in order of precedence, and Kafka's documentation.
//!
//! This follows Kafka's `ConfigHelper.describeConfigs`: a value's source is that of its first
//! synonym; the synonyms of a broker-level name are looked up layer by layer (this broker's
//! dynamic configs, the cluster's dynamic default, the static configs, Kafka's defaults), each
//! layer in the names' order of precedence, and the list starts at the described name itself
//! (Kafka drops anything before it). A topic's own override comes first, as
//! `DYNAMIC_TOPIC_CONFIG`.

use std::collections::BTreeMap;

use serde::Serialize;

#[cfg(test)]
use super::TopicConfig;
use super::def::{ConfigDef, ConfigType, ConfigValue};
use super::topic_table::{TOPIC_CONFIGS, TopicConfigDef};
use super::{BrokerKey, ConfigError};

/// Where a config value comes from, with Kafka's `ConfigSource` numbering on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ConfigSource {
    /// A per-topic override (`DYNAMIC_TOPIC_CONFIG`).
    DynamicTopic,
    /// Set at run time for this broker (`DYNAMIC_BROKER_CONFIG`).
    DynamicBroker,
    /// Set at run time for every broker (`DYNAMIC_DEFAULT_BROKER_CONFIG`).
    DynamicDefaultBroker,
    /// In the config the broker started with (`STATIC_BROKER_CONFIG`).
    StaticBroker,
    /// Kafka's built-in default (`DEFAULT_CONFIG`).
    Default,
}

impl ConfigSource {
    /// The number DescribeConfigs sends for this source.
    pub fn code(self) -> i8 {
        match self {
            ConfigSource::DynamicTopic => 1,
            ConfigSource::DynamicBroker => 2,
            ConfigSource::DynamicDefaultBroker => 3,
            ConfigSource::StaticBroker => 4,
            ConfigSource::Default => 5,
        }
    }

    /// Kafka's name, as kafka-configs.sh prints it.
    pub fn name(self) -> &'static str {
        match self {
            ConfigSource::DynamicTopic => "DYNAMIC_TOPIC_CONFIG",
            ConfigSource::DynamicBroker => "DYNAMIC_BROKER_CONFIG",
            ConfigSource::DynamicDefaultBroker => "DYNAMIC_DEFAULT_BROKER_CONFIG",
            ConfigSource::StaticBroker => "STATIC_BROKER_CONFIG",
            ConfigSource::Default => "DEFAULT_CONFIG",
        }
    }
}

/// One synonym of a described config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigSynonym {
    pub name: &'static str,
    pub value: Option<String>,
    pub source: ConfigSource,
}

/// One line of a DescribeConfigs answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigEntry {
    pub name: &'static str,
    /// `None` where Kafka's value is null (e.g. `log.retention.ms` when only
    /// `log.retention.hours` applies).
    pub value: Option<String>,
    pub source: ConfigSource,
    pub config_type: ConfigType,
    /// Topic configs can always be altered; a broker config only if it is dynamic.
    pub read_only: bool,
    /// Never true: Partita has no password configs.
    pub is_sensitive: bool,
    /// Kafka's documentation of the config.
    pub documentation: &'static str,
    /// The synonyms in order of precedence, the one in effect first.
    pub synonyms: Vec<ConfigSynonym>,
}

/// The broker-level configs one broker sees, by layer.
#[derive(Clone, Copy, Debug)]
pub struct BrokerLayers<'a> {
    /// Dynamic configs of this broker (resource name = its id).
    pub dynamic_broker: &'a BTreeMap<String, String>,
    /// Dynamic cluster default (resource name `""`).
    pub dynamic_default: &'a BTreeMap<String, String>,
    /// The configs it started with.
    pub static_broker: &'a BTreeMap<String, String>,
}

impl BrokerLayers<'_> {
    /// The value given to `name` in the strongest layer that has one.
    fn raw(&self, name: &str) -> Option<&str> {
        [
            self.dynamic_broker,
            self.dynamic_default,
            self.static_broker,
        ]
        .into_iter()
        .find_map(|layer| layer.get(name))
        .map(String::as_str)
    }

    /// Kafka's `configSynonyms(name, synonyms)`.
    fn synonyms(&self, name: &str, synonyms: &[&'static ConfigDef]) -> Vec<ConfigSynonym> {
        let layers = [
            (self.dynamic_broker, ConfigSource::DynamicBroker),
            (self.dynamic_default, ConfigSource::DynamicDefaultBroker),
            (self.static_broker, ConfigSource::StaticBroker),
        ];
        let mut all = Vec::new();
        for (layer, source) in layers {
            for def in synonyms {
                if let Some(value) = layer.get(def.name) {
                    all.push(ConfigSynonym {
                        name: def.name,
                        value: Some(value.clone()),
                        source,
                    });
                }
            }
        }
        for def in synonyms {
            if let Some(value) = def.default {
                all.push(ConfigSynonym {
                    name: def.name,
                    value: Some(value.to_string()),
                    source: ConfigSource::Default,
                });
            }
        }
        let start = all.iter().position(|s| s.name == name).unwrap_or(all.len());
        all.split_off(start)
    }

    /// The broker-level value of a topic config: its strongest synonym that is set anywhere,
    /// converted to the topic config's unit, else the topic config's default.
    fn topic_default(&self, row: &TopicConfigDef) -> Result<ConfigValue, ConfigError> {
        for synonym in row.synonyms {
            if let Some(raw) = self.raw(synonym.def.name) {
                return Ok(synonym.in_topic_unit(&synonym.def.parse(raw)?));
            }
        }
        Ok(row
            .def
            .default_value()
            .expect("every topic config has a default"))
    }
}

/// A topic's configs: its `overrides` on top of what the broker's layers give.
pub fn describe_topic(
    layers: BrokerLayers<'_>,
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<ConfigEntry>, ConfigError> {
    TOPIC_CONFIGS
        .iter()
        .map(|row| {
            let value = match overrides.get(row.def.name) {
                Some(raw) => row.def.parse(raw)?,
                None => layers.topic_default(row)?,
            }
            .to_string();
            let mut synonyms = match row.synonyms.first() {
                Some(top) => {
                    let names: Vec<&'static ConfigDef> =
                        row.synonyms.iter().map(|s| &s.def).collect();
                    layers.synonyms(top.def.name, &names)
                }
                None => Vec::new(),
            };
            if overrides.contains_key(row.def.name) {
                synonyms.insert(
                    0,
                    ConfigSynonym {
                        name: row.def.name,
                        value: Some(value.clone()),
                        source: ConfigSource::DynamicTopic,
                    },
                );
            }
            Ok(ConfigEntry {
                name: row.def.name,
                value: Some(value),
                source: synonyms.first().map_or(ConfigSource::Default, |s| s.source),
                config_type: row.def.config_type,
                read_only: false,
                is_sensitive: false,
                documentation: row.def.doc,
                synonyms,
            })
        })
        .collect()
}

/// One broker's configs under their broker-level names, as `DescribeConfigs` for the broker's
/// id lists them.
pub fn describe_broker(layers: BrokerLayers<'_>) -> Vec<ConfigEntry> {
    BrokerKey::all()
        .into_iter()
        .map(|key| {
            let def = key.def();
            let value = match layers.raw(def.name) {
                Some(raw) => def.parse(raw).ok().map(|v| v.to_string()),
                None => def.default.map(str::to_string),
            };
            broker_entry(key, value, layers.synonyms(def.name, &key.synonyms()))
        })
        .collect()
}

/// The cluster-wide dynamic default (`DescribeConfigs` for broker `""`): only the configs set
/// there, each with only its dynamic-default synonyms, as Kafka does.
pub fn describe_broker_default(layers: BrokerLayers<'_>) -> Vec<ConfigEntry> {
    layers
        .dynamic_default
        .iter()
        .filter_map(|(name, raw)| {
            let key = BrokerKey::from_name(name).ok()?;
            let synonyms = layers
                .synonyms(key.name(), &key.synonyms())
                .into_iter()
                .filter(|s| s.source == ConfigSource::DynamicDefaultBroker)
                .collect();
            Some(broker_entry(key, Some(raw.clone()), synonyms))
        })
        .collect()
}

fn broker_entry(
    key: BrokerKey,
    value: Option<String>,
    synonyms: Vec<ConfigSynonym>,
) -> ConfigEntry {
    ConfigEntry {
        name: key.name(),
        value,
        source: synonyms.first().map_or(ConfigSource::Default, |s| s.source),
        config_type: key.def().config_type,
        read_only: !key.dynamic(),
        is_sensitive: false,
        documentation: key.def().doc,
        synonyms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BrokerConfig;

    /// The topic defaults the describe path resolves, typed: must equal what
    /// `BrokerConfig::with_dynamic` computes.
    fn effective_topic_defaults(layers: BrokerLayers<'_>) -> TopicConfig {
        let mut config = TopicConfig::default();
        for row in &TOPIC_CONFIGS {
            (row.apply)(&mut config, &layers.topic_default(row).unwrap());
        }
        config
    }

    fn render(entry: &ConfigEntry) -> String {
        let synonyms: Vec<String> = entry
            .synonyms
            .iter()
            .map(|s| {
                format!(
                    "{}={} {}",
                    s.name,
                    s.value.as_deref().unwrap_or("null"),
                    s.source.name()
                )
            })
            .collect();
        format!(
            "{}={} {}{} [{}]",
            entry.name,
            entry.value.as_deref().unwrap_or("null"),
            entry.source.name(),
            if entry.read_only { " ro" } else { "" },
            synonyms.join(", ")
        )
    }

    fn find<'a>(entries: &'a [ConfigEntry], name: &str) -> &'a ConfigEntry {
        entries.iter().find(|e| e.name == name).expect(name)
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_topic_override_comes_first_then_the_broker_synonyms() {
        let empty = BTreeMap::new();
        let static_broker = map(&[
            ("log.retention.ms", "3600000"),
            ("log.segment.bytes", "2048"),
        ]);
        let layers = BrokerLayers {
            dynamic_broker: &empty,
            dynamic_default: &empty,
            static_broker: &static_broker,
        };
        let entries = describe_topic(
            layers,
            &map(&[("retention.ms", "7200000"), ("segment.bytes", "4096")]),
        )
        .unwrap();
        assert_eq!(entries.len(), 34);
        assert_eq!(
            render(find(&entries, "retention.ms")),
            "retention.ms=7200000 DYNAMIC_TOPIC_CONFIG [retention.ms=7200000 DYNAMIC_TOPIC_CONFIG, log.retention.ms=3600000 STATIC_BROKER_CONFIG, log.retention.hours=168 DEFAULT_CONFIG]"
        );
        assert_eq!(
            render(find(&entries, "segment.bytes")),
            "segment.bytes=4096 DYNAMIC_TOPIC_CONFIG [segment.bytes=4096 DYNAMIC_TOPIC_CONFIG, log.segment.bytes=2048 STATIC_BROKER_CONFIG, log.segment.bytes=1073741824 DEFAULT_CONFIG]"
        );
        assert_eq!(
            render(find(&entries, "delete.retention.ms")),
            "delete.retention.ms=86400000 DEFAULT_CONFIG [log.cleaner.delete.retention.ms=86400000 DEFAULT_CONFIG]"
        );
        assert_eq!(
            render(find(&entries, "remote.storage.enable")),
            "remote.storage.enable=false DEFAULT_CONFIG []"
        );
        assert!(
            find(&entries, "retention.ms")
                .documentation
                .starts_with("This configuration controls the maximum time")
        );
        let types: Vec<i8> = [
            "cleanup.policy",
            "min.cleanable.dirty.ratio",
            "segment.bytes",
            "retention.ms",
            "preallocate",
        ]
        .iter()
        .map(|name| find(&entries, name).config_type.code())
        .collect();
        assert_eq!(types, [7, 6, 3, 5, 1]);
    }

    #[test]
    fn kafka_drops_synonyms_before_the_described_name() {
        // Only log.retention.hours is set: Kafka's list for log.retention.ms starts at
        // log.retention.ms, so the topic's retention.ms shows no synonyms and DEFAULT_CONFIG,
        // with the value the hours give.
        let empty = BTreeMap::new();
        let static_broker = map(&[("log.retention.hours", "2")]);
        let layers = BrokerLayers {
            dynamic_broker: &empty,
            dynamic_default: &empty,
            static_broker: &static_broker,
        };
        let entries = describe_topic(layers, &empty).unwrap();
        assert_eq!(
            render(find(&entries, "retention.ms")),
            "retention.ms=7200000 DEFAULT_CONFIG []"
        );
        let broker = describe_broker(layers);
        assert_eq!(
            render(find(&broker, "log.retention.ms")),
            "log.retention.ms=null DEFAULT_CONFIG []"
        );
        assert_eq!(
            render(find(&broker, "log.retention.hours")),
            "log.retention.hours=2 STATIC_BROKER_CONFIG ro [log.retention.hours=2 STATIC_BROKER_CONFIG, log.retention.hours=168 DEFAULT_CONFIG]"
        );
    }

    #[test]
    fn dynamic_layers_win_and_are_listed_in_order() {
        let config =
            BrokerConfig::from_pairs([("log.retention.ms", "1000"), ("num.partitions", "6")])
                .unwrap();
        let default = map(&[("log.retention.ms", "2000")]);
        let broker = map(&[("log.retention.ms", "3000")]);
        let layers = BrokerLayers {
            dynamic_broker: &broker,
            dynamic_default: &default,
            static_broker: &config.static_configs,
        };
        let entries = describe_broker(layers);
        assert_eq!(
            render(find(&entries, "log.retention.ms")),
            "log.retention.ms=3000 DYNAMIC_BROKER_CONFIG [log.retention.ms=3000 DYNAMIC_BROKER_CONFIG, log.retention.ms=2000 DYNAMIC_DEFAULT_BROKER_CONFIG, log.retention.ms=1000 STATIC_BROKER_CONFIG, log.retention.hours=168 DEFAULT_CONFIG]"
        );
        assert_eq!(
            render(find(&entries, "num.partitions")),
            "num.partitions=6 STATIC_BROKER_CONFIG ro [num.partitions=6 STATIC_BROKER_CONFIG, num.partitions=1 DEFAULT_CONFIG]"
        );
        let cluster = describe_broker_default(layers);
        assert_eq!(cluster.len(), 1);
        assert_eq!(
            render(&cluster[0]),
            "log.retention.ms=2000 DYNAMIC_DEFAULT_BROKER_CONFIG [log.retention.ms=2000 DYNAMIC_DEFAULT_BROKER_CONFIG]"
        );
        let topic = effective_topic_defaults(layers);
        assert_eq!(topic.retention_ms, 3000);
        assert_eq!(
            topic,
            config
                .with_dynamic(&default, &broker)
                .unwrap()
                .topic_defaults
        );
    }
}
