//! One hosted partition: its log, the leader's view of its replicas, and its high watermark.

use std::collections::BTreeMap;

use crate::Millis;
use crate::config::{BrokerConfig, TopicConfig};
use crate::controller::{BrokerId, PartitionState};
use crate::log::{Log, LogConfig, RecoveryReport};
use crate::storage::{Storage, StorageError};


/// The topic configs a hosted partition needs, already resolved against broker defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
        }
    }
}

impl PartitionSettings {
    /// The settings of a partition of a topic with `topic` configs on a broker with `broker`.
    pub fn from_configs(topic: &TopicConfig, broker: &BrokerConfig) -> PartitionSettings {
        // Kafka spells "never" as -1 for retention and as Long.MAX_VALUE for flushing.
        let positive = |value: i64| u64::try_from(value).ok().filter(|&v| v > 0 && v < i64::MAX as u64);
        PartitionSettings {
            log: LogConfig {
                segment_bytes: u64::try_from(topic.segment_bytes).unwrap_or(LogConfig::default().segment_bytes),
                segment_ms: Millis(positive(topic.segment_ms).unwrap_or(u64::MAX)),
                retention_ms: positive(topic.retention_ms).map(Millis),
                retention_bytes: u64::try_from(topic.retention_bytes).ok(),
                max_message_bytes: u64::try_from(topic.max_message_bytes).unwrap_or(0),
                ..LogConfig::default()
            },
            min_insync_replicas: usize::try_from(topic.min_insync_replicas).unwrap_or(1),
            replica_lag_time_max_ms: Millis(broker.replica_lag_time_max_ms),
            flush_messages: positive(topic.flush_messages),
            flush_ms: positive(topic.flush_ms).map(Millis),
            retention_check_interval_ms: Millis(broker.log_retention_check_interval_ms),
        }
    }
}

/// What a follower last told the leader, by fetching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FollowerState {
    log_end_offset: i64,
    /// The last time its fetch reached the leader's log end offset.
    last_caught_up: Millis,
}

/// A partition's offsets and roles at one moment, as metadata, the JSON API and the playground
/// show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionSnapshot {
    pub log_start_offset: i64,
    pub high_watermark: i64,
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
    node_id: BrokerId,
    durable: bool,
    pub(super) state: PartitionState,
    high_watermark: i64,
    followers: BTreeMap<BrokerId, FollowerState>,
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
        // Recovery leaves everything durable, and a restarted broker knows nothing newer: its
        // own log is all it can vouch for until followers report in.
        let high_watermark = log.log_end_offset();
        let partition = Partition {
            log,
            settings,
            node_id: broker.node_id,
            durable: broker.durable,
            state: PartitionState {
                replicas: vec![broker.node_id],
                isr: vec![broker.node_id],
                leader: crate::controller::NO_LEADER,
                leader_epoch: 0,
                partition_epoch: 0,
            },
            high_watermark,
            followers: BTreeMap::new(),
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

    /// Takes the controller's view of leader, epoch, replicas and ISR.
    pub(super) fn apply_state(&mut self, state: &PartitionState, now: Millis) {
        let became_leader = state.leader == self.node_id
            && (self.state.leader != self.node_id || state.leader_epoch != self.state.leader_epoch);
        if became_leader {
            // A new leader knows nothing of its followers yet: they count as caught up now, so
            // none is pushed out of the ISR before it had a chance to fetch.
            self.followers = state
                .replicas
                .iter()
                .filter(|&&r| r != self.node_id)
                .map(|&r| (r, FollowerState { log_end_offset: 0, last_caught_up: now }))
                .collect();
        }
        self.state = state.clone();
        self.update_high_watermark();
    }

    pub(super) fn is_leader(&self) -> bool {
        self.state.leader == self.node_id
    }

    pub(super) fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    /// Notes `records` appended records for the flush policy.
    pub(super) fn appended(&mut self, records: u64, now: Millis) {
        self.unflushed_since.get_or_insert(now);
        self.unflushed_records += records;
        self.update_high_watermark();
    }

    /// A follower fetched from `fetch_offset`: everything below it is on the follower.
    pub(super) fn follower_fetched(&mut self, follower: BrokerId, fetch_offset: i64, now: Millis) {
        let leader_end = self.log.log_end_offset();
        if let Some(state) = self.followers.get_mut(&follower) {
            state.log_end_offset = fetch_offset;
            if fetch_offset >= leader_end {
                state.last_caught_up = now;
            }
        }
        self.update_high_watermark();
    }

    /// The high watermark is the smallest log end offset in the ISR; the leader's own counts
    /// only once synced when the broker is durable. It never moves back.
    fn update_high_watermark(&mut self) {
        if !self.is_leader() {
            return;
        }
        let own = if self.durable { self.log.flushed_offset() } else { self.log.log_end_offset() };
        let followers = self
            .state
            .isr
            .iter()
            .filter(|&&r| r != self.node_id)
            .map(|r| self.followers.get(r).map_or(0, |f| f.log_end_offset));
        let candidate = followers.fold(own, i64::min);
        if candidate > self.high_watermark {
            self.high_watermark = candidate;
        }
        assert!(
            self.high_watermark <= self.log.log_end_offset(),
            "high watermark {} above log end offset {}",
            self.high_watermark,
            self.log.log_end_offset()
        );
    }

    fn flush_due(&self, durable: bool, now: Millis) -> bool {
        let Some(since) = self.unflushed_since else { return false };
        durable
            || self.settings.flush_messages.is_some_and(|n| self.unflushed_records >= n)
            || self.settings.flush_ms.is_some_and(|ms| now.since(since) >= ms)
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
        }
        Ok(())
    }

    pub(super) fn next_deadline(&self, durable: bool) -> Option<Millis> {
        let retention = self.last_retention_check.plus(self.settings.retention_check_interval_ms);
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
