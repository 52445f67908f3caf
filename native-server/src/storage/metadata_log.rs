//! The controller's metadata records on disk: one JSON record per line, appended and synced
//! before the records take effect, replayed on start. A torn last line (a crash mid-write) is
//! cut off, as the partition logs cut a torn batch.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use partita_core::controller::MetadataRecord;

pub struct MetadataLog {
    path: PathBuf,
    file: File,
}

impl MetadataLog {
    /// Opens (or creates) the log in `dir` and returns it with the records it holds.
    pub fn open(dir: &Path) -> anyhow::Result<(MetadataLog, Vec<MetadataRecord>)> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("metadata.jsonl");
        let mut records = Vec::new();
        let mut valid_len = 0u64;
        if path.exists() {
            let reader = BufReader::new(File::open(&path)?);
            for line in reader.split(b'\n') {
                let line = line?;
                match serde_json::from_slice::<MetadataRecord>(&line) {
                    Ok(record) => {
                        records.push(record);
                        valid_len += line.len() as u64 + 1;
                    }
                    Err(e) => {
                        tracing::warn!(
                            "{}: cutting the metadata log at byte {valid_len}: {e}",
                            path.display()
                        );
                        break;
                    }
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)?;
        if file.metadata()?.len() > valid_len {
            file.set_len(valid_len)?;
            file.sync_all()?;
        }
        File::open(dir)?.sync_all()?;
        Ok((MetadataLog { path, file }, records))
    }

    /// Appends `records` and syncs them: when this returns they survive a crash.
    pub fn append(&mut self, records: &[MetadataRecord]) -> anyhow::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::new();
        for record in records {
            serde_json::to_writer(&mut bytes, record)?;
            bytes.push(b'\n');
        }
        self.file
            .write_all(&bytes)
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.file
            .sync_data()
            .with_context(|| format!("syncing {}", self.path.display()))?;
        Ok(())
    }
}
