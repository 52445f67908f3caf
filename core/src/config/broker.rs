//! The broker's config: cluster-wide settings plus the defaults every topic starts from.

use serde::{Deserialize, Serialize};

use super::parse::{boolean, int_at_least, long_at_least};
use super::{ConfigError, ConfigType, TopicConfig, TopicKey};

/// What a broker (and the controller) is configured with. `topic_defaults` holds the values of
/// the broker-level topic keys (`log.retention.ms`, `log.segment.bytes`, ...), which are what a
/// topic gets for every key it does not override.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerConfig {
    /// `num.partitions`: partitions of a topic created without a count (and of auto-created ones).
    pub num_partitions: u32,
    /// `default.replication.factor`: replicas per partition when CreateTopics gives none.
    pub default_replication_factor: u16,
    /// `auto.create.topics.enable`: does Metadata for an unknown topic create it?
    pub auto_create_topics_enable: bool,
    /// `replica.lag.time.max.ms`: a follower that has not caught up for this long leaves the ISR.
    pub replica_lag_time_max_ms: u64,
    /// `log.retention.check.interval.ms`: how often retention looks for segments to delete.
    pub log_retention_check_interval_ms: u64,
    /// `broker.session.timeout.ms`: a broker without a heartbeat for this long is fenced.
    pub broker_session_timeout_ms: u64,
    /// `broker.heartbeat.interval.ms`: how often a broker sends the controller a heartbeat.
    pub broker_heartbeat_interval_ms: u64,
    /// `auto.leader.rebalance.enable`: does the controller move leadership back to preferred
    /// replicas by itself?
    pub auto_leader_rebalance_enable: bool,
    /// `leader.imbalance.check.interval.seconds`: how often it does so.
    pub leader_imbalance_check_interval_seconds: u64,
    /// The broker-level defaults of the topic keys.
    pub topic_defaults: TopicConfig,
}

impl Default for BrokerConfig {
    /// Kafka's own defaults.
    fn default() -> BrokerConfig {
        BrokerConfig {
            num_partitions: 1,
            default_replication_factor: 1,
            auto_create_topics_enable: true,
            replica_lag_time_max_ms: 30_000,
            log_retention_check_interval_ms: 300_000,
            broker_session_timeout_ms: 9_000,
            broker_heartbeat_interval_ms: 2_000,
            auto_leader_rebalance_enable: true,
            leader_imbalance_check_interval_seconds: 300,
            topic_defaults: TopicConfig::default(),
        }
    }
}

impl BrokerConfig {
    /// Kafka's defaults with broker-level `pairs` (as in `server.properties`) applied on top.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<BrokerConfig, ConfigError> {
        let mut config = BrokerConfig::default();
        for (key, value) in pairs {
            BrokerKey::from_name(key)?.set(&mut config, value)?;
        }
        Ok(config)
    }
}

/// A broker-level config key: one of the broker's own, or the default of a topic key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerKey {
    NumPartitions,
    DefaultReplicationFactor,
    AutoCreateTopicsEnable,
    ReplicaLagTimeMaxMs,
    LogRetentionCheckIntervalMs,
    BrokerSessionTimeoutMs,
    BrokerHeartbeatIntervalMs,
    AutoLeaderRebalanceEnable,
    LeaderImbalanceCheckIntervalSeconds,
    TopicDefault(TopicKey),
}

impl BrokerKey {
    const OWN: [BrokerKey; 9] = [
        BrokerKey::AutoCreateTopicsEnable,
        BrokerKey::AutoLeaderRebalanceEnable,
        BrokerKey::BrokerHeartbeatIntervalMs,
        BrokerKey::BrokerSessionTimeoutMs,
        BrokerKey::DefaultReplicationFactor,
        BrokerKey::LeaderImbalanceCheckIntervalSeconds,
        BrokerKey::LogRetentionCheckIntervalMs,
        BrokerKey::NumPartitions,
        BrokerKey::ReplicaLagTimeMaxMs,
    ];

    /// Every broker-level key: the broker's own first, then the topic defaults.
    pub fn all() -> impl Iterator<Item = BrokerKey> {
        BrokerKey::OWN
            .into_iter()
            .chain(TopicKey::ALL.into_iter().map(BrokerKey::TopicDefault))
    }

