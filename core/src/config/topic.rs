//! A topic's config: the typed struct, its keys, and parsing of overrides on top of defaults.

use serde::{Deserialize, Serialize};

use super::parse::{boolean, int_at_least, long_at_least};
use super::{CleanupPolicy, CompressionType, ConfigError, ConfigType, TimestampType};

/// The smallest `segment.bytes` Kafka accepts: one legacy record's overhead. Small segments are
/// useful in the simulator, where rolling and retention should be visible after a few records.
pub const SEGMENT_BYTES_MIN: i32 = 14;

/// The effective config of one topic (or, in [`super::BrokerConfig`], the defaults every topic
/// starts from). `-1` in a `retention_*` field means "no limit", as in Kafka.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicConfig {
    /// `min.insync.replicas`: how many replicas an acks=all write needs.
    pub min_insync_replicas: i32,
    /// `retention.ms`: segments older than this are deleted; -1 keeps them forever.
    pub retention_ms: i64,
    /// `retention.bytes`: a partition larger than this loses its oldest segments; -1: no limit.
    pub retention_bytes: i64,
    /// `segment.bytes`: a segment rolls when it would grow past this size.
    pub segment_bytes: i32,
    /// `segment.ms`: a segment rolls when its first record is older than this.
    pub segment_ms: i64,
    /// `cleanup.policy`.
    pub cleanup_policy: CleanupPolicy,
    /// `unclean.leader.election.enable`: may an out-of-sync replica become leader (losing data)?
    pub unclean_leader_election_enable: bool,
    /// `max.message.bytes`: the largest record batch the topic accepts.
    pub max_message_bytes: i32,
    /// `flush.messages`: force a flush after this many messages.
    pub flush_messages: i64,
    /// `flush.ms`: force a flush when the oldest unflushed message is this old.
    pub flush_ms: i64,
    /// `message.timestamp.type`.
    pub message_timestamp_type: TimestampType,
    /// `compression.type`.
    pub compression_type: CompressionType,
}

impl Default for TopicConfig {
    /// Kafka's own defaults.
    fn default() -> TopicConfig {
        TopicConfig {
            min_insync_replicas: 1,
            retention_ms: 604_800_000,
            retention_bytes: -1,
            segment_bytes: 1_073_741_824,
            segment_ms: 604_800_000,
            cleanup_policy: CleanupPolicy::Delete,
            unclean_leader_election_enable: false,
            max_message_bytes: 1_048_588,
            flush_messages: i64::MAX,
            flush_ms: i64::MAX,
            message_timestamp_type: TimestampType::CreateTime,
            compression_type: CompressionType::Producer,
        }
    }
}

impl TopicConfig {
    /// These defaults with `overrides` (topic-level key/value pairs) applied on top; the first
    /// unknown key or bad value is the error.
    pub fn with_overrides<'a>(
        &self,
        overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TopicConfig, ConfigError> {
        let mut config = self.clone();
        for (key, value) in overrides {
            TopicKey::from_name(key)?.set(&mut config, value)?;
        }
        Ok(config)
    }
}

/// A topic-level config key. Each has a topic name (what CreateTopics and AlterConfigs send)
/// and a broker name (what sets the default for every topic in the broker's config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicKey {
    MinInsyncReplicas,
    RetentionMs,
    RetentionBytes,
    SegmentBytes,
    SegmentMs,
    CleanupPolicy,
    UncleanLeaderElectionEnable,
    MaxMessageBytes,
    FlushMessages,
    FlushMs,
    MessageTimestampType,
    CompressionType,
}

impl TopicKey {
    /// Every key, in the order DescribeConfigs lists them.
    pub const ALL: [TopicKey; 12] = [
        TopicKey::CleanupPolicy,
        TopicKey::CompressionType,
        TopicKey::FlushMessages,
        TopicKey::FlushMs,
        TopicKey::MaxMessageBytes,
        TopicKey::MessageTimestampType,
        TopicKey::MinInsyncReplicas,
        TopicKey::RetentionBytes,
        TopicKey::RetentionMs,
        TopicKey::SegmentBytes,
        TopicKey::SegmentMs,
        TopicKey::UncleanLeaderElectionEnable,
    ];

