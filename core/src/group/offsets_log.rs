//! The group coordinator's records in a compacted partition log, as Kafka keeps them in
//! partition 0 of `__consumer_offsets`: one v2 record per [`GroupRecord`], its key and value in
//! Kafka's own format (`record_format`: an `OffsetCommitKey` of group, topic and partition, or a
//! `GroupMetadataKey` of group; a null value is a tombstone), in a [`Log`] with
//! `cleanup.policy=compact`. The same log cleaner that compacts users' topics
//! ([`Log::begin_cleaning`], [`Log::clean_step`]) keeps the latest record of each key, so only
//! the latest commit of each group and partition survives, and drops tombstones after
//! `delete.retention.ms` (Kafka's `GroupMetadataManager` writes and `LogCleaner` compacts the
//! same way).
//!
//! Sans-IO like the rest of the core: the shell gives it a [`Storage`] (a directory named
//! `__consumer_offsets-0` in the server), appends what the coordinator persists, and ticks it.

use crate::Millis;
use std::collections::BTreeMap;

use crate::batch::{BatchBuilder, EndTxnMarker, decode_records, split_batches};
use crate::broker::LogCleanerSettings;
use crate::log::{AppendError, CleanerStats, CleanerStep, Log, LogConfig, ReadError};
use crate::storage::{Storage, StorageError};

use super::records::{GroupRecord, GroupRecordKey};

/// Kafka's offsets topic.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// `offsets.topic.segment.bytes`'s default: 100 MiB, smaller than other topics' so that the
/// offsets log is compacted (and loaded) quickly.
pub const OFFSETS_TOPIC_SEGMENT_BYTES: u64 = 100 * 1024 * 1024;

/// Records per appended batch, so that one batch stays far below `max.message.bytes`.
pub const RECORDS_PER_BATCH: usize = 500;

