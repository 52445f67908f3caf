//! Dynamic broker configs (KIP-226): set at run time for one broker (resource name = its id)
//! or for every broker (resource name `""`), kept as records in the metadata log so they
//! survive a restart, and layered over the static configs each broker started with. Only the
//! configs Kafka lets change without a restart are accepted (`BrokerKey::dynamic`); the checks
//! and messages follow Kafka's `ConfigAdminManager` and `DynamicBrokerConfig`.

use std::collections::BTreeMap;

use super::errors::AlterConfigsError;
use super::machine::Controller;
use super::records::{BrokerConfigRecord, BrokerId, MetadataRecord};
use super::topic_configs::AlterConfigOp;
use crate::config::{BrokerConfig, BrokerKey, ConfigEntry, ConfigType};

impl Controller {
    /// The effective config of broker `node`: static configs, then the dynamic cluster
    /// default, then its own dynamic configs.
    pub fn broker_config(&self, node: BrokerId) -> BrokerConfig {
        self.config
            .with_dynamic(
                self.image.broker_configs(""),
                self.image.broker_configs(&node.to_string()),
            )
            .expect("stored broker configs were validated")
    }

    /// The static configs with the dynamic cluster default on top.
    pub(super) fn cluster_config(&self) -> BrokerConfig {
        self.config
            .with_dynamic(self.image.broker_configs(""), &BTreeMap::new())
            .expect("stored broker configs were validated")
    }

    /// DescribeConfigs for a broker: `resource` is its id, or `""` for the cluster default.
    pub fn describe_broker_configs(&self, resource: &str) -> Vec<ConfigEntry> {
        self.image.describe_broker_configs(&self.config, resource)
    }

    /// IncrementalAlterConfigs on a broker (`resource` = its id) or on the cluster default
    /// (`""`), all or nothing.
    pub fn incremental_alter_broker_configs(
        &mut self,
        resource: &str,
        ops: &[(String, AlterConfigOp)],
    ) -> Result<Vec<MetadataRecord>, AlterConfigsError> {
        check_resource(resource)?;
        let mut configs = self.image.broker_configs(resource).clone();
        let mut changed = BTreeMap::new();
        for (name, op) in ops {
            let mut list_default = "";
            if let AlterConfigOp::Append(_) | AlterConfigOp::Subtract(_) = op {
                let key = BrokerKey::from_name(name).map_err(|_| {
                    AlterConfigsError::InvalidRequest(format!("Unknown config name: {name}"))
                })?;
                if key.def().config_type != ConfigType::List {
                    let verb = if let AlterConfigOp::Append(_) = op {
                        "append"
                    } else {
                        "subtract"
                    };
                    return Err(crate::config::ConfigError::Conflict(format!(
                        "Config value {verb} is not allowed for config key: {name}"
                    ))
                    .into());
                }
                list_default = key.def().default.unwrap_or_default();
            }
            let value = op.apply(configs.get(name).map(String::as_str), list_default);
            match &value {
                Some(value) => configs.insert(name.clone(), value.clone()),
                None => configs.remove(name),
            };
            changed.insert(name.clone(), value);
        }
        self.replace_broker_configs(resource, &configs, changed)
    }

    /// The legacy AlterConfigs on a broker or the cluster default: `configs` replace all of
    /// its dynamic configs.
    pub fn legacy_alter_broker_configs(
        &mut self,
        resource: &str,
        configs: &BTreeMap<String, String>,
    ) -> Result<Vec<MetadataRecord>, AlterConfigsError> {
        check_resource(resource)?;
        let mut changed: BTreeMap<String, Option<String>> = configs
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        for key in self.image.broker_configs(resource).keys() {
            changed.entry(key.clone()).or_insert(None);
        }
        self.replace_broker_configs(resource, configs, changed)
    }

    /// Checks `configs` as the whole new dynamic config of `resource` (only dynamic keys,
    /// valid values, a valid result), then records the `changed` keys.
    fn replace_broker_configs(
        &mut self,
        resource: &str,
        configs: &BTreeMap<String, String>,
        changed: BTreeMap<String, Option<String>>,
    ) -> Result<Vec<MetadataRecord>, AlterConfigsError> {
        let mut fixed = Vec::new();
        for name in configs.keys() {
            let key = BrokerKey::from_name(name)?;
            if !key.dynamic() {
                fixed.push(name.as_str());
            }
        }
        if !fixed.is_empty() {
            return Err(AlterConfigsError::InvalidRequest(format!(
                "Cannot update these configs dynamically: Set({})",
                fixed.join(", ")
            )));
        }
        let empty = BTreeMap::new();
        let (cluster_default, this_broker) = if resource.is_empty() {
            (configs, &empty)
        } else {
            (self.image.broker_configs(""), configs)
        };
        self.config
            .with_dynamic(cluster_default, this_broker)
            .map_err(|e| AlterConfigsError::InvalidRequest(e.to_string()))?;
        let records = changed
            .into_iter()
            .map(|(name, value)| {
                MetadataRecord::BrokerConfig(BrokerConfigRecord {
                    broker: resource.to_string(),
                    name,
                    value,
                })
            })
            .collect();
        Ok(self.commit(records))
    }
}

/// A broker resource is `""` or a broker id.
fn check_resource(resource: &str) -> Result<(), AlterConfigsError> {
    if resource.is_empty() || resource.parse::<BrokerId>().is_ok() {
        Ok(())
    } else {
        Err(AlterConfigsError::InvalidRequest(format!(
            "Node id must be an integer, but it is: {resource}"
        )))
    }
}
