//! Migrating the group coordinator's records of an older data directory into the offsets
//! topic. `__consumer_offsets` is now a partitioned, replicated topic of the metadata
//! (`<data dir>/__consumer_offsets-<n>/`, like any partition; see the core's
//! `node::offsets_topic`). Older versions kept every group in `<data dir>/__consumer_offsets/`:
//! a compacted log of their own (Kafka's record format, the core's [`OffsetsLog`]), and before
//! that JSON lines in `__consumer_offsets/groups.jsonl`.
//!
//! On start, [`read_legacy`] reads what such a directory holds (the live records: the latest
//! of each key, tombstones dropped); the engine hands them to the node, which appends them to
//! the partitions of the offsets topic it leads and syncs them
//! (`Node::migrate_group_records`), and then [`remove_legacy`] deletes the directory. A crash
//! in between leaves the directory, and the next start migrates the same records again: the
//! latest value of each key is the same either way, and the cleaner drops the copies.

use std::path::{Path, PathBuf};

use anyhow::Context;
use partita_core::Millis;
use partita_core::group::{GroupRecord, OFFSETS_TOPIC, OffsetsLog, compact};
use partita_core::log::MAX_SEGMENT_BYTES;

use crate::storage::{FileStorage, JsonLog};

/// The JSON lines file the oldest versions kept the group records in.
pub const LEGACY_FILE: &str = "groups.jsonl";

/// The directory older versions kept the group records in.
pub fn legacy_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(OFFSETS_TOPIC)
}

/// The live group records of an older data directory (its compacted offsets log, then its
/// `groups.jsonl` on top), or `None` when there is no such directory.
pub fn read_legacy(
    data_dir: &Path,
    segment_bytes: u64,
    now: Millis,
) -> anyhow::Result<Option<Vec<GroupRecord>>> {
    let dir = legacy_dir(data_dir);
    if !dir.is_dir() {
        return Ok(None);
    }
    let storage = FileStorage::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
    let config = OffsetsLog::<FileStorage>::log_config(segment_bytes.clamp(1, MAX_SEGMENT_BYTES));
    let (mut log, _) = OffsetsLog::open(storage, config)
        .with_context(|| format!("reading the offsets log in {}", dir.display()))?;
    let legacy = dir.join(LEGACY_FILE);
    if legacy.exists() {
        let (_, records) = JsonLog::<GroupRecord>::open(&dir, LEGACY_FILE)?;
        // Appended to the old log first, so that the records of both are read in order.
        log.append(&compact(&records), now)
            .context("reading groups.jsonl into the offsets log")?;
    }
    Ok(Some(log.read_live()?))
}

/// Deletes the older data directory's group records, once migrated and synced.
pub fn remove_legacy(data_dir: &Path) -> anyhow::Result<()> {
    let dir = legacy_dir(data_dir);
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    std::fs::File::open(data_dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use partita_core::assignor::TopicPartition;
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
    fn an_older_directory_is_read_as_its_live_records_until_removed() {
        let data_dir = scratch_dir("legacy");
        assert!(
            read_legacy(&data_dir, 1 << 20, Millis(1))
                .unwrap()
                .is_none()
        );
        write_legacy(&data_dir, &legacy_records());
        let live = read_legacy(&data_dir, 1 << 20, Millis(10))
            .unwrap()
            .unwrap();
        assert_eq!(live, vec![commit("app", 0, 3), commit("app", 1, 30)]);
        // A crash before the removal: the next start reads the same records again.
        let again = read_legacy(&data_dir, 1 << 20, Millis(20))
            .unwrap()
            .unwrap();
        assert_eq!(again, live);
        remove_legacy(&data_dir).unwrap();
        assert!(
            read_legacy(&data_dir, 1 << 20, Millis(30))
                .unwrap()
                .is_none()
        );
        std::fs::remove_dir_all(data_dir).unwrap();
    }

    #[test]
    fn an_older_compacted_log_is_read_with_a_groups_jsonl_on_top() {
        let data_dir = scratch_dir("log-and-jsonl");
        let dir = legacy_dir(&data_dir);
        let storage = FileStorage::open(&dir).unwrap();
        let (mut log, _) =
            OffsetsLog::open(storage, OffsetsLog::<FileStorage>::log_config(1 << 20)).unwrap();
        log.append(&[commit("app", 0, 1), commit("kept", 0, 9)], Millis(1))
            .unwrap();
        drop(log);
        write_legacy(&data_dir, &legacy_records());
        let live = read_legacy(&data_dir, 1 << 20, Millis(10))
            .unwrap()
            .unwrap();
        assert_eq!(
            live,
            vec![
                commit("kept", 0, 9),
                commit("app", 0, 3),
                commit("app", 1, 30)
            ]
        );
        std::fs::remove_dir_all(data_dir).unwrap();
    }
}
