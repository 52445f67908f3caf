//! A topic's config: the typed struct, and parsing of overrides on top of defaults.

use serde::{Deserialize, Serialize};

use super::topic_table::{TOPIC_CONFIGS, topic_config_def};
use super::{CleanupPolicy, CompressionType, ConfigError, TimestampType};

/// The effective config of one topic (or, in [`super::BrokerConfig`], the defaults every topic
/// starts from), one field per Kafka topic config (see `topic_table` for each one's meaning,
/// Kafka's documentation, and whether the engine honours it yet). `-1` in a `retention_*`
/// field means "no limit", as in Kafka.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicConfig {
    /// `cleanup.policy`.
    pub cleanup_policy: CleanupPolicy,
    /// `compression.gzip.level` (-1: the codec's default).
    pub compression_gzip_level: i32,
    /// `compression.lz4.level`.
    pub compression_lz4_level: i32,
    /// `compression.type`.
    pub compression_type: CompressionType,
    /// `compression.zstd.level`.
    pub compression_zstd_level: i32,
    /// `delete.retention.ms`: how long a compacted topic keeps tombstones.
    pub delete_retention_ms: i64,
    /// `file.delete.delay.ms`.
    pub file_delete_delay_ms: i64,
    /// `flush.messages`: force a flush after this many messages.
    pub flush_messages: i64,
    /// `flush.ms`: force a flush when the oldest unflushed message is this old.
    pub flush_ms: i64,
    /// `follower.replication.throttled.replicas` (`partition:broker` items, or `*`).
    pub follower_replication_throttled_replicas: Vec<String>,
    /// `index.interval.bytes`: bytes between two offset index entries.
    pub index_interval_bytes: i32,
    /// `leader.replication.throttled.replicas` (`partition:broker` items, or `*`).
    pub leader_replication_throttled_replicas: Vec<String>,
    /// `local.retention.bytes` (-2: `retention.bytes`).
    pub local_retention_bytes: i64,
    /// `local.retention.ms` (-2: `retention.ms`).
    pub local_retention_ms: i64,
    /// `max.compaction.lag.ms`: the longest a record stays ineligible for compaction.
    pub max_compaction_lag_ms: i64,
    /// `max.message.bytes`: the largest record batch the topic accepts.
    pub max_message_bytes: i32,
    /// `message.downconversion.enable` (a no-op since Kafka 4.0).
    pub message_downconversion_enable: bool,
    /// `message.timestamp.after.max.ms`.
    pub message_timestamp_after_max_ms: i64,
    /// `message.timestamp.before.max.ms`.
    pub message_timestamp_before_max_ms: i64,
    /// `message.timestamp.type`.
    pub message_timestamp_type: TimestampType,
    /// `min.cleanable.dirty.ratio`: the dirty share of a log above which it is compacted.
    pub min_cleanable_dirty_ratio: f64,
    /// `min.compaction.lag.ms`: the shortest a record stays uncompacted.
    pub min_compaction_lag_ms: i64,
    /// `min.insync.replicas`: how many replicas an acks=all write needs.
    pub min_insync_replicas: i32,
    /// `preallocate`.
    pub preallocate: bool,
    /// `remote.log.copy.disable`.
    pub remote_log_copy_disable: bool,
    /// `remote.log.delete.on.disable`.
    pub remote_log_delete_on_disable: bool,
    /// `remote.storage.enable` (always false: Partita has no tiered storage).
    pub remote_storage_enable: bool,
    /// `retention.bytes`: a partition larger than this loses its oldest segments; -1: no limit.
    pub retention_bytes: i64,
    /// `retention.ms`: segments older than this are deleted; -1 keeps them forever.
    pub retention_ms: i64,
    /// `segment.bytes`: a segment rolls when it would grow past this size.
    pub segment_bytes: i32,
    /// `segment.index.bytes`.
    pub segment_index_bytes: i32,
    /// `segment.jitter.ms`: the most a segment's roll time is moved earlier, at random.
    pub segment_jitter_ms: i64,
    /// `segment.ms`: a segment rolls when its first record is older than this.
    pub segment_ms: i64,
    /// `unclean.leader.election.enable`: may an out-of-sync replica become leader (losing data)?
    pub unclean_leader_election_enable: bool,
}

