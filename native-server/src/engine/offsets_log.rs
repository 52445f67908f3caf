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
    let storage =
        FileStorage::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
    let config =
        OffsetsLog::<FileStorage>::log_config(segment_bytes.clamp(1, MAX_SEGMENT_BYTES));
    let (mut log, mut live) = OffsetsLog::open(storage, config)
        .with_context(|| format!("reading the offsets log in {}", dir.display()))?;
    let legacy = dir.join(LEGACY_FILE);
    if legacy.exists() {
        let (_, records) = JsonLog::<GroupRecord>::open(&dir, LEGACY_FILE)?;
        let migrated = compact(&records);
        log.append(&migrated, now)
            .context("migrating groups.jsonl into the offsets log")?;
        std::fs::remove_file(&legacy)
            .with_context(|| format!("removing {}", legacy.display()))?;
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
