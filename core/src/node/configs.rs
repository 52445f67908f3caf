//! DescribeConfigs on any node: read from the node's own copy of the metadata, as a Kafka
//! broker answers it from its metadata cache (`ConfigHelper`); it is not a controller request.

use super::Node;
use crate::broker::StorageFactory;
use crate::config::ConfigEntry;

impl<F: StorageFactory> Node<F> {
    /// A topic's configs as this node lists them (its own static configs under the dynamic
    /// ones and the topic's overrides); `None` when its metadata has no such topic.
    pub fn describe_topic_configs(&self, topic: &str) -> Option<Vec<ConfigEntry>> {
        let resource = self.config.node_id.to_string();
        self.image()
            .describe_topic_configs(&self.config.broker, &resource, topic)
    }

    /// This node's broker configs (`resource` = its id) or the cluster-wide dynamic default
    /// (`resource` = `""`). The caller checks that `resource` names this node (Kafka answers
    /// a broker's configs only on that broker).
    pub fn describe_broker_configs(&self, resource: &str) -> Vec<ConfigEntry> {
        self.image()
            .describe_broker_configs(&self.config.broker, resource)
    }
}
