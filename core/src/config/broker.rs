//! The broker's config: cluster-wide settings plus the defaults every topic starts from, built
//! from layers as in Kafka: Kafka's defaults, then the static configs the broker started with
//! (`--config`, Kafka's `server.properties`), then the dynamic cluster default, then the
//! dynamic configs of this one broker (KIP-226; the last two live in the metadata log).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::broker_table::{BROKER_CONFIGS, BrokerConfigDef};
use super::def::{ConfigDef, ConfigValue};
use super::topic_table::{Synonym, TOPIC_CONFIGS, TopicConfigDef};
use super::{ConfigError, TopicConfig};

/// What a broker (and the controller) is configured with. `topic_defaults` holds the values of
/// the broker-level topic keys (`log.retention.ms`, `log.segment.bytes`, ...), which are what a
/// topic gets for every key it does not override.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// `log.cleaner.enable`: does this broker compact the logs of compacted topics?
    pub log_cleaner_enable: bool,
    /// `log.cleaner.backoff.ms`: how long the cleaner sleeps when no log needs cleaning.
    pub log_cleaner_backoff_ms: u64,
    /// `log.cleaner.dedupe.buffer.size`: bytes of the cleaner's key-to-offset map.
    pub log_cleaner_dedupe_buffer_size: i64,
    /// `log.cleaner.io.buffer.size`: bytes of the cleaner's read and write buffers.
    pub log_cleaner_io_buffer_size: i32,
    /// `log.cleaner.io.buffer.load.factor`: how full the key-to-offset map may get.
    pub log_cleaner_io_buffer_load_factor: f64,
    /// `offsets.topic.segment.bytes`: the segment size of the group coordinator's compacted
    /// offsets log (`__consumer_offsets`).
    pub offsets_topic_segment_bytes: u64,
    /// `offsets.topic.num.partitions`: partitions of `__consumer_offsets` (a group lives in
    /// partition `abs(hash(group.id)) % this`).
    pub offsets_topic_num_partitions: u32,
    /// `offsets.topic.replication.factor`: replicas of each `__consumer_offsets` partition,
    /// capped at the brokers alive when the topic is created.
    pub offsets_topic_replication_factor: u16,
    /// `transactional.id.expiration.ms`: a transactional id whose transaction is not open and
    /// whose state has not changed for this long is removed (a tombstone in
    /// `__transaction_state`; KIP-98, Kafka's `TransactionStateManager`).
    #[serde(default = "transactional_id_expiration_ms")]
    pub transactional_id_expiration_ms: u64,
    /// `transaction.remove.expired.transaction.cleanup.interval.ms`: how often the transaction
    /// coordinator looks for expired transactional ids.
    #[serde(default = "transaction_remove_expired_transaction_cleanup_interval_ms")]
    pub transaction_remove_expired_transaction_cleanup_interval_ms: u64,
    /// The broker-level defaults of the topic keys.
    pub topic_defaults: TopicConfig,
    /// The broker configs this broker started with, as given (Kafka's `STATIC_BROKER_CONFIG`
    /// in DescribeConfigs). Fields set directly (as the simulator does) are not listed here.
    pub static_configs: BTreeMap<String, String>,
}

/// `transactional.id.expiration.ms`'s default (7 days), for a config serialized without it.
fn transactional_id_expiration_ms() -> u64 {
    604_800_000
}

/// `transaction.remove.expired.transaction.cleanup.interval.ms`'s default (1 hour).
fn transaction_remove_expired_transaction_cleanup_interval_ms() -> u64 {
    3_600_000
}

impl Default for BrokerConfig {
    /// Kafka's own defaults, from the tables.
    fn default() -> BrokerConfig {
        let mut config = BrokerConfig {
            num_partitions: 0,
            default_replication_factor: 0,
            auto_create_topics_enable: false,
            replica_lag_time_max_ms: 0,
            log_retention_check_interval_ms: 0,
            broker_session_timeout_ms: 0,
            broker_heartbeat_interval_ms: 0,
            auto_leader_rebalance_enable: false,
            leader_imbalance_check_interval_seconds: 0,
            log_cleaner_enable: false,
            log_cleaner_backoff_ms: 0,
            log_cleaner_dedupe_buffer_size: 0,
            log_cleaner_io_buffer_size: 0,
            log_cleaner_io_buffer_load_factor: 0.0,
            offsets_topic_segment_bytes: 0,
            offsets_topic_num_partitions: 0,
            offsets_topic_replication_factor: 0,
            transactional_id_expiration_ms: 0,
            transaction_remove_expired_transaction_cleanup_interval_ms: 0,
            topic_defaults: TopicConfig::default(),
            static_configs: BTreeMap::new(),
        };
        for row in &BROKER_CONFIGS {
            let value = row
                .def
                .default_value()
                .expect("every broker config has a default");
            (row.apply)(&mut config, &value);
        }
        config
    }
}

