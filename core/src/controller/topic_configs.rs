//! Topic configs: the effective config (broker defaults under the topic's overrides), the
//! DescribeConfigs listing, and the commands of IncrementalAlterConfigs (SET, DELETE, APPEND,
//! SUBTRACT) and the legacy AlterConfigs (replace all), as Kafka's
//! `ConfigurationControlManager` does them.

use std::collections::BTreeMap;

use super::errors::AlterConfigsError;
use super::image::TopicImage;
use super::machine::Controller;
use super::records::{BrokerId, ConfigRecord, MetadataRecord};
use crate::config::{ConfigEntry, ConfigError, ConfigType, TopicConfig, topic_config_def};

/// One operation of IncrementalAlterConfigs (Kafka's `AlterConfigOp.OpType`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AlterConfigOp {
    /// Set the value (`SET`, 0).
    Set(String),
    /// Remove the override, back to the default (`DELETE`, 1).
    Delete,
    /// Add comma-separated items not yet in a LIST config (`APPEND`, 2).
    Append(String),
    /// Remove comma-separated items from a LIST config (`SUBTRACT`, 3).
    Subtract(String),
}

impl AlterConfigOp {
    /// The operation for its number on the wire and the value sent with it.
    pub fn from_code(code: i8, value: Option<&str>) -> Option<AlterConfigOp> {
        let value = value.unwrap_or_default().to_string();
        Some(match code {
            0 => AlterConfigOp::Set(value),
            1 => AlterConfigOp::Delete,
            2 => AlterConfigOp::Append(value),
            3 => AlterConfigOp::Subtract(value),
            _ => return None,
        })
    }

    /// Kafka's name of the operation, as in its messages.
    pub fn name(&self) -> &'static str {
        match self {
            AlterConfigOp::Set(_) => "SET",
            AlterConfigOp::Delete => "DELETE",
            AlterConfigOp::Append(_) => "APPEND",
            AlterConfigOp::Subtract(_) => "SUBTRACT",
        }
    }

    /// The new stored value of a config whose stored value is `current`, or `None` when it is
    /// removed. `list_default` is the config's default for APPEND and SUBTRACT, whose items
    /// they start from when nothing is stored.
    pub(super) fn apply(&self, current: Option<&str>, list_default: &str) -> Option<String> {
        let items = || -> Vec<String> {
            current
                .unwrap_or(list_default)
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        match self {
            AlterConfigOp::Set(value) => Some(value.clone()),
            AlterConfigOp::Delete => None,
            AlterConfigOp::Append(value) => {
                let mut list = items();
                for item in value.split(',') {
                    if !list.iter().any(|existing| existing == item) {
                        list.push(item.to_string());
                    }
                }
                Some(list.join(","))
            }
            AlterConfigOp::Subtract(value) => {
                let mut list = items();
                for item in value.split(',') {
                    if let Some(at) = list.iter().position(|existing| existing == item) {
                        list.remove(at);
                    }
                }
                Some(list.join(","))
            }
        }
    }
}

impl Controller {
    /// A topic's effective config with the cluster-wide broker defaults (static, then the
    /// dynamic cluster default): what the controller itself decides with (unclean elections).
    pub fn topic_config(&self, topic: &str) -> Option<TopicConfig> {
        self.image
            .topic(topic)
            .map(|topic| self.effective_config(topic))
    }

    /// A topic's effective config on broker `node` (its own dynamic configs included).
    pub fn topic_config_on(&self, topic: &str, node: BrokerId) -> Option<TopicConfig> {
        let topic = self.image.topic(topic)?;
        Some(
            self.broker_config(node)
                .topic_defaults
                .with_overrides(overrides(topic))
                .expect("stored overrides were validated"),
        )
    }

    /// A topic's configs as DescribeConfigs lists them on broker `node`.
    pub fn describe_topic_configs(&self, topic: &str, node: BrokerId) -> Option<Vec<ConfigEntry>> {
        self.image
            .describe_topic_configs(&self.config, &node.to_string(), topic)
    }

    pub(super) fn effective_config(&self, topic: &TopicImage) -> TopicConfig {
        self.cluster_config()
            .topic_defaults
            .with_overrides(overrides(topic))
            .expect("stored overrides were validated")
    }

    /// Sets (`Some`) or removes (`None`) topic config overrides, all or nothing.
    pub fn alter_topic_configs(
        &mut self,
        topic: &str,
        changes: &[(String, Option<String>)],
    ) -> Result<Vec<MetadataRecord>, AlterConfigsError> {
        let ops: Vec<(String, AlterConfigOp)> = changes
            .iter()
            .map(|(key, value)| {
                let op = value
                    .clone()
                    .map_or(AlterConfigOp::Delete, AlterConfigOp::Set);
                (key.clone(), op)
            })
            .collect();
        self.incremental_alter_topic_configs(topic, &ops)
    }

