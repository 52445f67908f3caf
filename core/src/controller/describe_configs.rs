//! DescribeConfigs read from a metadata image: what any broker answers from its own copy of
//! the metadata (Kafka's `ConfigHelper` over the broker's metadata cache), and the active
//! controller from its own.

use super::image::MetadataImage;
use crate::config::{
    BrokerConfig, BrokerLayers, ConfigEntry, describe_broker, describe_broker_default,
    describe_topic,
};

impl MetadataImage {
    /// The layers of broker-level configs as broker `resource` (its id, or `""` for the
    /// cluster default) sees them, over the static configs `static_broker` it started with.
    pub fn broker_layers<'a>(
        &'a self,
        static_broker: &'a BrokerConfig,
        resource: &str,
    ) -> BrokerLayers<'a> {
        BrokerLayers {
            dynamic_broker: self.broker_configs(resource),
            dynamic_default: self.broker_configs(""),
            static_broker: &static_broker.static_configs,
        }
    }

    /// A topic's configs as DescribeConfigs lists them on the broker with id `resource` and
    /// static configs `static_broker`; `None` for a topic the image does not have.
    pub fn describe_topic_configs(
        &self,
        static_broker: &BrokerConfig,
        resource: &str,
        topic: &str,
    ) -> Option<Vec<ConfigEntry>> {
        let topic = self.topic(topic)?;
        let layers = self.broker_layers(static_broker, resource);
        Some(describe_topic(layers, &topic.configs).expect("stored overrides were validated"))
    }

    /// DescribeConfigs for a broker: `resource` is its id, or `""` for the cluster default.
    pub fn describe_broker_configs(
        &self,
        static_broker: &BrokerConfig,
        resource: &str,
    ) -> Vec<ConfigEntry> {
        let layers = self.broker_layers(static_broker, resource);
        if resource.is_empty() {
            describe_broker_default(layers)
        } else {
            describe_broker(layers)
        }
    }
}
