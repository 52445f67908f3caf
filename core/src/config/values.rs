//! The enumerated config values: cleanup policy, timestamp type, compression type.
//!
//! Each renders back to Kafka's spelling, which is what DescribeConfigs reports.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::parse::one_of;

/// `cleanup.policy`: what happens to old segments. Kafka's value is a list, so `compact,delete`
/// (in either order) means both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CleanupPolicy {
    Delete,
    Compact,
    CompactDelete,
}

impl CleanupPolicy {
    pub(super) fn parse(key: &'static str, value: &str) -> Result<CleanupPolicy, ConfigError> {
        let mut delete = false;
        let mut compact = false;
        for item in value.split(',') {
            match one_of(key, item, &[("delete", true), ("compact", false)])? {
                true => delete = true,
                false => compact = true,
            }
        }
        Ok(match (delete, compact) {
            (true, true) => CleanupPolicy::CompactDelete,
            (false, true) => CleanupPolicy::Compact,
            _ => CleanupPolicy::Delete,
        })
    }
}

impl fmt::Display for CleanupPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CleanupPolicy::Delete => "delete",
            CleanupPolicy::Compact => "compact",
            CleanupPolicy::CompactDelete => "compact,delete",
        })
    }
}

/// `message.timestamp.type`: whether a record keeps the producer's timestamp or gets the
/// broker's append time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimestampType {
    CreateTime,
    LogAppendTime,
}

impl TimestampType {
    pub(super) fn parse(key: &'static str, value: &str) -> Result<TimestampType, ConfigError> {
        one_of(
            key,
            value,
            &[
                ("createtime", TimestampType::CreateTime),
                ("logappendtime", TimestampType::LogAppendTime),
            ],
        )
    }
}

impl fmt::Display for TimestampType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        })
    }
}

/// `compression.type` on a topic or broker: `producer` keeps whatever codec the producer used;
/// anything else is the codec the broker stores batches in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompressionType {
    Producer,
    Uncompressed,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl CompressionType {
    const NAMES: [(&'static str, CompressionType); 6] = [
        ("uncompressed", CompressionType::Uncompressed),
        ("zstd", CompressionType::Zstd),
        ("lz4", CompressionType::Lz4),
        ("snappy", CompressionType::Snappy),
        ("gzip", CompressionType::Gzip),
        ("producer", CompressionType::Producer),
    ];

    pub(super) fn parse(key: &'static str, value: &str) -> Result<CompressionType, ConfigError> {
        one_of(key, value, &Self::NAMES)
    }
}

impl fmt::Display for CompressionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Self::NAMES.iter().find(|(_, c)| c == self).map(|(n, _)| *n);
        f.write_str(name.expect("every compression type has a name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleanup_policy_is_a_list() {
        let check = |input: &str, expect: &str| {
            let parsed = CleanupPolicy::parse("cleanup.policy", input).map(|p| p.to_string());
            assert_eq!(parsed.unwrap_or_else(|e| e.to_string()), expect, "{input}");
        };
        check("delete", "delete");
        check("Compact", "compact");
        check("delete,compact", "compact,delete");
        check("compact, delete", "compact,delete");
        check(
            "archive",
            "Invalid value \"archive\" for configuration cleanup.policy: String must be one of: delete, compact",
        );
    }

    #[test]
    fn enumerations_render_in_kafka_spelling() {
        assert_eq!(
            TimestampType::parse("k", "logappendtime")
                .unwrap()
                .to_string(),
            "LogAppendTime"
        );
        assert_eq!(
            CompressionType::parse("k", "ZSTD").unwrap().to_string(),
            "zstd"
        );
        assert!(CompressionType::parse("k", "brotli").is_err());
    }
}
