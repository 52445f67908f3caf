//! The group coordinator's records on disk: the core's compacted [`OffsetsLog`] (Kafka's
//! `__consumer_offsets` record format, compacted by the core's log cleaner) in the directory
//! `<data dir>/__consumer_offsets/`, with segment files like any partition's.
//!
//! Kafka would name that directory `__consumer_offsets-0`; that name is a user topic's
//! partition directory here, since the offsets topic is not yet a topic of the metadata
//! (issue 14), so the log keeps the directory the JSON lines file used.
//!
//! Migration: a data directory written by an older partita holds the records as JSON lines in
//! `__consumer_offsets/groups.jsonl`. On start its live records (the latest of each key) are
//! appended to the log and synced, then the file is removed. A crash in between leaves the
//! file, and the next start appends the same records again: the latest value of each key is
//! the same either way, and the cleaner drops the copies.

use std::path::Path;

use anyhow::Context;
use partita_core::Millis;
use partita_core::group::{GroupRecord, OFFSETS_TOPIC, OffsetsLog, compact};
use partita_core::log::MAX_SEGMENT_BYTES;

use crate::storage::{FileStorage, JsonLog};

/// The JSON lines file older versions kept the group records in.
pub const LEGACY_FILE: &str = "groups.jsonl";

/// Opens (recovering, migrating) the offsets log under `data_dir`; returns it with the live
/// records the coordinator replays.
pub fn open(
    data_dir: &Path,
    segment_bytes: u64,
    now: Millis,
) -> anyhow::Result<(OffsetsLog<FileStorage>, Vec<GroupRecord>)> {
    let dir = data_dir.join(OFFSETS_TOPIC);
    let storage = FileStorage::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
    let config = OffsetsLog::<FileStorage>::log_config(segment_bytes.clamp(1, MAX_SEGMENT_BYTES));
    let (mut log, mut live) = OffsetsLog::open(storage, config)
        .with_context(|| format!("reading the offsets log in {}", dir.display()))?;
    let legacy = dir.join(LEGACY_FILE);
    if legacy.exists() {
        let (_, records) = JsonLog::<GroupRecord>::open(&dir, LEGACY_FILE)?;
        let migrated = compact(&records);
        log.append(&migrated, now)
            .context("migrating groups.jsonl into the offsets log")?;
        std::fs::remove_file(&legacy).with_context(|| format!("removing {}", legacy.display()))?;
        std::fs::File::open(&dir)?.sync_all()?;
        live = compact(&log.read_all()?);
        tracing::info!(
            "migrated {} group records from {} into the compacted offsets log",
            migrated.len(),
            legacy.display()
        );
    }
    Ok((log, live))
}

#[cfg(test)]
mod tests {
    use partita_core::assignor::TopicPartition;
    use partita_core::broker::LogCleanerSettings;
    use partita_core::group::CommittedOffset;

    use super::*;

    fn scratch_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("partita-offsets-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn commit(group: &str, partition: i32, offset: i64) -> GroupRecord {
        GroupRecord::Offset {
            group: group.into(),
            partition: TopicPartition::new("events", partition),
            value: Some(CommittedOffset {
                offset,
                leader_epoch: None,
                metadata: String::new(),
                commit_timestamp: Millis(1),
            }),
        }
    }

    /// Three commits of each of two keys, and a tombstone deleting a third.
    fn legacy_records() -> Vec<GroupRecord> {
        let mut records = Vec::new();
        for offset in 1..=3 {
            records.push(commit("app", 0, offset));
            records.push(commit("app", 1, offset * 10));
        }
        records.push(commit("old", 0, 5));
        records.push(GroupRecord::Offset {
            group: "old".into(),
            partition: TopicPartition::new("events", 0),
            value: None,
        });
        records
    }

    fn write_legacy(data_dir: &Path, records: &[GroupRecord]) {
        let (mut legacy, _) =
            JsonLog::<GroupRecord>::open(&data_dir.join(OFFSETS_TOPIC), LEGACY_FILE).unwrap();
        legacy.append(records).unwrap();
    }

    #[test]
    fn groups_jsonl_is_migrated_on_first_start_and_removed() {
        let data_dir = scratch_dir("migrate");
        write_legacy(&data_dir, &legacy_records());
        let (_, live) = open(&data_dir, 1 << 20, Millis(10)).unwrap();
        assert_eq!(live, vec![commit("app", 0, 3), commit("app", 1, 30)]);
        let dir = data_dir.join(OFFSETS_TOPIC);
        assert!(!dir.join(LEGACY_FILE).exists(), "groups.jsonl is gone");
        assert!(
            std::fs::read_dir(&dir).unwrap().any(|f| f
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".log")),
            "the records are in a segment"
        );
        // The next start reads the same state from the log alone.
        let (log, again) = open(&data_dir, 1 << 20, Millis(20)).unwrap();
        assert_eq!(again, live);
        assert_eq!(
            log.read_all().unwrap(),
            live,
            "only the live records were migrated"
        );
        std::fs::remove_dir_all(data_dir).unwrap();
    }

    #[test]
    fn a_crash_before_groups_jsonl_is_removed_migrates_it_again_to_the_same_state() {
        let data_dir = scratch_dir("remigrate");
        write_legacy(&data_dir, &legacy_records());
        let (_, first) = open(&data_dir, 1 << 20, Millis(10)).unwrap();
        // As if the process died after syncing the log but before removing the file.
        write_legacy(&data_dir, &legacy_records());
        let (_, second) = open(&data_dir, 1 << 20, Millis(20)).unwrap();
        assert_eq!(second, first);
        std::fs::remove_dir_all(data_dir).unwrap();
    }

    #[test]
    fn the_cleaner_compacts_the_offsets_log_on_disk() {
        let data_dir = scratch_dir("clean");
        let (mut log, _) = open(&data_dir, 500, Millis(0)).unwrap();
        let mut written = Vec::new();
        for offset in 1..=100 {
            let records = vec![commit("app", 0, offset), commit("app", 1, offset)];
            log.append(&records, Millis(offset as u64)).unwrap();
            written.extend(records);
        }
        let settings = LogCleanerSettings {
            backoff_ms: Millis(10),
            ..LogCleanerSettings::default()
        };
        let mut cleaned = false;
        for t in 0..10_000 {
            cleaned |= log.tick(Millis(1_000 + t), &settings).unwrap().is_some();
            if cleaned && !log.log().is_cleaning() {
                break;
            }
        }
        assert!(cleaned);
        drop(log);
        let (log, live) = open(&data_dir, 500, Millis(20_000)).unwrap();
        assert_eq!(live, compact(&written));
        assert_eq!(live, vec![commit("app", 0, 100), commit("app", 1, 100)]);
        let left = log.read_all().unwrap().len();
        assert!(left < 20, "{left} of 200 records left after cleaning");
        std::fs::remove_dir_all(data_dir).unwrap();
    }
}
