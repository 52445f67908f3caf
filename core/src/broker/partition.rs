//! One hosted partition: its log, the leader's view of its replicas, and its high watermark.

use crate::Millis;
use crate::config::{BrokerConfig, CleanupPolicy, TimestampType, TopicConfig};
use crate::controller::{BrokerId, PartitionState};
use crate::log::{Log, LogConfig, RecoveryReport};
use crate::storage::{Storage, StorageError};

use super::cleaner::LogCleanerSettings;
use super::epoch_cache::LeaderEpochCache;
use super::follower::FollowerFetch;
use super::isr::LeaderState;

/// The topic configs a hosted partition needs, already resolved against broker defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PartitionSettings {
    pub log: LogConfig,
    /// `min.insync.replicas`: acks=all needs at least this many replicas in the ISR.
    pub min_insync_replicas: usize,
    /// `replica.lag.time.max.ms`.
    pub replica_lag_time_max_ms: Millis,
    /// `flush.messages`: sync after this many unsynced records (`None`: never by count).
    pub flush_messages: Option<u64>,
    /// `flush.ms`: sync when the oldest unsynced append is this old (`None`: never by age).
    pub flush_ms: Option<Millis>,
    /// `log.retention.check.interval.ms`.
    pub retention_check_interval_ms: Millis,
    /// The broker's `log.cleaner.*` configs (the same for every partition).
    pub cleaner: LogCleanerSettings,
}

impl Default for PartitionSettings {
    /// Kafka's defaults: trust the page cache, check retention every five minutes.
    fn default() -> Self {
        PartitionSettings {
            log: LogConfig::default(),
            min_insync_replicas: 1,
            replica_lag_time_max_ms: Millis(30_000),
            flush_messages: None,
            flush_ms: None,
            retention_check_interval_ms: Millis(300_000),
            cleaner: LogCleanerSettings::default(),
        }
    }
}

impl PartitionSettings {
    /// The settings of a partition of a topic with `topic` configs on a broker with `broker`.
    pub fn from_configs(topic: &TopicConfig, broker: &BrokerConfig) -> PartitionSettings {
        // Kafka spells "never" as -1 for retention and as Long.MAX_VALUE for flushing.
        let positive = |value: i64| {
            u64::try_from(value)
                .ok()
                .filter(|&v| v > 0 && v < i64::MAX as u64)
        };
        PartitionSettings {
            log: LogConfig {
                segment_bytes: u64::try_from(topic.segment_bytes)
                    .unwrap_or(LogConfig::default().segment_bytes),
                segment_ms: Millis(positive(topic.segment_ms).unwrap_or(u64::MAX)),
                retention_ms: positive(topic.retention_ms).map(Millis),
                retention_bytes: u64::try_from(topic.retention_bytes).ok(),
                max_message_bytes: u64::try_from(topic.max_message_bytes).unwrap_or(0),
                log_append_time: topic.message_timestamp_type == TimestampType::LogAppendTime,
                delete: topic.cleanup_policy != CleanupPolicy::Compact,
                compact: topic.cleanup_policy != CleanupPolicy::Delete,
                index_interval_bytes: u64::try_from(topic.index_interval_bytes)
                    .unwrap_or(LogConfig::default().index_interval_bytes),
                delete_retention_ms: Millis(u64::try_from(topic.delete_retention_ms).unwrap_or(0)),
                min_cleanable_dirty_ratio: topic.min_cleanable_dirty_ratio.clamp(0.0, 1.0),
                min_compaction_lag_ms: Millis(
                    u64::try_from(topic.min_compaction_lag_ms).unwrap_or(0),
                ),
                max_compaction_lag_ms: Millis(
                    u64::try_from(topic.max_compaction_lag_ms).unwrap_or(i64::MAX as u64),
                ),
            },
            min_insync_replicas: usize::try_from(topic.min_insync_replicas).unwrap_or(1),
            replica_lag_time_max_ms: Millis(broker.replica_lag_time_max_ms),
            flush_messages: positive(topic.flush_messages),
            flush_ms: positive(topic.flush_ms).map(Millis),
            retention_check_interval_ms: Millis(broker.log_retention_check_interval_ms),
            cleaner: LogCleanerSettings::from_config(broker),
        }
    }
}

