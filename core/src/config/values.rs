//! The enumerated config values: cleanup policy, timestamp type, compression type.
//!
//! Each is built from a value its definition already validated (see `topic_table`), and renders
//! back to Kafka's spelling.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `cleanup.policy`: what happens to old segments. Kafka's value is a list, so `compact,delete`
/// (in either order) means both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CleanupPolicy {
    Delete,
    Compact,
    CompactDelete,
}

impl CleanupPolicy {
    /// The policy of a validated `cleanup.policy` list (items `compact` and/or `delete`).
    pub(super) fn from_list(items: &[String]) -> CleanupPolicy {
        let has = |name: &str| items.iter().any(|item| item == name);
        match (has("delete"), has("compact")) {
            (true, true) => CleanupPolicy::CompactDelete,
            (false, true) => CleanupPolicy::Compact,
            _ => CleanupPolicy::Delete,
        }
    }

    /// Whether old segments are compacted (`compact` is in the list).
    pub fn compact(self) -> bool {
        matches!(self, CleanupPolicy::Compact | CleanupPolicy::CompactDelete)
    }

    /// Whether old segments are deleted by retention (`delete` is in the list).
    pub fn delete(self) -> bool {
        matches!(self, CleanupPolicy::Delete | CleanupPolicy::CompactDelete)
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
    /// Kafka's names, in the order its validator lists them.
    pub(super) const NAMES: [&'static str; 2] = ["CreateTime", "LogAppendTime"];

    /// The type of a validated `message.timestamp.type`.
    pub(super) fn from_name(name: &str) -> TimestampType {
        if name == "LogAppendTime" {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
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
    /// Kafka's names (`BrokerCompressionType.names()`), in its order.
    pub(super) const NAME_LIST: [&'static str; 6] =
        ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

    const NAMES: [(&'static str, CompressionType); 6] = [
        ("uncompressed", CompressionType::Uncompressed),
        ("zstd", CompressionType::Zstd),
        ("lz4", CompressionType::Lz4),
        ("snappy", CompressionType::Snappy),
        ("gzip", CompressionType::Gzip),
        ("producer", CompressionType::Producer),
    ];

    /// The type of a validated `compression.type`.
    pub(super) fn from_name(name: &str) -> CompressionType {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(CompressionType::Producer, |(_, c)| *c)
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
        let policy = |items: &[&str]| {
            let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
            CleanupPolicy::from_list(&items)
        };
        assert_eq!(policy(&["delete"]), CleanupPolicy::Delete);
        assert_eq!(policy(&["compact"]), CleanupPolicy::Compact);
        assert_eq!(policy(&["delete", "compact"]), CleanupPolicy::CompactDelete);
        assert!(policy(&["compact", "delete"]).compact() && policy(&["compact"]).compact());
        assert!(!policy(&["compact"]).delete());
    }

    #[test]
    fn enumerations_render_in_kafka_spelling() {
        assert_eq!(
            TimestampType::from_name("LogAppendTime").to_string(),
            "LogAppendTime"
        );
        for name in CompressionType::NAME_LIST {
            assert_eq!(CompressionType::from_name(name).to_string(), name);
        }
    }
}
