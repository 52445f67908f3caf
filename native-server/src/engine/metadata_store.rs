//! The controller quorum's durable state on disk: `__cluster_metadata/raft.jsonl`, one
//! [`RaftWrite`] per line (new Raft entries of metadata records, the hard state, a snapshot of
//! the image), each synced before the node's later outputs are acted on. On open the writes
//! add up to the [`RaftLog`] the node restarts on, and the file is rewritten as that one
//! state; a snapshot (log compaction) rewrites it the same way, so the file stays bounded.
//!
//! A data directory from before the quorum has `__cluster_metadata/metadata.jsonl`, one
//! metadata record per line: on the first start its records become the Raft log's first
//! committed entry (written and synced here), then the old file is removed.

use std::path::Path;

use anyhow::Context;
use partita_core::controller::{BrokerId, MetadataRecord};
use partita_core::node::metadata_codec::raft_log_of_records;
use partita_core::node::quorum::{RaftLog, RaftWrite};

use crate::storage::JsonLog;

const DIR: &str = "__cluster_metadata";
const FILE: &str = "raft.jsonl";
const OLD_FILE: &str = "metadata.jsonl";

pub struct MetadataStore {
    file: JsonLog<RaftWrite>,
    state: RaftLog,
}

impl MetadataStore {
    /// Opens the quorum's file under `data_dir` (migrating an old metadata log for voter
    /// `node_id`), and returns it with the state to restart on.
    pub fn open(data_dir: &Path, node_id: BrokerId) -> anyhow::Result<(MetadataStore, RaftLog)> {
        let dir = data_dir.join(DIR);
        let (mut file, writes) = JsonLog::<RaftWrite>::open(&dir, FILE)?;
        let mut state = RaftLog::default();
        for write in writes {
            state.apply(write);
        }
        let old = dir.join(OLD_FILE);
        if state.is_empty() && old.exists() {
            let (_, records) = JsonLog::<MetadataRecord>::open(&dir, OLD_FILE)?;
            tracing::info!(
                "moving {} metadata records from {} into the Raft log",
                records.len(),
                old.display()
            );
            state = raft_log_of_records(node_id, &records);
        }
        file.rewrite(&[state.to_write()])?;
        if old.exists() {
            std::fs::remove_file(&old).with_context(|| format!("removing {}", old.display()))?;
        }
        tracing::info!(
            "metadata Raft log: term {}, {} entries after {}",
            state.hard_state.term,
            state.entries.len(),
            state.snapshot.as_ref().map_or_else(
                || "no snapshot".to_string(),
                |s| format!("a snapshot at index {}", s.index)
            )
        );
        Ok((
            MetadataStore {
                file,
                state: state.clone(),
            },
            state,
        ))
    }

    /// Makes `write` durable (synced when this returns).
    pub fn persist(&mut self, write: RaftWrite) -> anyhow::Result<()> {
        let snapshot = write.installed.is_some() || write.compacted.is_some();
        self.state.apply(write.clone());
        if snapshot {
            self.file.rewrite(&[self.state.to_write()])
        } else {
            self.file.append(&[write])
        }
    }
}

#[cfg(test)]
mod tests {
    use partita_core::controller::{CreateTopic, MetadataRecord};

    use super::super::state::{EngineConfig, State};
    use super::*;

    fn config(dir: &Path, snapshot_interval: u64) -> EngineConfig {
        let mut config = super::super::test_config::single_node(dir);
        config.node.metadata_snapshot_interval = snapshot_interval;
        config
    }

    fn fresh_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("partita-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn create(state: &mut State, name: &str) {
        let create = CreateTopic {
            name: name.into(),
            partitions: Some(2),
            ..CreateTopic::default()
        };
        state
            .control(false, |c| {
                c.create_topic(&create)
                    .map_err(|e| (e.code(), e.to_string()))
            })
            .unwrap();
        assert!(state.drain());
    }

    #[test]
    fn an_old_metadata_log_moves_into_the_raft_log_once() {
        let dir = fresh_dir("migrate-metadata");
        // A data directory of the previous version: its metadata log, one record a line.
        let mut state = State::open(config(&dir, 1_000)).unwrap();
        create(&mut state, "orders");
        let records: Vec<MetadataRecord> = state.node.metadata_log().to_vec();
        drop(state);
        std::fs::remove_file(dir.join(DIR).join(FILE)).unwrap();
        let (mut old, _) = JsonLog::<MetadataRecord>::open(&dir.join(DIR), OLD_FILE).unwrap();
        old.append(&records).unwrap();
        drop(old);

        let state = State::open(config(&dir, 1_000)).unwrap();
        assert!(!dir.join(DIR).join(OLD_FILE).exists());
        let orders = state.image().topic("orders").expect("migrated");
        assert_eq!(orders.partitions.len(), 2);
        let id = orders.id;
        drop(state);
        let state = State::open(config(&dir, 1_000)).unwrap();
        assert_eq!(state.image().topic("orders").unwrap().id, id);
        assert_eq!(state.quorum_status().unwrap().leader, Some(1));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn snapshots_bound_the_file_and_restarts_read_them() {
        let dir = fresh_dir("metadata-snapshots");
        let mut state = State::open(config(&dir, 5)).unwrap();
        for i in 0..40 {
            create(&mut state, &format!("t{i}"));
        }
        let status = state.quorum_status().unwrap();
        assert!(status.snapshot_index > 30, "{status:?}");
        drop(state);
        let (_, writes) = JsonLog::<RaftWrite>::open(&dir.join(DIR), FILE).unwrap();
        let entries: usize = writes.iter().map(|w| w.entries.len()).sum();
        assert!(entries < 15, "the file holds {entries} entries");

        let mut state = State::open(config(&dir, 5)).unwrap();
        assert_eq!(state.image().topics().count(), 40);
        create(&mut state, "after");
        assert!(state.image().topic("after").is_some());
        // The broker, behind the snapshot at start, got the image and hosts every partition.
        assert_eq!(state.broker().partitions().count(), 82);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
