//! The settings of one partition log, with Kafka's topic config names and defaults.

use crate::Millis;

/// The largest segment Kafka allows: index positions are 32-bit (`segment.bytes` is an int).
pub const MAX_SEGMENT_BYTES: u64 = i32::MAX as u64;

/// A partition log's settings; the server maps topic configs onto it (`segment.bytes` to
/// `segment_bytes`, `retention.ms = -1` to `retention_ms: None`, ...).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogConfig {
    /// `segment.bytes`: roll to a new segment before one would grow past this.
    pub segment_bytes: u64,
    /// `segment.ms`: roll once the first batch of the active segment is this old.
    pub segment_ms: Millis,
    /// `retention.ms`: delete segments whose newest record is older than this; `None` keeps
    /// them forever.
    pub retention_ms: Option<Millis>,
    /// `retention.bytes`: delete the oldest segments while the log is larger; `None` for no
    /// limit.
    pub retention_bytes: Option<u64>,
    /// `index.interval.bytes`: how many bytes of batches between sparse index entries.
    pub index_interval_bytes: u64,
    /// `max.message.bytes`: the largest batch a producer may append.
    pub max_message_bytes: u64,
    /// `message.timestamp.type=LogAppendTime`: each appended batch is stamped with the
    /// broker's clock instead of keeping the producer's timestamps.
    pub log_append_time: bool,
    /// `cleanup.policy` contains `delete`: `retention.ms` and `retention.bytes` delete old
    /// segments. Without it (a compact-only topic) retention never deletes data; only a log
    /// start moved by DeleteRecords still removes the segments below it (Kafka's
    /// `UnifiedLog.deleteOldSegments`).
    pub delete: bool,
    /// `cleanup.policy` contains `compact`: the log cleaner keeps the latest record of each key.
    pub compact: bool,
    /// `delete.retention.ms`: how long the cleaner keeps a tombstone after the cleaning that
    /// first kept it (its batch's delete horizon, KIP-534).
    pub delete_retention_ms: Millis,
    /// `min.cleanable.dirty.ratio`: the cleaner cleans the log once dirty bytes are more than
    /// this fraction of its bytes (in [0, 1]).
    pub min_cleanable_dirty_ratio: f64,
    /// `min.compaction.lag.ms`: a segment whose newest record is younger is not cleaned.
    pub min_compaction_lag_ms: Millis,
    /// `max.compaction.lag.ms`: a dirty segment whose first batch is older is cleaned
    /// whatever the dirty ratio.
    pub max_compaction_lag_ms: Millis,
}

impl Default for LogConfig {
    /// Kafka's defaults.
    fn default() -> Self {
        const DAY_MS: u64 = 24 * 60 * 60 * 1000;
        LogConfig {
            segment_bytes: 1024 * 1024 * 1024,
            segment_ms: Millis(7 * DAY_MS),
            retention_ms: Some(Millis(7 * DAY_MS)),
            retention_bytes: None,
            index_interval_bytes: 4096,
            max_message_bytes: 1_048_588,
            log_append_time: false,
            delete: true,
            compact: false,
            delete_retention_ms: Millis(DAY_MS),
            min_cleanable_dirty_ratio: 0.5,
            min_compaction_lag_ms: Millis(0),
            max_compaction_lag_ms: Millis(i64::MAX as u64),
        }
    }
}