    /// The key for a broker-level name, or `UnknownKey`.
    pub fn from_name(name: &str) -> Result<BrokerKey, ConfigError> {
        BrokerKey::all()
            .find(|key| key.name() == name)
            .ok_or_else(|| ConfigError::UnknownKey {
                key: name.to_string(),
            })
    }

    /// The broker-level name, e.g. `num.partitions` or `log.retention.ms`.
    pub fn name(self) -> &'static str {
        match self {
            BrokerKey::NumPartitions => "num.partitions",
            BrokerKey::DefaultReplicationFactor => "default.replication.factor",
            BrokerKey::AutoCreateTopicsEnable => "auto.create.topics.enable",
            BrokerKey::ReplicaLagTimeMaxMs => "replica.lag.time.max.ms",
            BrokerKey::LogRetentionCheckIntervalMs => "log.retention.check.interval.ms",
            BrokerKey::BrokerSessionTimeoutMs => "broker.session.timeout.ms",
            BrokerKey::BrokerHeartbeatIntervalMs => "broker.heartbeat.interval.ms",
            BrokerKey::AutoLeaderRebalanceEnable => "auto.leader.rebalance.enable",
            BrokerKey::LeaderImbalanceCheckIntervalSeconds => {
                "leader.imbalance.check.interval.seconds"
            }
            BrokerKey::TopicDefault(key) => key.broker_name(),
        }
    }

    /// The type DescribeConfigs reports for this key.
    pub fn config_type(self) -> ConfigType {
        match self {
            BrokerKey::NumPartitions
            | BrokerKey::DefaultReplicationFactor
            | BrokerKey::BrokerSessionTimeoutMs
            | BrokerKey::BrokerHeartbeatIntervalMs => ConfigType::Int,
            BrokerKey::ReplicaLagTimeMaxMs
            | BrokerKey::LogRetentionCheckIntervalMs
            | BrokerKey::LeaderImbalanceCheckIntervalSeconds => ConfigType::Long,
            BrokerKey::AutoCreateTopicsEnable | BrokerKey::AutoLeaderRebalanceEnable => {
                ConfigType::Boolean
            }
            BrokerKey::TopicDefault(key) => key.config_type(),
        }
    }

    /// This key's value in `config`, spelled as Kafka reports it.
    pub fn get(self, config: &BrokerConfig) -> String {
        match self {
            BrokerKey::NumPartitions => config.num_partitions.to_string(),
            BrokerKey::DefaultReplicationFactor => config.default_replication_factor.to_string(),
            BrokerKey::AutoCreateTopicsEnable => config.auto_create_topics_enable.to_string(),
            BrokerKey::ReplicaLagTimeMaxMs => config.replica_lag_time_max_ms.to_string(),
            BrokerKey::LogRetentionCheckIntervalMs => {
                config.log_retention_check_interval_ms.to_string()
            }
            BrokerKey::BrokerSessionTimeoutMs => config.broker_session_timeout_ms.to_string(),
            BrokerKey::BrokerHeartbeatIntervalMs => config.broker_heartbeat_interval_ms.to_string(),
            BrokerKey::AutoLeaderRebalanceEnable => config.auto_leader_rebalance_enable.to_string(),
            BrokerKey::LeaderImbalanceCheckIntervalSeconds => {
                config.leader_imbalance_check_interval_seconds.to_string()
            }
            BrokerKey::TopicDefault(key) => key.get(&config.topic_defaults),
        }
    }

    /// Parses `value` into `config`, with Kafka's validation for this key.
    pub fn set(self, config: &mut BrokerConfig, value: &str) -> Result<(), ConfigError> {
        let key = self.name();
        let positive = |value: &str| long_at_least(key, value, 1).map(|n| n as u64);
        match self {
            BrokerKey::NumPartitions => config.num_partitions = int_at_least(key, value, 1)? as u32,
            BrokerKey::DefaultReplicationFactor => {
                let factor = int_at_least(key, value, 1)?;
                config.default_replication_factor = u16::try_from(factor)
                    .ok()
                    .filter(|f| *f <= i16::MAX as u16)
                    .ok_or_else(|| ConfigError::InvalidValue {
                        key,
                        value: value.to_string(),
                        reason: format!("Value must be at most {}", i16::MAX),
                    })?;
            }
            BrokerKey::AutoCreateTopicsEnable => {
                config.auto_create_topics_enable = boolean(key, value)?
            }
            BrokerKey::ReplicaLagTimeMaxMs => config.replica_lag_time_max_ms = positive(value)?,
            BrokerKey::LogRetentionCheckIntervalMs => {
                config.log_retention_check_interval_ms = positive(value)?
            }
            BrokerKey::BrokerSessionTimeoutMs => {
                config.broker_session_timeout_ms = positive(value)?
            }
            BrokerKey::BrokerHeartbeatIntervalMs => {
                config.broker_heartbeat_interval_ms = positive(value)?
            }
            BrokerKey::AutoLeaderRebalanceEnable => {
                config.auto_leader_rebalance_enable = boolean(key, value)?
            }
            BrokerKey::LeaderImbalanceCheckIntervalSeconds => {
                config.leader_imbalance_check_interval_seconds = positive(value)?
            }
            BrokerKey::TopicDefault(topic_key) => topic_key
                .set(&mut config.topic_defaults, value)
                .map_err(|err| match err {
                    ConfigError::InvalidValue { value, reason, .. } => {
                        ConfigError::InvalidValue { key, value, reason }
                    }
                    other => other,
                })?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pairs: &[(&str, &str)], expect: &str) {
        let actual = match BrokerConfig::from_pairs(pairs.iter().copied()) {
            Ok(config) => pairs
                .iter()
                .map(|(name, _)| {
                    format!(
                        "{name}={}",
                        BrokerKey::from_name(name).unwrap().get(&config)
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
            Err(err) => err.to_string(),
        };
        assert_eq!(actual, expect, "{pairs:?}");
    }

    #[test]
    fn defaults_are_kafkas() {
        let config = BrokerConfig::default();
        let rendered: Vec<String> = BrokerKey::OWN
            .iter()
            .map(|key| format!("{}={}", key.name(), key.get(&config)))
            .collect();
        assert_eq!(
            rendered.join("\n"),
            "auto.create.topics.enable=true
auto.leader.rebalance.enable=true
broker.heartbeat.interval.ms=2000
broker.session.timeout.ms=9000
default.replication.factor=1
leader.imbalance.check.interval.seconds=300
log.retention.check.interval.ms=300000
num.partitions=1
replica.lag.time.max.ms=30000"
        );
        assert_eq!(config.topic_defaults, TopicConfig::default());
    }

    #[test]
    fn broker_pairs_set_own_keys_and_topic_defaults() {
        check(
            &[("num.partitions", "3"), ("default.replication.factor", "3")],
            "num.partitions=3 default.replication.factor=3",
        );
        check(&[("log.retention.ms", "1000")], "log.retention.ms=1000");
        check(&[("log.segment.bytes", "4096")], "log.segment.bytes=4096");
        check(&[("min.insync.replicas", "2")], "min.insync.replicas=2");
        let config = BrokerConfig::from_pairs([("log.retention.ms", "1000")]).unwrap();
        assert_eq!(config.topic_defaults.retention_ms, 1000);
    }

    #[test]
    fn bad_broker_pairs_are_invalid_config() {
        check(
            &[("num.partitions", "0")],
            "Invalid value \"0\" for configuration num.partitions: Value must be at least 1",
        );
        check(
            &[("default.replication.factor", "40000")],
            "Invalid value \"40000\" for configuration default.replication.factor: Value must be at most 32767",
        );
        check(
            &[("log.retention.ms", "-5")],
            "Invalid value \"-5\" for configuration log.retention.ms: Value must be at least -1",
        );
        check(
            &[("retention.ms", "1")],
            "Unknown configuration \"retention.ms\"",
        );
        check(
            &[("broker.session.timeout.ms", "0")],
            "Invalid value \"0\" for configuration broker.session.timeout.ms: Value must be at least 1",
        );
    }
}