/// A partition's offsets and roles at one moment, as metadata, the JSON API and the playground
/// show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionSnapshot {
    pub log_start_offset: i64,
    pub high_watermark: i64,
    /// The high watermark held back by open transactions (KIP-98): read_committed reads
    /// stop here.
    pub last_stable_offset: i64,
    pub log_end_offset: i64,
    pub flushed_offset: i64,
    pub leader: BrokerId,
    pub leader_epoch: i32,
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
    pub size_bytes: u64,
}

pub(super) struct Partition<S> {
    pub(super) log: Log<S>,
    pub(super) settings: PartitionSettings,
    pub(super) node_id: BrokerId,
    pub(super) durable: bool,
    pub(super) state: PartitionState,
    pub(super) high_watermark: i64,
    /// Where each leader epoch began in this log (KIP-101).
    pub(super) epochs: LeaderEpochCache,
    /// As leader: what each follower's fetches told us, and the ISR change asked for.
    pub(super) leader: LeaderState,
    /// As follower of a live leader: what to ask that leader next.
    pub(super) follower: Option<FollowerFetch>,
    /// When the oldest append not yet synced happened, and how many records are unsynced.
    unflushed_since: Option<Millis>,
    unflushed_records: u64,
    last_retention_check: Millis,
}

impl<S: Storage> Partition<S> {
    pub(super) fn open(
        storage: S,
        settings: PartitionSettings,
        broker: super::BrokerSettings,
        now: Millis,
    ) -> Result<(Partition<S>, RecoveryReport), StorageError> {
        let (log, report) = Log::open(storage, settings.log)?;
        let epochs = LeaderEpochCache::from_starts(&log.epoch_starts()?);
        // Nothing says how much of a reopened log was committed (Kafka keeps a high watermark
        // checkpoint; Partita does not): its tail may be a deposed leader's unreplicated
        // writes. The high watermark starts at the log start and is learnt again, from the
        // leader as follower, or from the ISR as leader (at once when the ISR is this broker
        // alone).
        let high_watermark = log.log_start_offset();
        let partition = Partition {
            log,
            settings,
            node_id: broker.node_id,
            durable: broker.durable,
            state: PartitionState {
                replicas: vec![broker.node_id],
                isr: vec![broker.node_id],
                leader: crate::controller::NO_LEADER,
                // Below any epoch the controller hands out, so the first state is news.
                leader_epoch: -1,
                partition_epoch: -1,
            },
            high_watermark,
            epochs,
            leader: LeaderState::default(),
            follower: None,
            unflushed_since: None,
            unflushed_records: 0,
            last_retention_check: now,
        };
        Ok((partition, report))
    }

    pub(super) fn set_settings(&mut self, settings: PartitionSettings) {
        self.log.set_config(settings.log);
        self.settings = settings;
    }

    /// Takes the controller's view of leader, epoch, replicas and ISR. A state older than the
    /// one held (a smaller leader epoch, or the same with a smaller partition epoch) is
    /// ignored; the same state again changes nothing.
    pub(super) fn apply_state(&mut self, state: &PartitionState, now: Millis) {
        let older = (state.leader_epoch, state.partition_epoch)
            < (self.state.leader_epoch, self.state.partition_epoch);
        if older {
            return;
        }
        let new_leadership =
            state.leader != self.state.leader || state.leader_epoch != self.state.leader_epoch;
        let new_partition_epoch = state.partition_epoch != self.state.partition_epoch;
        self.state = state.clone();
        if self.is_leader() {
            self.follower = None;
            if new_leadership {
                self.become_leader(now);
            } else if new_partition_epoch {
                self.leader.isr_change = None;
            }
            self.leader
                .track_replicas(&state.replicas, self.node_id, now);
        } else {
            self.leader = LeaderState::default();
            if new_leadership {
                self.follower = (state.leader != crate::controller::NO_LEADER)
                    .then(|| FollowerFetch::new(state.leader, state.leader_epoch));
            }
        }
        self.update_high_watermark();
    }

