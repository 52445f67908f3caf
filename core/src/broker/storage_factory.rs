//! Where each partition's storage comes from: a directory per partition in the server, a
//! map in memory in the browser and the simulator.

use crate::assignor::TopicPartition;
use crate::storage::{MemoryStorage, Storage, StorageError};

pub trait StorageFactory {
    type Storage: Storage;

    /// The storage of `tp`, with whatever it already holds (a restart finds its data again).
    fn open(&mut self, tp: &TopicPartition) -> Result<Self::Storage, StorageError>;

    /// Deletes everything stored for `tp` (its topic was deleted).
    fn remove(&mut self, tp: &TopicPartition) -> Result<(), StorageError>;
}

/// Kafka's directory name for a partition: `<topic>-<partition>`.
pub fn partition_dir_name(tp: &TopicPartition) -> String {
    format!("{}-{}", tp.topic, tp.partition)
}

/// Fresh in-memory storage per partition (tests, and a browser cluster that never restarts a
/// broker; the simulator keeps disks across crashes with its own factory).
#[derive(Debug, Default)]
pub struct MemoryStorageFactory;

impl StorageFactory for MemoryStorageFactory {
    type Storage = MemoryStorage;

    fn open(&mut self, _tp: &TopicPartition) -> Result<MemoryStorage, StorageError> {
        Ok(MemoryStorage::default())
    }

    fn remove(&mut self, _tp: &TopicPartition) -> Result<(), StorageError> {
        Ok(())
    }
}