impl Default for TopicConfig {
    /// Kafka's own defaults, from the table.
    fn default() -> TopicConfig {
        let mut config = TopicConfig {
            cleanup_policy: CleanupPolicy::Delete,
            compression_gzip_level: 0,
            compression_lz4_level: 0,
            compression_type: CompressionType::Producer,
            compression_zstd_level: 0,
            delete_retention_ms: 0,
            file_delete_delay_ms: 0,
            flush_messages: 0,
            flush_ms: 0,
            follower_replication_throttled_replicas: Vec::new(),
            index_interval_bytes: 0,
            leader_replication_throttled_replicas: Vec::new(),
            local_retention_bytes: 0,
            local_retention_ms: 0,
            max_compaction_lag_ms: 0,
            max_message_bytes: 0,
            message_downconversion_enable: false,
            message_timestamp_after_max_ms: 0,
            message_timestamp_before_max_ms: 0,
            message_timestamp_type: TimestampType::CreateTime,
            min_cleanable_dirty_ratio: 0.0,
            min_compaction_lag_ms: 0,
            min_insync_replicas: 0,
            preallocate: false,
            remote_log_copy_disable: false,
            remote_log_delete_on_disable: false,
            remote_storage_enable: false,
            retention_bytes: 0,
            retention_ms: 0,
            segment_bytes: 0,
            segment_index_bytes: 0,
            segment_jitter_ms: 0,
            segment_ms: 0,
            unclean_leader_election_enable: false,
        };
        for row in &TOPIC_CONFIGS {
            let value = row
                .def
                .default_value()
                .expect("every topic config has a default");
            (row.apply)(&mut config, &value);
        }
        config
    }
}

impl TopicConfig {
    /// These defaults with `overrides` (topic-level key/value pairs) applied on top, then
    /// checked as a whole; the first unknown key, bad value or conflict is the error.
    pub fn with_overrides<'a>(
        &self,
        overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TopicConfig, ConfigError> {
        let mut config = self.clone();
        for (key, value) in overrides {
            let row = topic_config_def(key).ok_or_else(|| ConfigError::UnknownTopicConfig {
                key: key.to_string(),
            })?;
            let value = row.def.parse(value)?;
            if row.def.name == "cleanup.policy" && value.as_list().is_empty() {
                return Err(row
                    .def
                    .invalid("", "Partita needs at least one of compact, delete"));
            }
            (row.apply)(&mut config, &value);
        }
        config.check()?;
        Ok(config)
    }

