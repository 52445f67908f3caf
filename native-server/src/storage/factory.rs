//! One directory per partition under the data directory, named `<topic>-<partition>` as Kafka
//! names them.

use std::path::PathBuf;

use partita_core::assignor::TopicPartition;
use partita_core::broker::{StorageFactory, partition_dir_name};
use partita_core::storage::StorageError;

use super::FileStorage;

pub struct FileStorageFactory {
    root: PathBuf,
}

impl FileStorageFactory {
    pub fn new(root: impl Into<PathBuf>) -> FileStorageFactory {
        FileStorageFactory { root: root.into() }
    }

    fn dir(&self, tp: &TopicPartition) -> PathBuf {
        self.root.join(partition_dir_name(tp))
    }
}

fn io_error(tp: &TopicPartition, e: std::io::Error) -> StorageError {
    StorageError::Io {
        file: partition_dir_name(tp),
        reason: e.to_string(),
    }
}

impl StorageFactory for FileStorageFactory {
    type Storage = FileStorage;

    fn open(&mut self, tp: &TopicPartition) -> Result<FileStorage, StorageError> {
        FileStorage::open(self.dir(tp)).map_err(|e| io_error(tp, e))
    }

    fn remove(&mut self, tp: &TopicPartition) -> Result<(), StorageError> {
        match std::fs::remove_dir_all(self.dir(tp)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(tp, e)),
            _ => Ok(()),
        }
    }
}