    pub(super) fn is_leader(&self) -> bool {
        self.state.leader == self.node_id
    }

    pub(super) fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    /// The high watermark held back by open transactions (the log's `last_stable_offset`).
    pub(super) fn last_stable_offset(&self) -> i64 {
        self.log.last_stable_offset(self.high_watermark)
    }

    /// Notes `records` appended records for the flush policy.
    pub(super) fn appended(&mut self, records: u64, now: Millis) {
        self.unflushed_since.get_or_insert(now);
        self.unflushed_records += records;
        self.update_high_watermark();
    }

    /// On the leader, the high watermark is the smallest log end offset in the maximal ISR
    /// (the ISR together with a change still waiting for the controller, so that neither a
    /// replica being removed nor one being added is counted out too early); the leader's own
    /// counts only once synced when the broker is durable. It never moves back on a leader.
    pub(super) fn update_high_watermark(&mut self) {
        if !self.is_leader() {
            return;
        }
        let own = if self.durable {
            self.log.flushed_offset()
        } else {
            self.log.log_end_offset()
        };
        let candidate = self
            .maximal_isr()
            .iter()
            .filter(|&&r| r != self.node_id)
            .map(|r| self.leader.log_end_offset_of(*r))
            .fold(own, i64::min);
        if candidate > self.high_watermark {
            self.high_watermark = candidate;
            self.log.note_high_watermark(candidate);
        }
        self.assert_high_watermark();
    }

    pub(super) fn assert_high_watermark(&self) {
        assert!(
            self.high_watermark <= self.log.log_end_offset(),
            "high watermark {} above log end offset {}",
            self.high_watermark,
            self.log.log_end_offset()
        );
    }

    fn flush_due(&self, durable: bool, now: Millis) -> bool {
        let Some(since) = self.unflushed_since else {
            return false;
        };
        durable
            || self
                .settings
                .flush_messages
                .is_some_and(|n| self.unflushed_records >= n)
            || self
                .settings
                .flush_ms
                .is_some_and(|ms| now.since(since) >= ms)
    }

    pub(super) fn flush_if_due(&mut self, durable: bool, now: Millis) -> Result<(), StorageError> {
        if self.flush_due(durable, now) {
            self.log.flush()?;
            self.unflushed_since = None;
            self.unflushed_records = 0;
            self.update_high_watermark();
        }
        Ok(())
    }

    pub(super) fn apply_retention_if_due(&mut self, now: Millis) -> Result<(), StorageError> {
        if now.since(self.last_retention_check) >= self.settings.retention_check_interval_ms {
            self.last_retention_check = now;
            self.log.apply_retention(now)?;
            self.epochs.truncate_from_start(self.log.log_start_offset());
        }
        Ok(())
    }

    pub(super) fn next_deadline(&self, durable: bool) -> Option<Millis> {
        let retention = self
            .last_retention_check
            .plus(self.settings.retention_check_interval_ms);
        let flush = match (self.unflushed_since, self.settings.flush_ms) {
            (Some(_), _) if durable => None, // the shell flushes every round
            (Some(since), Some(ms)) => Some(since.plus(ms)),
            _ => None,
        };
        Some(flush.map_or(retention, |f| f.min(retention)))
    }

    pub(super) fn snapshot(&self) -> PartitionSnapshot {
        PartitionSnapshot {
            log_start_offset: self.log.log_start_offset(),
            high_watermark: self.high_watermark,
            last_stable_offset: self.last_stable_offset(),
            log_end_offset: self.log.log_end_offset(),
            flushed_offset: self.log.flushed_offset(),
            leader: self.state.leader,
            leader_epoch: self.state.leader_epoch,
            replicas: self.state.replicas.clone(),
            isr: self.state.isr.clone(),
            size_bytes: self.log.size_bytes(),
        }
    }
}
