//! A storage wrapper that injects the faults a real disk has: failed writes, torn writes, and
//! unsynced data lost in a crash.

use std::collections::BTreeMap;

use super::{Storage, StorageError};

/// Wraps a backend and tracks, per file, how many bytes are durable (synced), so that
/// [`FaultyStorage::crash`] can drop exactly what a power cut would.
///
/// The model follows the [`Storage`] contract: appended bytes become durable at `sync`;
/// `truncate` and `delete` are durable at once; a file never synced does not survive a crash
/// (unless part of its unsynced tail happens to be kept).
#[derive(Clone, Debug)]
pub struct FaultyStorage<S> {
    inner: S,
    /// Durable length of each file that has been synced at least once.
    durable_len: BTreeMap<String, u64>,
    /// How many of the next write operations (append, truncate, delete, rename, sync) fail
    /// outright.
    failing_writes: u32,
    /// After this many more successful write operations, every write fails (until a crash).
    writes_before_failing: Option<u32>,
    /// The next append writes only this many bytes, then fails.
    torn_append_bytes: Option<usize>,
}

impl<S: Storage> FaultyStorage<S> {
    /// Wraps `inner`, whose current contents count as durable.
    pub fn new(inner: S) -> Result<FaultyStorage<S>, StorageError> {
        let mut durable_len = BTreeMap::new();
        for file in inner.list()? {
            let len = inner.len(&file)?;
            durable_len.insert(file, len);
        }
        Ok(FaultyStorage {
            inner,
            durable_len,
            failing_writes: 0,
            writes_before_failing: None,
            torn_append_bytes: None,
        })
    }

    /// The next `count` write operations fail without touching the files.
    pub fn fail_next_writes(&mut self, count: u32) {
        self.failing_writes = count;
    }

    /// Lets `count` more write operations succeed, then fails every one after them until
    /// [`FaultyStorage::crash`]: a disk dying at an exact point of a multi-step operation.
    pub fn fail_writes_after(&mut self, count: u32) {
        self.writes_before_failing = Some(count);
    }

    /// The next append writes only its first `kept_bytes` bytes and then reports failure, as
    /// a disk that ran out of space or died mid-write.
    pub fn tear_next_append(&mut self, kept_bytes: usize) {
        self.torn_append_bytes = Some(kept_bytes);
    }

    /// Simulates a power cut: every file loses its unsynced tail except its first
    /// `unsynced_bytes_kept` bytes (the part the disk happened to write back, possibly cutting
    /// a batch in two). Files never synced and left empty disappear.
    pub fn crash(&mut self, unsynced_bytes_kept: u64) -> Result<(), StorageError> {
        self.failing_writes = 0;
        self.writes_before_failing = None;
        self.torn_append_bytes = None;
        for file in self.inner.list()? {
            let len = self.inner.len(&file)?;
            let durable = self.durable_len.get(&file).copied();
            let kept = (durable.unwrap_or(0) + unsynced_bytes_kept).min(len);
            if durable.is_none() && kept == 0 {
                self.inner.delete(&file)?;
            } else {
                self.inner.truncate(&file, kept)?;
                self.durable_len.insert(file, kept);
            }
        }
        Ok(())
    }

    /// Bytes written but not yet synced, across files.
    pub fn unsynced_bytes(&self) -> Result<u64, StorageError> {
        let mut total = 0;
        for file in self.inner.list()? {
            let durable = self.durable_len.get(&file).copied().unwrap_or(0);
            total += self.inner.len(&file)?.saturating_sub(durable);
        }
        Ok(total)
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    fn injected_failure(&mut self, file: &str) -> Result<(), StorageError> {
        let dead = match &mut self.writes_before_failing {
            Some(0) => true,
            Some(remaining) => {
                *remaining -= 1;
                false
            }
            None => false,
        };
        if dead || self.failing_writes > 0 {
            self.failing_writes = self.failing_writes.saturating_sub(1);
            return Err(StorageError::Io {
                file: file.to_string(),
                reason: "injected failure".into(),
            });
        }
        Ok(())
    }
}

impl<S: Storage> Storage for FaultyStorage<S> {
    fn append(&mut self, file: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.injected_failure(file)?;
        if let Some(kept) = self.torn_append_bytes.take() {
            self.inner.append(file, &bytes[..kept.min(bytes.len())])?;
            return Err(StorageError::Io {
                file: file.to_string(),
                reason: "injected torn write".into(),
            });
        }
        self.inner.append(file, bytes)
    }

