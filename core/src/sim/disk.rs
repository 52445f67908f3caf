//! Simulated disks: each broker's partitions live in fault-injecting in-memory storage that
//! outlives the broker process, so a crash loses exactly the unsynced tails and a restart
//! recovers whatever was synced.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::rng::Rng;
use crate::assignor::TopicPartition;
use crate::broker::StorageFactory;
use crate::storage::{FaultyStorage, MemoryStorage, Storage, StorageError};

type SharedFile = Arc<Mutex<FaultyStorage<MemoryStorage>>>;

/// The lock of a simulated file. The simulation is single-threaded, so the lock is never
/// contended; it is a `Mutex` only so that a `Simulation` can move between threads (a server
/// running one in a blocking task).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One partition's directory on a simulated disk, shared between the disk (which survives
/// crashes) and the broker process using it.
#[derive(Clone, Debug)]
pub struct DiskPartition(SharedFile);

impl Storage for DiskPartition {
    fn append(&mut self, file: &str, bytes: &[u8]) -> Result<(), StorageError> {
        lock(&self.0).append(file, bytes)
    }
    fn read(&self, file: &str, position: u64, len: usize) -> Result<Vec<u8>, StorageError> {
        lock(&self.0).read(file, position, len)
    }
    fn len(&self, file: &str) -> Result<u64, StorageError> {
        lock(&self.0).len(file)
    }
    fn truncate(&mut self, file: &str, len: u64) -> Result<(), StorageError> {
        lock(&self.0).truncate(file, len)
    }
    fn delete(&mut self, file: &str) -> Result<(), StorageError> {
        lock(&self.0).delete(file)
    }
    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        lock(&self.0).rename(from, to)
    }
    fn list(&self) -> Result<Vec<String>, StorageError> {
        lock(&self.0).list()
    }
    fn sync(&mut self, file: &str) -> Result<(), StorageError> {
        lock(&self.0).sync(file)
    }
}

/// A broker's disk: one directory per partition. Cloning shares the same disk.
#[derive(Clone, Debug, Default)]
pub struct SimDisk {
    partitions: Arc<Mutex<BTreeMap<TopicPartition, SharedFile>>>,
}

impl SimDisk {
    /// A power cut: every partition loses its unsynced bytes except a seeded few (a torn
    /// tail that recovery must cut). Returns the unsynced bytes there were.
    pub fn crash(&self, rng: &mut Rng) -> u64 {
        let mut unsynced_total = 0;
        for storage in lock(&self.partitions).values() {
            let mut storage = lock(storage);
            let unsynced = storage.unsynced_bytes().expect("memory storage lists");
            unsynced_total += unsynced;
            let kept = if unsynced == 0 {
                0
            } else {
                rng.below(unsynced + 1)
            };
            storage.crash(kept).expect("memory storage does not fail");
        }
        unsynced_total
    }

    /// A copy of one partition's durable-or-not bytes, to read back after a run.
    pub fn snapshot(&self, tp: &TopicPartition) -> Option<MemoryStorage> {
        lock(&self.partitions)
            .get(tp)
            .map(|s| lock(s).inner().clone())
    }
}

impl StorageFactory for SimDisk {
    type Storage = DiskPartition;

    fn open(&mut self, tp: &TopicPartition) -> Result<DiskPartition, StorageError> {
        let mut partitions = lock(&self.partitions);
        let shared = partitions.entry(tp.clone()).or_insert_with(|| {
            Arc::new(Mutex::new(
                FaultyStorage::new(MemoryStorage::new()).expect("empty storage"),
            ))
        });
        Ok(DiskPartition(Arc::clone(shared)))
    }

    fn remove(&mut self, tp: &TopicPartition) -> Result<(), StorageError> {
        lock(&self.partitions).remove(tp);
        Ok(())
    }
}