    /// Kafka's checks across configs (`LogConfig.validateValues` and its tiered-storage
    /// checks, with tiered storage disabled in the broker, as it always is in Partita).
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.min_compaction_lag_ms > self.max_compaction_lag_ms {
            return Err(ConfigError::Conflict(format!(
                "conflict topic config setting min.compaction.lag.ms ({}) > max.compaction.lag.ms ({})",
                self.min_compaction_lag_ms, self.max_compaction_lag_ms
            )));
        }
        if self.remote_storage_enable {
            return Err(ConfigError::Conflict(
                "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."
                    .to_string(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies `overrides` to Kafka's defaults and renders the named keys (or the error).
    fn check(overrides: &[(&str, &str)], expect: &str) {
        let actual = match TopicConfig::default().with_overrides(overrides.iter().copied()) {
            Ok(_) => overrides
                .iter()
                .map(|(key, value)| {
                    let row = topic_config_def(key).unwrap();
                    format!("{key}={}", row.def.parse(value).unwrap())
                })
                .collect::<Vec<_>>()
                .join(" "),
            Err(err) => err.to_string(),
        };
        assert_eq!(actual, expect, "{overrides:?}");
    }

    #[test]
    fn defaults_are_kafkas() {
        let config = TopicConfig::default();
        assert_eq!(config.retention_ms, 604_800_000);
        assert_eq!(config.segment_bytes, 1_073_741_824);
        assert_eq!(config.max_message_bytes, 1_048_588);
        assert_eq!(config.delete_retention_ms, 86_400_000);
        assert_eq!(config.min_cleanable_dirty_ratio, 0.5);
        assert_eq!(config.min_compaction_lag_ms, 0);
        assert_eq!(config.max_compaction_lag_ms, i64::MAX);
        assert_eq!(config.segment_jitter_ms, 0);
        assert_eq!(config.index_interval_bytes, 4096);
        assert_eq!(config.flush_messages, i64::MAX);
        assert_eq!(config.compression_zstd_level, 3);
        assert_eq!(config.message_timestamp_after_max_ms, 3_600_000);
        assert!(config.message_downconversion_enable);
        assert_eq!(config.cleanup_policy, CleanupPolicy::Delete);
        assert_eq!(TOPIC_CONFIGS.len(), 34);
        let names: Vec<&str> = TOPIC_CONFIGS.iter().map(|r| r.def.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "the table is in DescribeConfigs' order");
    }

    #[test]
    fn overrides_parse_and_normalise() {
        check(&[("retention.ms", "-1")], "retention.ms=-1");
        check(&[("min.insync.replicas", " 2 ")], "min.insync.replicas=2");
        check(
            &[("unclean.leader.election.enable", "True")],
            "unclean.leader.election.enable=true",
        );
        check(
            &[("cleanup.policy", "delete, compact")],
            "cleanup.policy=delete,compact",
        );
        check(
            &[("delete.retention.ms", "1000")],
            "delete.retention.ms=1000",
        );
        check(
            &[("min.cleanable.dirty.ratio", "0.1")],
            "min.cleanable.dirty.ratio=0.1",
        );
        check(
            &[("segment.bytes", "1024"), ("segment.ms", "60000")],
            "segment.bytes=1024 segment.ms=60000",
        );
        check(
            &[("leader.replication.throttled.replicas", "0:1,1:2")],
            "leader.replication.throttled.replicas=0:1,1:2",
        );
        let config = TopicConfig::default()
            .with_overrides([
                ("cleanup.policy", "compact"),
                ("min.compaction.lag.ms", "5"),
            ])
            .unwrap();
        assert_eq!(
            (config.cleanup_policy, config.min_compaction_lag_ms),
            (CleanupPolicy::Compact, 5)
        );
    }

    #[test]
    fn bad_overrides_are_invalid_config() {
        check(
            &[("min.insync.replicas", "0")],
            "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1",
        );
        check(
            &[("retention.ms", "a week")],
            "Invalid value a week for configuration retention.ms: Not a number of type LONG",
        );
        check(
            &[("segment.bytes", "13")],
            "Invalid value 13 for configuration segment.bytes: Value must be at least 14",
        );
        check(
            &[("compression.type", "LZ4")],
            "Invalid value LZ4 for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer",
        );
        check(
            &[("cleanup.policy", "delete,archive")],
            "Invalid value archive for configuration cleanup.policy: String must be one of: compact, delete",
        );
        check(
            &[("retention.hours", "1")],
            "Unknown topic config name: retention.hours",
        );
        check(
            &[("log.retention.ms", "1")],
            "Unknown topic config name: log.retention.ms",
        );
        check(
            &[
                ("min.compaction.lag.ms", "10"),
                ("max.compaction.lag.ms", "5"),
            ],
            "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)",
        );
        check(
            &[("remote.storage.enable", "true")],
            "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.",
        );
        check(
            &[("min.cleanable.dirty.ratio", "1.5")],
            "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1",
        );
        let err = TopicConfig::default()
            .with_overrides([("segment.ms", "0")])
            .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::INVALID_CONFIG);
    }
}