/// Bytes read per step when loading the log.
const READ_CHUNK_BYTES: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum OffsetsLogError {
    #[error("cannot append to the offsets log: {0}")]
    Append(#[from] AppendError),
    #[error("cannot read the offsets log: {0}")]
    Read(#[from] ReadError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A record that is not a group record in Kafka's format.
    #[error("offsets log record at offset {offset}: {reason}")]
    Corrupt { offset: i64, reason: String },
}

/// The offsets log and its cleaner's schedule.
pub struct OffsetsLog<S> {
    log: Log<S>,
    /// When the last look for dirty bytes found too few (`log.cleaner.backoff.ms` runs from it).
    idle_since: Option<Millis>,
    last_tick: Millis,
    last_cleaning: Option<CleanerStats>,
}

impl<S: Storage> OffsetsLog<S> {
    /// The offsets topic's log settings: compacted only (never deleted by retention), with
    /// `segment_bytes` from `offsets.topic.segment.bytes`; Kafka's topic defaults otherwise
    /// (`min.cleanable.dirty.ratio` 0.5, `delete.retention.ms` one day).
    pub fn log_config(segment_bytes: u64) -> LogConfig {
        LogConfig {
            segment_bytes,
            retention_ms: None,
            retention_bytes: None,
            delete: false,
            compact: true,
            ..LogConfig::default()
        }
    }

    /// Opens (recovering) the log in `storage` and reads it: returns the log and the live
    /// group records (the latest of each key, tombstones left out), in offset order, for
    /// [`super::Coordinator::replay`].
    pub fn open(
        storage: S,
        config: LogConfig,
    ) -> Result<(OffsetsLog<S>, Vec<GroupRecord>), OffsetsLogError> {
        let (log, _) = Log::open(storage, config)?;
        let offsets_log = OffsetsLog {
            log,
            idle_since: None,
            last_tick: Millis::ZERO,
            last_cleaning: None,
        };
        let records = offsets_log.read_live()?;
        Ok((offsets_log, records))
    }

    /// The live records of the log: the latest of each key, tombstones left out, in offset
    /// order (what compacting the whole log would leave), read a chunk at a time with memory
    /// bounded by the keys ([`GroupLogReplay`]).
    pub fn read_live(&self) -> Result<Vec<GroupRecord>, OffsetsLogError> {
        let mut replay = GroupLogReplay::default();
        let mut offset = self.log.log_start_offset();
        let end = self.log.log_end_offset();
        while offset < end {
            let read = self.log.read(offset, READ_CHUNK_BYTES)?;
            let Some(next) = decode_group_batches(&read.records, offset, &mut replay)? else {
                break;
            };
            offset = next;
        }
        // A single node's own log holds no transactional records.
        Ok(replay.finish().0)
    }

    /// Appends `records` and syncs them: when this returns they survive a crash.
    pub fn append(&mut self, records: &[GroupRecord], now: Millis) -> Result<(), OffsetsLogError> {
        for mut bytes in encode_group_batches(records, now) {
            self.log.append(&mut bytes, 0, now)?;
        }
        if !records.is_empty() {
            self.log.flush()?;
        }
        Ok(())
    }

    /// One step of the log cleaner: a bounded step of the round in progress, or (when
    /// `log.cleaner.enable` and `log.cleaner.backoff.ms` since the last idle look allow) a look
    /// at whether the log is dirty enough to begin one. Returns a finished round's figures.
    pub fn tick(
        &mut self,
        now: Millis,
        settings: &LogCleanerSettings,
    ) -> Result<Option<CleanerStats>, StorageError> {
        self.last_tick = now;
        if self.log.is_cleaning() {
            return match self.log.clean_step(&settings.config)? {
                CleanerStep::Done(stats) => {
                    self.last_cleaning = Some(stats.clone());
                    Ok(Some(stats))
                }
                CleanerStep::Working | CleanerStep::Idle => Ok(None),
            };
        }
        if !settings.enable
            || self
                .idle_since
                .is_some_and(|since| now < since.plus(settings.backoff_ms))
        {
            return Ok(None);
        }
        match self.log.cleanable_range(now, self.log.log_end_offset()) {
            Some(range) if range.should_clean() => {
                self.log.begin_cleaning(&range, now, &settings.config)?;
                self.idle_since = None;
            }
            _ => self.idle_since = Some(now),
        }
        Ok(None)
    }

    /// When [`OffsetsLog::tick`] next has work: at once while a round runs, else when the
    /// backoff ends.
    pub fn next_deadline(&self, settings: &LogCleanerSettings) -> Option<Millis> {
        if self.log.is_cleaning() {
            Some(self.last_tick)
        } else if settings.enable {
            Some(
                self.idle_since
                    .map_or(self.last_tick, |since| since.plus(settings.backoff_ms)),
            )
        } else {
            None
        }
    }

    /// The last round the cleaner finished over this log.
    pub fn last_cleaning(&self) -> Option<&CleanerStats> {
        self.last_cleaning.as_ref()
    }

    pub fn log(&self) -> &Log<S> {
        &self.log
    }

    /// Syncs everything (before the process exits).
    pub fn flush(&mut self) -> Result<(), StorageError> {
        self.log.flush()
    }
}

/// `records` as v2 record batches (at most [`RECORDS_PER_BATCH`] records each), keys and
/// values in Kafka's `__consumer_offsets` format, timestamped `now`: what the coordinator
/// appends to its log or produces to its partition of the offsets topic.
pub fn encode_group_batches(records: &[GroupRecord], now: Millis) -> Vec<Vec<u8>> {
    records
        .chunks(RECORDS_PER_BATCH)
        .map(|chunk| {
            let mut builder = BatchBuilder::new();
            for record in chunk {
                let (key, value) = record.encode();
                builder.push(now.0 as i64, Some(&key), value.as_deref(), &[]);
            }
            builder.build()
        })
        .collect()
}

/// The offset records of a TxnOffsetCommit (KIP-98), as the group coordinator writes them to
/// its offsets partition: one transactional batch of the producer (`producer_id`,
/// `producer_epoch`, first sequence `base_sequence`), made visible or dropped by the
/// transaction's commit or abort marker (Kafka's `GroupMetadataManager.storeOffsets` with a
/// producer id).
pub fn encode_txn_offset_batch(
    records: &[GroupRecord],
    now: Millis,
    (producer_id, producer_epoch): (i64, i16),
    base_sequence: i32,
) -> Vec<u8> {
    let mut builder = BatchBuilder::new()
        .idempotent(producer_id, producer_epoch, base_sequence)
        .transactional();
    for record in records {
        let (key, value) = record.encode();
        builder.push(now.0 as i64, Some(&key), value.as_deref(), &[]);
    }
    builder.build()
}

/// A transactional group record read from an offsets log: (producer epoch, log offset,
/// record).
pub type TxnGroupRecord = (i16, i64, GroupRecord);

/// What reading an offsets log in order gives (Kafka's `GroupMetadataManager.doLoadGroupsAndOffsets`):
/// the records in effect, each at its log offset (plain ones, and those of transactions whose
/// commit marker was read), and the records of transactions still open, by producer id.
/// Records of an aborted transaction are dropped at its marker, and so are those of an
/// older epoch than the commit marker's.
///
/// It is compacted as it is fed, as Kafka's loader keeps its `loadedOffsets`,
/// `loadedGroups` and `pendingOffsets` maps: only the record with the highest offset of each
/// key is held (a tombstone too, until the end, so that nothing older comes back), and of an
/// open transaction only its latest record of each key and epoch. Memory is bounded by the
/// groups' keys, not by the log, however many chunks it is read in; a transaction whose marker
/// is in a later chunk stays pending until then.
#[derive(Clone, Debug, Default)]
pub struct GroupLogReplay {
    /// The latest record in effect of each key, with its offset.
    latest: BTreeMap<GroupRecordKey, (i64, GroupRecord)>,
    /// Each open transaction's latest record of each (epoch, key), with its offset.
    open: BTreeMap<i64, PendingRecords>,
}

/// An open transaction's records: the latest of each (producer epoch, key), with its offset.
type PendingRecords = BTreeMap<(i16, GroupRecordKey), (i64, GroupRecord)>;

impl GroupLogReplay {
    /// Puts `record`, read at `offset`, in effect unless a later record of its key is.
    fn apply(&mut self, offset: i64, record: GroupRecord) {
        let key = record.key();
        if self.latest.get(&key).is_none_or(|(at, _)| *at < offset) {
            self.latest.insert(key, (offset, record));
        }
    }

    /// How many records it holds (in effect, tombstones included, and pending): what the
    /// reading costs in memory.
    pub fn held(&self) -> usize {
        self.latest.len() + self.open.values().map(BTreeMap::len).sum::<usize>()
    }

    /// The live records (the latest of each key, tombstones left out) in log order (a
    /// committed transaction's records at their own offsets, as Kafka compares a pending
    /// commit's offset with the loaded one's), ready for [`super::Coordinator::replay`],
    /// and the open transactions' records by producer id, in log order.
    pub fn finish(self) -> (Vec<GroupRecord>, BTreeMap<i64, Vec<TxnGroupRecord>>) {
        let mut live: Vec<(i64, GroupRecord)> = self
            .latest
            .into_values()
            .filter(|(_, record)| !record.is_tombstone())
            .collect();
        live.sort_by_key(|(offset, _)| *offset);
        let open = self
            .open
            .into_iter()
            .map(|(producer_id, records)| {
                let mut records: Vec<TxnGroupRecord> = records
                    .into_iter()
                    .map(|((epoch, _), (offset, record))| (epoch, offset, record))
                    .collect();
                records.sort_by_key(|(_, offset, _)| *offset);
                (producer_id, records)
            })
            .collect();
        (live.into_iter().map(|(_, r)| r).collect(), open)
    }
}

/// Decodes the group records of whole batches `bytes` (read from an offsets log at `offset`),
/// skipping records below `offset`, into `replay`: a transactional batch's records wait for
/// their producer's marker. Returns the offset after the last batch, or `None` when `bytes`
/// holds no whole batch. A record that is not a group record in Kafka's format, or a control
/// batch that is not a marker, is [`OffsetsLogError::Corrupt`].
pub fn decode_group_batches(
    bytes: &[u8],
    offset: i64,
    replay: &mut GroupLogReplay,
) -> Result<Option<i64>, OffsetsLogError> {
    let corrupt = |offset: i64, reason: String| OffsetsLogError::Corrupt { offset, reason };
    let batches = split_batches(bytes).map_err(|e| corrupt(offset, e.to_string()))?;
    if batches.is_empty() {
        return Ok(None);
    }
    let mut next = offset;
    for (range, summary) in batches {
        let header = &summary.header;
        next = next.max(header.next_offset());
        // A transaction's commit or abort marker (KIP-98): the producer's records read so
        // far take effect or are dropped.
        if header.is_control() {
            if header.base_offset < offset {
                continue;
            }
            let marker = EndTxnMarker::from_batch(&bytes[range])
                .map_err(|e| corrupt(header.base_offset, e.to_string()))?;
            let ended = replay.open.remove(&marker.producer_id).unwrap_or_default();
            if marker.commit {
                // An older epoch's records were a zombie's: the commit of the epoch that
                // fenced it never makes them visible (as the coordinator decides live).
                for ((epoch, _), (at, record)) in ended {
                    if epoch == marker.producer_epoch {
                        replay.apply(at, record);
                    }
                }
            }
            continue;
        }
        let transactional = header.is_transactional().then_some(header.producer_id);
        let epoch = header.producer_epoch;
        let batch = decode_records(&bytes[range])
            .map_err(|e| corrupt(header.base_offset, e.to_string()))?;
        for record in batch.into_iter().filter(|r| r.offset >= offset) {
            let key = record
                .key
                .ok_or_else(|| corrupt(record.offset, "no key".into()))?;
            let group_record = GroupRecord::decode(&key, record.value.as_deref())
                .map_err(|e| corrupt(record.offset, e.to_string()))?;
            match transactional {
                Some(producer_id) => {
                    let key = (epoch, group_record.key());
                    let pending = replay.open.entry(producer_id).or_default();
                    pending.insert(key, (record.offset, group_record));
                }
                None => replay.apply(record.offset, group_record),
            }
        }
    }
    Ok(Some(next))
}

#[cfg(test)]
mod tests;