impl BrokerConfig {
    /// Kafka's defaults with broker-level `pairs` (as in `server.properties`) applied on top.
    /// Where several names set one topic default (`log.retention.ms`, `.minutes`, `.hours`),
    /// the highest-precedence one given wins, whatever the order of `pairs`.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<BrokerConfig, ConfigError> {
        let static_configs: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut config = BrokerConfig::default();
        config.apply(&static_configs)?;
        config.static_configs = static_configs;
        Ok(config)
    }

    /// This config with dynamic broker configs on top: the cluster default's, then this
    /// broker's own (both only ever hold dynamic keys, so precedence among synonyms holds).
    pub fn with_dynamic(
        &self,
        cluster_default: &BTreeMap<String, String>,
        this_broker: &BTreeMap<String, String>,
    ) -> Result<BrokerConfig, ConfigError> {
        let mut config = self.clone();
        config.apply(cluster_default)?;
        config.apply(this_broker)?;
        Ok(config)
    }

    /// Parses every pair, then applies them lowest precedence first; then checks the topic
    /// defaults as a whole.
    fn apply(&mut self, pairs: &BTreeMap<String, String>) -> Result<(), ConfigError> {
        let mut parsed = Vec::with_capacity(pairs.len());
        for (name, raw) in pairs {
            let key = BrokerKey::from_name(name)?;
            parsed.push((key, key.def().parse(raw)?));
        }
        parsed.sort_by_key(|(key, _)| std::cmp::Reverse(key.precedence()));
        for (key, value) in &parsed {
            key.apply(self, value);
        }
        self.topic_defaults.check()
    }
}

/// A broker-level config: one of the broker's own, or a synonym that sets a topic config's
/// default.
#[derive(Clone, Copy, Debug)]
pub enum BrokerKey {
    Own(&'static BrokerConfigDef),
    TopicDefault {
        topic: &'static TopicConfigDef,
        /// The index into `topic.synonyms`: 0 is the highest precedence.
        synonym: usize,
    },
}

impl BrokerKey {
    /// Every broker-level key, sorted by name.
    pub fn all() -> Vec<BrokerKey> {
        let mut keys: Vec<BrokerKey> = BROKER_CONFIGS.iter().map(BrokerKey::Own).collect();
        for topic in &TOPIC_CONFIGS {
            keys.extend(
                (0..topic.synonyms.len()).map(|synonym| BrokerKey::TopicDefault { topic, synonym }),
            );
        }
        keys.sort_by_key(|key| key.name());
        keys
    }

    /// The key for a broker-level name, or `UnknownBrokerConfig`.
    pub fn from_name(name: &str) -> Result<BrokerKey, ConfigError> {
        if let Some(row) = BROKER_CONFIGS.iter().find(|row| row.def.name == name) {
            return Ok(BrokerKey::Own(row));
        }
        TOPIC_CONFIGS
            .iter()
            .find_map(|topic| {
                let synonym = topic.synonyms.iter().position(|s| s.def.name == name)?;
                Some(BrokerKey::TopicDefault { topic, synonym })
            })
            .ok_or_else(|| ConfigError::UnknownBrokerConfig {
                key: name.to_string(),
            })
    }

    /// The broker-level name, e.g. `num.partitions` or `log.retention.ms`.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Its definition (type, default, validator, documentation).
    pub fn def(self) -> &'static ConfigDef {
        match self {
            BrokerKey::Own(row) => &row.def,
            BrokerKey::TopicDefault { topic, synonym } => &topic.synonyms[synonym].def,
        }
    }

    /// Can it change at run time? The broker's dynamic ones, and the first (highest
    /// precedence) synonym of each topic config, as Kafka's `DynamicLogConfig`.
    pub fn dynamic(self) -> bool {
        match self {
            BrokerKey::Own(row) => row.dynamic,
            BrokerKey::TopicDefault { synonym, .. } => synonym == 0,
        }
    }