    /// IncrementalAlterConfigs on a topic, all or nothing. APPEND and SUBTRACT work on LIST
    /// configs only (INVALID_CONFIG otherwise, as Kafka). Enabling unclean leader election
    /// elects leaders for the topic's offline partitions right away.
    pub fn incremental_alter_topic_configs(
        &mut self,
        topic: &str,
        ops: &[(String, AlterConfigOp)],
    ) -> Result<Vec<MetadataRecord>, AlterConfigsError> {
        let image = self
            .image
            .topic(topic)
            .ok_or_else(|| AlterConfigsError::UnknownTopic(topic.to_string()))?;
        let mut configs = image.configs.clone();
        let mut changed = BTreeMap::new();
        for (key, op) in ops {
            let row = topic_config_def(key);
            let mut list_default = "";
            if matches!(op, AlterConfigOp::Append(_) | AlterConfigOp::Subtract(_)) {
                match row {
                    Some(row) if row.def.config_type == ConfigType::List => {
                        list_default = row.def.default.unwrap_or_default();
                    }
                    _ => {
                        return Err(AlterConfigsError::InvalidConfig(ConfigError::Conflict(
                            format!(
                                "Can't {} to key {key} because its type is not LIST.",
                                op.name()
                            ),
                        )));
                    }
                }
            }
            let current = configs.get(key).cloned();
            let value = op.apply(current.as_deref(), list_default);
            match &value {
                Some(value) => configs.insert(key.clone(), value.clone()),
                None => configs.remove(key),
            };
            // Kafka records a topic config only when its value changes.
            if value != current {
                changed.insert(key.clone(), value);
            }
        }
        self.replace_topic_configs(topic, &configs, changed)
    }

    /// The legacy AlterConfigs on a topic: `configs` become its overrides, and every override
    /// not named is removed.
    pub fn legacy_alter_topic_configs(
        &mut self,
        topic: &str,
        configs: &BTreeMap<String, String>,
    ) -> Result<Vec<MetadataRecord>, AlterConfigsError> {
        let image = self
            .image
            .topic(topic)
            .ok_or_else(|| AlterConfigsError::UnknownTopic(topic.to_string()))?;
        let mut changed: BTreeMap<String, Option<String>> = configs
            .iter()
            .filter(|(k, v)| image.configs.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        for key in image.configs.keys().filter(|k| !configs.contains_key(*k)) {
            changed.insert(key.clone(), None);
        }
        self.replace_topic_configs(topic, configs, changed)
    }

    /// Validates the topic's whole new set of overrides, then records the `changed` ones.
    fn replace_topic_configs(
        &mut self,
        topic: &str,
        configs: &BTreeMap<String, String>,
        changed: BTreeMap<String, Option<String>>,
    ) -> Result<Vec<MetadataRecord>, AlterConfigsError> {
        self.cluster_config()
            .topic_defaults
            .with_overrides(configs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let records = changed
            .into_iter()
            .map(|(name, value)| {
                MetadataRecord::Config(ConfigRecord {
                    topic: topic.to_string(),
                    name,
                    value,
                })
            })
            .collect();
        let mut records = self.commit(records);
        // Enabling unclean election lets this topic's offline partitions elect a leader; every
        // other partition already is as `reconcile_partitions` wants it.
        let elections = self.reconcile_partitions(|b| self.image.is_live(b), None);
        records.extend(self.commit(elections));
        Ok(records)
    }
}

fn overrides(topic: &TopicImage) -> impl Iterator<Item = (&str, &str)> {
    topic.configs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_operations_follow_kafka() {
        let append = AlterConfigOp::Append("compact".into());
        assert_eq!(
            append.apply(None, "delete").as_deref(),
            Some("delete,compact")
        );
        assert_eq!(
            append.apply(Some("compact"), "delete").as_deref(),
            Some("compact")
        );
        let subtract = AlterConfigOp::Subtract("0:1".into());
        assert_eq!(subtract.apply(Some("0:1,1:2"), "").as_deref(), Some("1:2"));
        assert_eq!(subtract.apply(None, "").as_deref(), Some(""));
        assert_eq!(AlterConfigOp::Delete.apply(Some("x"), ""), None);
        assert_eq!(AlterConfigOp::from_code(4, None), None);
    }
}
