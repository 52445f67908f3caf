//! Topic configs: the effective config (broker defaults under the topic's overrides), the
//! DescribeConfigs listing, and (Incremental)AlterConfigs.

use super::errors::AlterConfigsError;
use super::image::TopicImage;
use super::machine::Controller;
use super::records::{ConfigRecord, MetadataRecord};
use crate::config::{ConfigEntry, TopicConfig, TopicKey, describe_topic};

impl Controller {
    /// A topic's effective config: broker defaults with its overrides.
    pub fn topic_config(&self, topic: &str) -> Option<TopicConfig> {
        self.image
            .topic(topic)
            .map(|topic| self.effective_config(topic))
    }

    /// A topic's configs as DescribeConfigs lists them.
    pub fn describe_topic_configs(&self, topic: &str) -> Option<Vec<ConfigEntry>> {
        let topic = self.image.topic(topic)?;
        Some(describe_topic(&self.config, &topic.configs).expect("stored overrides were validated"))
    }

    pub(super) fn effective_config(&self, topic: &TopicImage) -> TopicConfig {
        let overrides = topic.configs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        self.config
            .topic_defaults
            .with_overrides(overrides)
            .expect("stored overrides were validated")
    }

    /// Sets (`Some`) or removes (`None`) topic config overrides, all or nothing. Enabling
    /// unclean leader election elects leaders for the topic's offline partitions right away.
    pub fn alter_topic_configs(
        &mut self,
        topic: &str,
        changes: &[(String, Option<String>)],
    ) -> Result<Vec<MetadataRecord>, AlterConfigsError> {
        let image = self
            .image
            .topic(topic)
            .ok_or_else(|| AlterConfigsError::UnknownTopic(topic.to_string()))?;
        let mut overrides = image.configs.clone();
        for (key, value) in changes {
            TopicKey::from_name(key)?;
            match value {
                Some(value) => overrides.insert(key.clone(), value.clone()),
                None => overrides.remove(key),
            };
        }
        self.config
            .topic_defaults
            .with_overrides(overrides.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let records = changes
            .iter()
            .map(|(key, value)| {
                MetadataRecord::Config(ConfigRecord {
                    topic: topic.to_string(),
                    name: key.clone(),
                    value: value.clone(),
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