    /// Does the engine act on it yet?
    pub fn honoured(self) -> bool {
        match self {
            BrokerKey::Own(row) => row.honoured,
            BrokerKey::TopicDefault { topic, .. } => topic.honoured,
        }
    }

    /// The names that set the same value, highest precedence first (Kafka's
    /// `DynamicBrokerConfig.brokerConfigSynonyms`), e.g. `log.retention.ms`,
    /// `log.retention.minutes`, `log.retention.hours`.
    pub fn synonyms(self) -> Vec<&'static ConfigDef> {
        match self {
            BrokerKey::Own(row) => vec![&row.def],
            BrokerKey::TopicDefault { topic, .. } => {
                topic.synonyms.iter().map(|s: &Synonym| &s.def).collect()
            }
        }
    }

    /// The topic config this key sets the default of, if any.
    pub fn topic(self) -> Option<&'static TopicConfigDef> {
        match self {
            BrokerKey::Own(_) => None,
            BrokerKey::TopicDefault { topic, .. } => Some(topic),
        }
    }

    /// Lower is stronger: the synonym's place in its list.
    fn precedence(self) -> usize {
        match self {
            BrokerKey::Own(_) => 0,
            BrokerKey::TopicDefault { synonym, .. } => synonym,
        }
    }

    /// Puts a validated `value` of this key into `config`.
    pub(super) fn apply(self, config: &mut BrokerConfig, value: &ConfigValue) {
        match self {
            BrokerKey::Own(row) => (row.apply)(config, value),
            BrokerKey::TopicDefault { topic, synonym } => {
                let value = topic.synonyms[synonym].in_topic_unit(value);
                (topic.apply)(&mut config.topic_defaults, &value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pairs: &[(&str, &str)], expect: &str) {
        let actual = match BrokerConfig::from_pairs(pairs.iter().copied()) {
            Ok(_) => "ok".to_string(),
            Err(err) => err.to_string(),
        };
        assert_eq!(actual, expect, "{pairs:?}");
    }

    #[test]
    fn defaults_are_kafkas() {
        let config = BrokerConfig::default();
        assert_eq!(config.num_partitions, 1);
        assert_eq!(config.default_replication_factor, 1);
        assert!(config.auto_create_topics_enable);
        assert_eq!(config.replica_lag_time_max_ms, 30_000);
        assert_eq!(config.log_retention_check_interval_ms, 300_000);
        assert_eq!(config.broker_session_timeout_ms, 9_000);
        assert_eq!(config.broker_heartbeat_interval_ms, 2_000);
        assert_eq!(config.leader_imbalance_check_interval_seconds, 300);
        assert!(config.log_cleaner_enable);
        assert_eq!(config.log_cleaner_backoff_ms, 15_000);
        assert_eq!(config.log_cleaner_dedupe_buffer_size, 134_217_728);
        assert_eq!(config.log_cleaner_io_buffer_size, 524_288);
        assert_eq!(config.log_cleaner_io_buffer_load_factor, 0.9);
        assert_eq!(config.offsets_topic_segment_bytes, 104_857_600);
        assert_eq!(
            config.transactional_id_expiration_ms,
            transactional_id_expiration_ms()
        );
        assert_eq!(
            config.transaction_remove_expired_transaction_cleanup_interval_ms,
            transaction_remove_expired_transaction_cleanup_interval_ms()
        );
        assert_eq!(config.topic_defaults, TopicConfig::default());
        let names: Vec<&str> = BROKER_CONFIGS.iter().map(|r| r.def.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }

    #[test]
    fn broker_pairs_set_own_keys_and_topic_defaults() {
        let config = BrokerConfig::from_pairs([
            ("num.partitions", "3"),
            ("log.retention.ms", "1000"),
            ("log.cleaner.delete.retention.ms", "5000"),
            ("log.cleaner.min.cleanable.ratio", "0.2"),
            ("log.cleaner.backoff.ms", "100"),
        ])
        .unwrap();
        assert_eq!(config.num_partitions, 3);
        assert_eq!(config.topic_defaults.retention_ms, 1000);
        assert_eq!(config.topic_defaults.delete_retention_ms, 5000);
        assert_eq!(config.topic_defaults.min_cleanable_dirty_ratio, 0.2);
        assert_eq!(config.log_cleaner_backoff_ms, 100);
        assert_eq!(config.static_configs.len(), 5);
    }

    #[test]
    fn every_kafka_log_cleaner_broker_config_is_accepted() {
        // Kafka's `CleanerConfig` broker configs: a server.properties that sets them starts.
        let config = BrokerConfig::from_pairs([
            ("log.cleaner.threads", "2"),
            ("log.cleaner.io.max.bytes.per.second", "1048576"),
            ("log.cleaner.io.buffer.load.factor", "0.5"),
        ])
        .unwrap();
        assert_eq!(config.log_cleaner_io_buffer_load_factor, 0.5);
        let cleaner = crate::broker::LogCleanerSettings::from_config(&config);
        assert_eq!(cleaner.config.dedupe_buffer_load_factor, 0.5);
        assert!(BrokerConfig::from_pairs([("log.cleaner.threads", "-1")]).is_err());
    }

    #[test]
    fn synonyms_take_the_highest_precedence_given() {
        let hours = BrokerConfig::from_pairs([("log.retention.hours", "2")]).unwrap();
        assert_eq!(hours.topic_defaults.retention_ms, 7_200_000);
        for pairs in [
            [("log.retention.ms", "1000"), ("log.retention.hours", "2")],
            [("log.retention.hours", "2"), ("log.retention.ms", "1000")],
        ] {
            let config = BrokerConfig::from_pairs(pairs).unwrap();
            assert_eq!(config.topic_defaults.retention_ms, 1000);
        }
        let minutes = BrokerConfig::from_pairs([
            ("log.retention.minutes", "3"),
            ("log.retention.hours", "2"),
        ])
        .unwrap();
        assert_eq!(minutes.topic_defaults.retention_ms, 180_000);
        let roll = BrokerConfig::from_pairs([("log.roll.hours", "1")]).unwrap();
        assert_eq!(roll.topic_defaults.segment_ms, 3_600_000);
    }

    #[test]
    fn dynamic_configs_override_static_ones() {
        let config = BrokerConfig::from_pairs([("log.retention.hours", "2")]).unwrap();
        let default: BTreeMap<String, String> =
            [("log.retention.ms".to_string(), "5000".to_string())].into();
        let broker: BTreeMap<String, String> =
            [("log.cleaner.backoff.ms".to_string(), "10".to_string())].into();
        let dynamic = config.with_dynamic(&default, &broker).unwrap();
        assert_eq!(dynamic.topic_defaults.retention_ms, 5000);
        assert_eq!(dynamic.log_cleaner_backoff_ms, 10);
        assert_eq!(dynamic.static_configs, config.static_configs);
    }

    #[test]
    fn bad_broker_pairs_are_invalid_config() {
        check(
            &[("num.partitions", "0")],
            "Invalid value 0 for configuration num.partitions: Value must be at least 1",
        );
        check(
            &[("default.replication.factor", "40000")],
            "Invalid value 40000 for configuration default.replication.factor: Value must be no more than 32767",
        );
        check(
            &[("log.segment.bytes", "5")],
            "Invalid value 5 for configuration log.segment.bytes: Value must be at least 14",
        );
        check(
            &[("retention.ms", "1")],
            "Unknown broker config name: retention.ms",
        );
        check(
            &[("broker.session.timeout.ms", "0")],
            "Invalid value 0 for configuration broker.session.timeout.ms: Value must be at least 1",
        );
        check(
            &[
                ("log.cleaner.min.compaction.lag.ms", "10"),
                ("log.cleaner.max.compaction.lag.ms", "5"),
            ],
            "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)",
        );
    }

    #[test]
    fn dynamic_keys_are_kafkas() {
        let dynamic: Vec<&str> = BrokerKey::all()
            .into_iter()
            .filter(|k| k.dynamic())
            .map(|k| k.name())
            .collect();
        assert!(dynamic.contains(&"log.retention.ms"));
        assert!(dynamic.contains(&"log.cleaner.backoff.ms"));
        assert!(dynamic.contains(&"message.max.bytes"));
        assert!(!dynamic.contains(&"log.retention.hours"));
        assert!(!dynamic.contains(&"num.partitions"));
        assert!(!dynamic.contains(&"log.cleaner.enable"));
    }
}
