//! The broker's log cleaner: which compacted partition to clean and when (Kafka's
//! `LogCleanerManager.grabFilthiestCompactedLog` and one `CleanerThread`), driven from
//! [`Broker::tick`], the same periodic path that runs retention, so every shell gets it.
//!
//! One partition is cleaned at a time, a bounded step per tick (see `log::cleaner`); while a
//! round runs, [`Broker::next_deadline`] asks for the next tick at once. When a round ends the
//! next filthiest log is looked for at the following tick; when none is dirty enough the
//! cleaner waits `log.cleaner.backoff.ms`.

use crate::Millis;
use crate::assignor::TopicPartition;
use crate::config::BrokerConfig;
use crate::log::{CleanerConfig, CleanerStats, CleanerStep};
use crate::storage::StorageError;

use super::{Broker, StorageFactory};

/// The broker-level cleaner configs, with Kafka's names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogCleanerSettings {
    /// `log.cleaner.enable`: without it compacted topics are never cleaned (and still never
    /// deleted by retention).
    pub enable: bool,
    /// `log.cleaner.backoff.ms`: how long to wait when no log needs cleaning.
    pub backoff_ms: Millis,
    /// `log.cleaner.dedupe.buffer.size`, `log.cleaner.io.buffer.size`,
    /// `log.cleaner.io.buffer.load.factor`.
    pub config: CleanerConfig,
}

impl Default for LogCleanerSettings {
    fn default() -> Self {
        LogCleanerSettings {
            enable: true,
            backoff_ms: Millis(15_000),
            config: CleanerConfig::default(),
        }
    }
}

impl LogCleanerSettings {
    /// The broker's `log.cleaner.*` configs. A `log.cleaner.io.buffer.load.factor` outside
    /// (0, 1] (Kafka validates none; its cleaner then fails to size its map) keeps the default.
    pub fn from_config(broker: &BrokerConfig) -> LogCleanerSettings {
        let defaults = CleanerConfig::default();
        LogCleanerSettings {
            enable: broker.log_cleaner_enable,
            backoff_ms: Millis(broker.log_cleaner_backoff_ms),
            config: CleanerConfig {
                dedupe_buffer_size: u64::try_from(broker.log_cleaner_dedupe_buffer_size)
                    .unwrap_or(defaults.dedupe_buffer_size),
                io_buffer_size: u64::try_from(broker.log_cleaner_io_buffer_size)
                    .unwrap_or(defaults.io_buffer_size),
                dedupe_buffer_load_factor: Some(broker.log_cleaner_io_buffer_load_factor)
                    .filter(|f| *f > 0.0 && *f <= 1.0)
                    .unwrap_or(defaults.dedupe_buffer_load_factor),
                ..defaults
            },
        }
    }
}

/// What the cleaner is doing.
#[derive(Debug, Default)]
pub(super) struct CleanerState {
    /// The partition whose round is in progress.
    cleaning: Option<TopicPartition>,
    /// When the last look for a dirty log found none: the next look is `log.cleaner.backoff.ms`
    /// after it, with the backoff as configured then (it may change at run time, and the
    /// settings only exist once a partition is hosted). `None`: look at the next tick.
    idle_since: Option<Millis>,
    /// The time of the last tick: the deadline to return while a round is in progress.
    last_tick: Millis,
    /// The last finished round, for display.
    last_round: Option<(TopicPartition, CleanerStats)>,
}

impl CleanerState {
    /// The next time the cleaner has work: now while a round runs.
    pub(super) fn next_deadline(&self, settings: &LogCleanerSettings) -> Option<Millis> {
        if self.cleaning.is_some() {
            Some(self.last_tick)
        } else {
            settings.enable.then(|| self.next_check(settings))
        }
    }

    fn next_check(&self, settings: &LogCleanerSettings) -> Millis {
        self.idle_since
            .map_or(self.last_tick, |since| since.plus(settings.backoff_ms))
    }
}

impl<F: StorageFactory> Broker<F> {
    /// The broker's cleaner settings: the same in every partition's settings (they come from
    /// the broker config); Kafka's defaults when no partition is hosted. The codecs are the
    /// broker's own (see [`Broker::set_codecs`]).
    pub(super) fn cleaner_settings(&self) -> LogCleanerSettings {
        let mut settings = self
            .partitions
            .values()
            .next()
            .map_or_else(LogCleanerSettings::default, |p| p.settings.cleaner);
        settings.config.codecs = self.codecs;
        settings
    }

    /// Lends the log cleaner and every hosted log the shell's compression codecs: with them
    /// the cleaner compacts compressed batches too (recompressing what it keeps with the
    /// batch's codec) and a produce's compressed batch is opened and checked before it is
    /// appended ([`crate::log::Log::set_codecs`]); without them ([`crate::batch::NoCodecs`],
    /// the default) the cleaner keeps compressed batches whole and produce refuses them.
    pub fn set_codecs(&mut self, codecs: &'static dyn crate::batch::Codecs) {
        self.codecs = codecs;
        for partition in self.partitions.values_mut() {
            partition.log.set_codecs(codecs);
        }
    }

    /// One step of the cleaner, from [`Broker::tick`].
    pub(super) fn run_cleaner(&mut self, now: Millis) -> Result<(), StorageError> {
        self.cleaner.last_tick = now;
        let settings = self.cleaner_settings();
        if let Some(tp) = self.cleaner.cleaning.clone() {
            let Some(partition) = self.partitions.get_mut(&tp) else {
                self.cleaner.cleaning = None;
                return Ok(());
            };
            match partition.log.clean_step(&settings.config) {
                Ok(CleanerStep::Working) => return Ok(()),
                Ok(CleanerStep::Done(stats)) => {
                    self.cleaner.cleaning = None;
                    self.cleaner.last_round = Some((tp, stats));
                    return Ok(());
                }
                Ok(CleanerStep::Idle) => self.cleaner.cleaning = None,
                Err(err) => {
                    self.cleaner.cleaning = None;
                    return Err(err);
                }
            }
        }
        if !settings.enable || now < self.cleaner.next_check(&settings) {
            return Ok(());
        }
        let filthiest = self
            .partitions
            .iter()
            .filter_map(|(tp, p)| {
                // Kafka's bound: the last stable offset, so an open transaction's records (which may
                // still be aborted) are neither mapped nor cleaned.
                let range = p.log.cleanable_range(now, p.last_stable_offset())?;
                range.should_clean().then_some((tp, range))
            })
            .max_by(|a, b| a.1.dirty_ratio().total_cmp(&b.1.dirty_ratio()));
        let Some((tp, range)) = filthiest else {
            self.cleaner.idle_since = Some(now);
            return Ok(());
        };
        let tp = tp.clone();
        let partition = self.partitions.get_mut(&tp).expect("found above");
        partition
            .log
            .begin_cleaning(&range, now, &settings.config)?;
        self.cleaner.cleaning = Some(tp);
        self.cleaner.idle_since = None;
        Ok(())
    }

    /// The partition being cleaned, if a round is in progress.
    pub fn cleaning(&self) -> Option<&TopicPartition> {
        self.cleaner.cleaning.as_ref()
    }

    /// The last round the cleaner finished: which partition, and what it did.
    pub fn last_cleaning(&self) -> Option<&(TopicPartition, CleanerStats)> {
        self.cleaner.last_round.as_ref()
    }
}
