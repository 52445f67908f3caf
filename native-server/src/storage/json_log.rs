//! An append-only log of serde records on disk, one JSON record per line, for the controller's
//! metadata records and the group coordinator's offset and group records. Records are appended
//! and synced before they take effect, and replayed on start. A torn last line (a crash
//! mid-write) is cut off, as the partition logs cut a torn batch.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub struct JsonLog<T> {
    dir: PathBuf,
    path: PathBuf,
    file: File,
    records: PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned> JsonLog<T> {
    /// Opens (or creates) `dir/file_name` and returns it with the records it holds.
    pub fn open(dir: &Path, file_name: &str) -> anyhow::Result<(JsonLog<T>, Vec<T>)> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(file_name);
        let mut records = Vec::new();
        let mut valid_len = 0u64;
        if path.exists() {
            let reader = BufReader::new(File::open(&path)?);
            for line in reader.split(b'\n') {
                let line = line?;
                match serde_json::from_slice::<T>(&line) {
                    Ok(record) => {
                        records.push(record);
                        valid_len += line.len() as u64 + 1;
                    }
                    Err(e) => {
                        tracing::warn!(
                            "{}: cutting the log at byte {valid_len}: {e}",
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
        Ok((
            JsonLog {
                dir: dir.to_path_buf(),
                path,
                file,
                records: PhantomData,
            },
            records,
        ))
    }

    /// Appends `records` and syncs them: when this returns they survive a crash.
    pub fn append(&mut self, records: &[T]) -> anyhow::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.file
            .write_all(&encode(records)?)
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.file
            .sync_data()
            .with_context(|| format!("syncing {}", self.path.display()))?;
        Ok(())
    }

    /// Replaces the whole log with `records` (compaction), atomically: a new file is written
    /// and synced, then renamed over the old one.
    pub fn rewrite(&mut self, records: &[T]) -> anyhow::Result<()> {
        let fresh = self.path.with_extension("compacting");
        let mut file = File::create(&fresh)?;
        file.write_all(&encode(records)?)?;
        file.sync_all()?;
        std::fs::rename(&fresh, &self.path)?;
        File::open(&self.dir)?.sync_all()?;
        self.file = OpenOptions::new()
            .append(true)
            .read(true)
            .open(&self.path)?;
        Ok(())
    }
}

fn encode<T: Serialize>(records: &[T]) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for record in records {
        serde_json::to_writer(&mut bytes, record)?;
        bytes.push(b'\n');
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("partita-json-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn records_survive_reopening_and_a_torn_tail_is_cut() {
        let dir = scratch_dir("torn");
        let (mut log, found) = JsonLog::<Vec<u32>>::open(&dir, "log.jsonl").unwrap();
        assert!(found.is_empty());
        log.append(&[vec![1], vec![2, 3]]).unwrap();
        drop(log);
        // A crash in the middle of the next append leaves half a line.
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.join("log.jsonl"))
            .unwrap();
        file.write_all(b"[4,").unwrap();
        drop(file);
        let (mut log, found) = JsonLog::<Vec<u32>>::open(&dir, "log.jsonl").unwrap();
        assert_eq!(found, vec![vec![1], vec![2, 3]]);
        log.append(&[vec![5]]).unwrap();
        drop(log);
        let (_, found) = JsonLog::<Vec<u32>>::open(&dir, "log.jsonl").unwrap();
        assert_eq!(found, vec![vec![1], vec![2, 3], vec![5]]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn rewrite_replaces_everything() {
        let dir = scratch_dir("rewrite");
        let (mut log, _) = JsonLog::<u32>::open(&dir, "log.jsonl").unwrap();
        log.append(&[1, 2, 3]).unwrap();
        log.rewrite(&[3]).unwrap();
        log.append(&[4]).unwrap();
        drop(log);
        let (_, found) = JsonLog::<u32>::open(&dir, "log.jsonl").unwrap();
        assert_eq!(found, vec![3, 4]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