    /// The key for a topic-level name, or `UnknownKey`.
    pub fn from_name(name: &str) -> Result<TopicKey, ConfigError> {
        TopicKey::ALL
            .into_iter()
            .find(|key| key.name() == name)
            .ok_or_else(|| ConfigError::UnknownKey {
                key: name.to_string(),
            })
    }

    /// The topic-level name, e.g. `retention.ms`.
    pub fn name(self) -> &'static str {
        match self {
            TopicKey::MinInsyncReplicas => "min.insync.replicas",
            TopicKey::RetentionMs => "retention.ms",
            TopicKey::RetentionBytes => "retention.bytes",
            TopicKey::SegmentBytes => "segment.bytes",
            TopicKey::SegmentMs => "segment.ms",
            TopicKey::CleanupPolicy => "cleanup.policy",
            TopicKey::UncleanLeaderElectionEnable => "unclean.leader.election.enable",
            TopicKey::MaxMessageBytes => "max.message.bytes",
            TopicKey::FlushMessages => "flush.messages",
            TopicKey::FlushMs => "flush.ms",
            TopicKey::MessageTimestampType => "message.timestamp.type",
            TopicKey::CompressionType => "compression.type",
        }
    }

    /// The broker-level name that sets this key's default, e.g. `log.retention.ms`.
    pub fn broker_name(self) -> &'static str {
        match self {
            TopicKey::MinInsyncReplicas => "min.insync.replicas",
            TopicKey::RetentionMs => "log.retention.ms",
            TopicKey::RetentionBytes => "log.retention.bytes",
            TopicKey::SegmentBytes => "log.segment.bytes",
            TopicKey::SegmentMs => "log.roll.ms",
            TopicKey::CleanupPolicy => "log.cleanup.policy",
            TopicKey::UncleanLeaderElectionEnable => "unclean.leader.election.enable",
            TopicKey::MaxMessageBytes => "message.max.bytes",
            TopicKey::FlushMessages => "log.flush.interval.messages",
            TopicKey::FlushMs => "log.flush.interval.ms",
            TopicKey::MessageTimestampType => "log.message.timestamp.type",
            TopicKey::CompressionType => "compression.type",
        }
    }

    /// The type DescribeConfigs reports for this key.
    pub fn config_type(self) -> ConfigType {
        match self {
            TopicKey::MinInsyncReplicas | TopicKey::SegmentBytes | TopicKey::MaxMessageBytes => {
                ConfigType::Int
            }
            TopicKey::RetentionMs
            | TopicKey::RetentionBytes
            | TopicKey::SegmentMs
            | TopicKey::FlushMessages
            | TopicKey::FlushMs => ConfigType::Long,
            TopicKey::CleanupPolicy => ConfigType::List,
            TopicKey::UncleanLeaderElectionEnable => ConfigType::Boolean,
            TopicKey::MessageTimestampType | TopicKey::CompressionType => ConfigType::String,
        }
    }

    /// This key's value in `config`, spelled as Kafka reports it.
    pub fn get(self, config: &TopicConfig) -> String {
        match self {
            TopicKey::MinInsyncReplicas => config.min_insync_replicas.to_string(),
            TopicKey::RetentionMs => config.retention_ms.to_string(),
            TopicKey::RetentionBytes => config.retention_bytes.to_string(),
            TopicKey::SegmentBytes => config.segment_bytes.to_string(),
            TopicKey::SegmentMs => config.segment_ms.to_string(),
            TopicKey::CleanupPolicy => config.cleanup_policy.to_string(),
            TopicKey::UncleanLeaderElectionEnable => {
                config.unclean_leader_election_enable.to_string()
            }
            TopicKey::MaxMessageBytes => config.max_message_bytes.to_string(),
            TopicKey::FlushMessages => config.flush_messages.to_string(),
            TopicKey::FlushMs => config.flush_ms.to_string(),
            TopicKey::MessageTimestampType => config.message_timestamp_type.to_string(),
            TopicKey::CompressionType => config.compression_type.to_string(),
        }
    }

    /// Parses `value` (with Kafka's validation for this key) into `config`. Errors name the
    /// topic-level key; [`super::BrokerConfig`] renames them to the broker-level key.
    pub fn set(self, config: &mut TopicConfig, value: &str) -> Result<(), ConfigError> {
        let key = self.name();
        match self {
            TopicKey::MinInsyncReplicas => {
                config.min_insync_replicas = int_at_least(key, value, 1)?
            }
            TopicKey::RetentionMs => config.retention_ms = long_at_least(key, value, -1)?,
            TopicKey::RetentionBytes => config.retention_bytes = long_at_least(key, value, -1)?,
            TopicKey::SegmentBytes => {
                config.segment_bytes = int_at_least(key, value, SEGMENT_BYTES_MIN)?
            }
            TopicKey::SegmentMs => config.segment_ms = long_at_least(key, value, 1)?,
            TopicKey::CleanupPolicy => config.cleanup_policy = CleanupPolicy::parse(key, value)?,
            TopicKey::UncleanLeaderElectionEnable => {
                config.unclean_leader_election_enable = boolean(key, value)?
            }
            TopicKey::MaxMessageBytes => config.max_message_bytes = int_at_least(key, value, 0)?,
            TopicKey::FlushMessages => config.flush_messages = long_at_least(key, value, 1)?,
            TopicKey::FlushMs => config.flush_ms = long_at_least(key, value, 0)?,
            TopicKey::MessageTimestampType => {
                config.message_timestamp_type = TimestampType::parse(key, value)?
            }
            TopicKey::CompressionType => {
                config.compression_type = CompressionType::parse(key, value)?
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies `overrides` to Kafka's defaults and renders the result (or the error) as text.
    fn check(overrides: &[(&str, &str)], expect: &str) {
        let actual = match TopicConfig::default().with_overrides(overrides.iter().copied()) {
            Ok(config) => overrides
                .iter()
                .map(|(key, _)| {
                    let key = TopicKey::from_name(key).unwrap();
                    format!("{}={}", key.name(), key.get(&config))
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
        let rendered: Vec<String> = TopicKey::ALL
            .iter()
            .map(|k| format!("{}={}", k.name(), k.get(&config)))
            .collect();
        assert_eq!(
            rendered.join("\n"),
            "cleanup.policy=delete
compression.type=producer
flush.messages=9223372036854775807
flush.ms=9223372036854775807
max.message.bytes=1048588
message.timestamp.type=CreateTime
min.insync.replicas=1
retention.bytes=-1
retention.ms=604800000
segment.bytes=1073741824
segment.ms=604800000
unclean.leader.election.enable=false"
        );
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
            &[("cleanup.policy", "delete,compact")],
            "cleanup.policy=compact,delete",
        );
        check(&[("compression.type", "LZ4")], "compression.type=lz4");
        check(
            &[("segment.bytes", "1024"), ("segment.ms", "60000")],
            "segment.bytes=1024 segment.ms=60000",
        );
    }

    #[test]
    fn bad_overrides_are_invalid_config() {
        check(
            &[("min.insync.replicas", "0")],
            "Invalid value \"0\" for configuration min.insync.replicas: Value must be at least 1",
        );
        check(
            &[("retention.ms", "a week")],
            "Invalid value \"a week\" for configuration retention.ms: Not a number of type LONG",
        );
        check(
            &[("segment.bytes", "13")],
            "Invalid value \"13\" for configuration segment.bytes: Value must be at least 14",
        );
        check(
            &[("retention.hours", "1")],
            "Unknown configuration \"retention.hours\"",
        );
        check(
            &[("log.retention.ms", "1")],
            "Unknown configuration \"log.retention.ms\"",
        );
        let err = TopicConfig::default()
            .with_overrides([("segment.ms", "0")])
            .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::INVALID_CONFIG);
    }
}
