//! Simulated disks: each broker's partitions live in fault-injecting in-memory storage that
//! outlives the broker process, so a crash loses exactly the unsynced tails and a restart
//! recovers whatever was synced.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::rng::Rng;
use crate::assignor::TopicPartition;
use crate::broker::StorageFactory;
use crate::storage::{FaultyStorage, MemoryStorage, Storage, StorageError};

type SharedFile = Rc<RefCell<FaultyStorage<MemoryStorage>>>;

/// One partition's directory on a simulated disk, shared between the disk (which survives
/// crashes) and the broker process using it.
#[derive(Clone, Debug)]
pub struct DiskPartition(SharedFile);

impl Storage for DiskPartition {
    fn append(&mut self, file: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.0.borrow_mut().append(file, bytes)
    }
    fn read(&self, file: &str, position: u64, len: usize) -> Result<Vec<u8>, StorageError> {
        self.0.borrow().read(file, position, len)
    }
    fn len(&self, file: &str) -> Result<u64, StorageError> {
        self.0.borrow().len(file)
    }
    fn truncate(&mut self, file: &str, len: u64) -> Result<(), StorageError> {
        self.0.borrow_mut().truncate(file, len)
    }
    fn delete(&mut self, file: &str) -> Result<(), StorageError> {
        self.0.borrow_mut().delete(file)
    }
    fn list(&self) -> Result<Vec<String>, StorageError> {
        self.0.borrow().list()
    }
    fn sync(&mut self, file: &str) -> Result<(), StorageError> {
        self.0.borrow_mut().sync(file)
    }
}

/// A broker's disk: one directory per partition. Cloning shares the same disk.
#[derive(Clone, Debug, Default)]
pub struct SimDisk {
    partitions: Rc<RefCell<BTreeMap<TopicPartition, SharedFile>>>,
}

impl SimDisk {
    /// A power cut: every partition loses its unsynced bytes except a seeded few (a torn
    /// tail that recovery must cut). Returns the unsynced bytes there were.
    pub fn crash(&self, rng: &mut Rng) -> u64 {
        let mut unsynced_total = 0;
        for storage in self.partitions.borrow().values() {
            let mut storage = storage.borrow_mut();
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
        self.partitions
            .borrow()
            .get(tp)
            .map(|s| s.borrow().inner().clone())
    }
}

impl StorageFactory for SimDisk {
    type Storage = DiskPartition;

    fn open(&mut self, tp: &TopicPartition) -> Result<DiskPartition, StorageError> {
        let mut partitions = self.partitions.borrow_mut();
        let shared = partitions.entry(tp.clone()).or_insert_with(|| {
            Rc::new(RefCell::new(
                FaultyStorage::new(MemoryStorage::new()).expect("empty storage"),
            ))
        });
        Ok(DiskPartition(Rc::clone(shared)))
    }

    fn remove(&mut self, tp: &TopicPartition) -> Result<(), StorageError> {
        self.partitions.borrow_mut().remove(tp);
        Ok(())
    }
}
