//! The consumer's settings, with the client configs' names and the Java client's defaults.

use crate::Millis;
use crate::assignor::AssignorKind;
use crate::broker::IsolationLevel;

/// `auto.offset.reset`: where to start a partition the group has no committed offset for
/// (or whose committed offset is out of range).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OffsetReset {
    Earliest,
    Latest,
    /// No reset: the application gets an error for the partition.
    None,
}

#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    pub client_id: String,
    /// `group.id`.
    pub group_id: String,
    /// `partition.assignment.strategy` (one assignor).
    pub assignor: AssignorKind,
    /// `auto.offset.reset`.
    pub auto_offset_reset: OffsetReset,
    /// `enable.auto.commit`: positions are committed every `auto.commit.interval.ms`, from
    /// `poll`, and before partitions are revoked.
    pub enable_auto_commit: bool,
    pub auto_commit_interval_ms: Millis,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval_ms: Millis,
    /// `session.timeout.ms`: the coordinator removes a member silent this long.
    pub session_timeout_ms: Millis,
    /// `max.poll.interval.ms`: a member that does not poll this long leaves the group.
    pub max_poll_interval_ms: Millis,
    /// `max.poll.records`.
    pub max_poll_records: usize,
    /// `fetch.max.wait.ms`, `fetch.min.bytes`, `fetch.max.bytes`, `max.partition.fetch.bytes`.
    pub fetch_max_wait_ms: Millis,
    pub fetch_min_bytes: usize,
    pub fetch_max_bytes: usize,
    pub max_partition_fetch_bytes: usize,
    /// `request.timeout.ms`.
    pub request_timeout_ms: Millis,
    /// `retry.backoff.ms`.
    pub retry_backoff_ms: Millis,
    /// `isolation.level`: `read_committed` fetches up to the last stable offset and drops
    /// the records of aborted transactions; `read_uncommitted` (the default) reads them all.
    pub isolation_level: IsolationLevel,
}

impl Default for ConsumerConfig {
    /// The Java client's defaults.
    fn default() -> Self {
        ConsumerConfig {
            client_id: "consumer".into(),
            group_id: "group".into(),
            assignor: AssignorKind::Range,
            auto_offset_reset: OffsetReset::Latest,
            enable_auto_commit: true,
            auto_commit_interval_ms: Millis(5_000),
            heartbeat_interval_ms: Millis(3_000),
            session_timeout_ms: Millis(45_000),
            max_poll_interval_ms: Millis(300_000),
            max_poll_records: 500,
            fetch_max_wait_ms: Millis(500),
            fetch_min_bytes: 1,
            fetch_max_bytes: 52_428_800,
            max_partition_fetch_bytes: 1_048_576,
            request_timeout_ms: Millis(30_000),
            retry_backoff_ms: Millis(100),
            isolation_level: IsolationLevel::ReadUncommitted,
        }
    }
}