    fn read(&self, file: &str, position: u64, len: usize) -> Result<Vec<u8>, StorageError> {
        self.inner.read(file, position, len)
    }

    fn len(&self, file: &str) -> Result<u64, StorageError> {
        self.inner.len(file)
    }

    fn truncate(&mut self, file: &str, len: u64) -> Result<(), StorageError> {
        self.injected_failure(file)?;
        self.inner.truncate(file, len)?;
        if let Some(durable) = self.durable_len.get_mut(file) {
            *durable = (*durable).min(len);
        }
        Ok(())
    }

    fn delete(&mut self, file: &str) -> Result<(), StorageError> {
        self.injected_failure(file)?;
        self.inner.delete(file)?;
        self.durable_len.remove(file);
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        self.injected_failure(from)?;
        self.inner.rename(from, to)?;
        // The name moves durably; how much of the contents is durable moves with it.
        self.durable_len.remove(to);
        if let Some(durable) = self.durable_len.remove(from) {
            self.durable_len.insert(to.to_string(), durable);
        }
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        self.inner.list()
    }

    fn sync(&mut self, file: &str) -> Result<(), StorageError> {
        self.injected_failure(file)?;
        self.inner.sync(file)?;
        let len = self.inner.len(file)?;
        self.durable_len.insert(file.to_string(), len);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    fn contents(storage: &FaultyStorage<MemoryStorage>, file: &str) -> Option<Vec<u8>> {
        storage.read(file, 0, usize::MAX).ok()
    }

    #[test]
    fn passes_the_conformance_suite() {
        crate::storage::conformance::check_backend(|| {
            FaultyStorage::new(MemoryStorage::new()).unwrap()
        });
    }

    #[test]
    fn crash_drops_unsynced_tails_and_unsynced_files() {
        let mut storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
        storage.append("a", b"durable").unwrap();
        storage.sync("a").unwrap();
        storage.append("a", b" lost").unwrap();
        storage.append("b", b"never synced").unwrap();
        assert_eq!(storage.unsynced_bytes(), Ok(17));
        storage.crash(0).unwrap();
        assert_eq!(contents(&storage, "a").as_deref(), Some(&b"durable"[..]));
        assert_eq!(contents(&storage, "b"), None);
    }

    #[test]
    fn crash_can_keep_part_of_the_unsynced_tail() {
        let mut storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
        storage.append("a", b"abc").unwrap();
        storage.sync("a").unwrap();
        storage.append("a", b"defgh").unwrap();
        storage.crash(2).unwrap();
        assert_eq!(contents(&storage, "a").as_deref(), Some(&b"abcde"[..]));
    }

    #[test]
    fn injected_failures_write_nothing_and_torn_appends_write_a_prefix() {
        let mut storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
        storage.fail_next_writes(1);
        assert!(storage.append("a", b"xyz").is_err());
        assert_eq!(contents(&storage, "a"), None);
        storage.tear_next_append(2);
        assert!(storage.append("a", b"xyz").is_err());
        assert_eq!(contents(&storage, "a").as_deref(), Some(&b"xy"[..]));
        storage.append("a", b"!").unwrap();
        assert_eq!(contents(&storage, "a").as_deref(), Some(&b"xy!"[..]));
    }

    #[test]
    fn a_rename_is_durable_and_keeps_what_was_unsynced_unsynced() {
        let mut storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
        storage.append("old", b"replaced").unwrap();
        storage.sync("old").unwrap();
        storage.append("new.tmp", b"synced").unwrap();
        storage.sync("new.tmp").unwrap();
        storage.append("new.tmp", b" unsynced").unwrap();
        storage.rename("new.tmp", "old").unwrap();
        storage.crash(0).unwrap();
        assert_eq!(contents(&storage, "old").as_deref(), Some(&b"synced"[..]));
        assert_eq!(contents(&storage, "new.tmp"), None);
        storage.fail_next_writes(1);
        assert!(storage.rename("old", "other").is_err());
        assert_eq!(contents(&storage, "old").as_deref(), Some(&b"synced"[..]));
    }

    #[test]
    fn truncation_is_durable_at_once() {
        let mut storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
        storage.append("a", b"abcdef").unwrap();
        storage.sync("a").unwrap();
        storage.truncate("a", 2).unwrap();
        storage.append("a", b"XY").unwrap();
        storage.crash(0).unwrap();
        assert_eq!(contents(&storage, "a").as_deref(), Some(&b"ab"[..]));
    }
}
