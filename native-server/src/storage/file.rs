//! [`Storage`] on a directory of real files, laid out as Kafka lays out a partition
//! (`00000000000000000000.log`, `.index`, `.timeindex` side by side).
//!
//! Durability follows the trait's contract: appended bytes are durable once `sync` returns
//! (`fdatasync` of the file, plus an fsync of the directory if the file is new), and `truncate`
//! and `delete` are synced before they return.

use std::collections::{BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use partita_core::storage::{Storage, StorageError};

pub struct FileStorage {
    dir: PathBuf,
    /// Open handles, so appends do not reopen the file each time.
    open: HashMap<String, File>,
    /// Files created since the directory was last synced: their names are not durable yet.
    unsynced_names: BTreeSet<String>,
}

impl FileStorage {
    /// Opens (creating if needed) the directory `dir` as one partition's storage.
    pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<FileStorage> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(FileStorage {
            dir,
            open: HashMap::new(),
            unsynced_names: BTreeSet::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, file: &str) -> Result<PathBuf, StorageError> {
        // Names come from the log (offsets and fixed suffixes), never from a client; refuse
        // anything that could leave the directory all the same.
        if file.is_empty() || file.contains(['/', '\\']) || file == "." || file == ".." {
            return Err(io_error(file, "not a plain file name"));
        }
        Ok(self.dir.join(file))
    }

    fn handle(&mut self, file: &str) -> Result<&File, StorageError> {
        if !self.open.contains_key(file) {
            let path = self.path(file)?;
            let existed = path.exists();
            let handle = OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .open(&path)
                .map_err(|e| io_error(file, e))?;
            if !existed {
                self.unsynced_names.insert(file.to_string());
            }
            self.open.insert(file.to_string(), handle);
        }
        Ok(&self.open[file])
    }

    /// Opens an existing file for reading without creating it.
    fn existing(&self, file: &str) -> Result<File, StorageError> {
        File::open(self.path(file)?).map_err(|e| match e.kind() {
            ErrorKind::NotFound => StorageError::NotFound(file.to_string()),
            _ => io_error(file, e),
        })
    }

    fn sync_dir(&mut self) -> Result<(), StorageError> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(".", e))?;
        self.unsynced_names.clear();
        Ok(())
    }
}

fn io_error(file: &str, reason: impl std::fmt::Display) -> StorageError {
    StorageError::Io {
        file: file.to_string(),
        reason: reason.to_string(),
    }
}

impl Storage for FileStorage {
    fn append(&mut self, file: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let mut handle = self.handle(file)?;
        handle.write_all(bytes).map_err(|e| io_error(file, e))
    }

    fn read(&self, file: &str, position: u64, len: usize) -> Result<Vec<u8>, StorageError> {
        let handle = match self.open.get(file) {
            Some(handle) => handle.try_clone().map_err(|e| io_error(file, e))?,
            None => self.existing(file)?,
        };
        let file_len = handle.metadata().map_err(|e| io_error(file, e))?.len();
        let available = file_len.saturating_sub(position).min(len as u64) as usize;
        let mut buf = vec![0u8; available];
        handle
            .read_exact_at(&mut buf, position)
            .map_err(|e| io_error(file, e))?;
        Ok(buf)
    }

    fn len(&self, file: &str) -> Result<u64, StorageError> {
        let metadata = match self.open.get(file) {
            Some(handle) => handle.metadata(),
            None => std::fs::metadata(self.path(file)?),
        };
        metadata.map(|m| m.len()).map_err(|e| match e.kind() {
            ErrorKind::NotFound => StorageError::NotFound(file.to_string()),
            _ => io_error(file, e),
        })
    }

    fn truncate(&mut self, file: &str, len: u64) -> Result<(), StorageError> {
        let current = self.len(file)?;
        if len >= current {
            return Ok(());
        }
        let handle = self.handle(file)?;
        handle.set_len(len).map_err(|e| io_error(file, e))?;
        handle.sync_all().map_err(|e| io_error(file, e))
    }

    fn delete(&mut self, file: &str) -> Result<(), StorageError> {
        self.open.remove(file);
        std::fs::remove_file(self.path(file)?).map_err(|e| match e.kind() {
            ErrorKind::NotFound => StorageError::NotFound(file.to_string()),
            _ => io_error(file, e),
        })?;
        self.unsynced_names.remove(file);
        self.sync_dir()
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        let (from_path, to_path) = (self.path(from)?, self.path(to)?);
        // Handles follow the inode, not the name: drop both so later calls reopen by name.
        self.open.remove(from);
        self.open.remove(to);
        std::fs::rename(&from_path, &to_path).map_err(|e| match e.kind() {
            ErrorKind::NotFound => StorageError::NotFound(from.to_string()),
            _ => io_error(from, e),
        })?;
        self.unsynced_names.remove(from);
        self.unsynced_names.remove(to);
        self.sync_dir()
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| io_error(".", e))? {
            let entry = entry.map_err(|e| io_error(".", e))?;
            if entry.file_type().map_err(|e| io_error(".", e))?.is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    fn sync(&mut self, file: &str) -> Result<(), StorageError> {
        self.handle(file)?
            .sync_data()
            .map_err(|e| io_error(file, e))?;
        if self.unsynced_names.contains(file) {
            self.sync_dir()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir() -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "partita-file-storage-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn passes_the_storage_conformance_suite() {
        partita_core::storage::conformance::check_backend(|| {
            FileStorage::open(scratch_dir()).unwrap()
        });
    }

    #[test]
    fn contents_survive_reopening() {
        let dir = scratch_dir();
        let mut storage = FileStorage::open(&dir).unwrap();
        storage
            .append("00000000000000000000.log", b"batch")
            .unwrap();
        storage.sync("00000000000000000000.log").unwrap();
        drop(storage);
        let reopened = FileStorage::open(&dir).unwrap();
        assert_eq!(reopened.list().unwrap(), vec!["00000000000000000000.log"]);
        assert_eq!(
            reopened.read("00000000000000000000.log", 0, 100).unwrap(),
            b"batch"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn names_that_leave_the_directory_are_refused() {
        let mut storage = FileStorage::open(scratch_dir()).unwrap();
        for name in ["../escape", "a/b", "..", ""] {
            assert!(storage.append(name, b"x").is_err(), "{name:?}");
        }
    }
}
