//! Offset checkpoints: the log start offset (where DeleteRecords and retention moved it, so it
//! survives a restart: Kafka's `log-start-offset-checkpoint`, kept per partition here), and the
//! cleaner's first dirty offset (Kafka's `cleaner-offset-checkpoint`).
//!
//! The file is append-only, one 8-byte big-endian offset per update, and the last complete
//! entry wins: a torn append loses only the update being written, never the previous value.

use crate::storage::{Storage, StorageError};

pub(super) const CHECKPOINT_FILE: &str = "log-start-offset.checkpoint";
const ENTRY_BYTES: usize = 8;
/// When the file has grown this large it is rewritten with one entry.
const CHECKPOINT_MAX_BYTES: u64 = 4096;

/// The last checkpointed log start offset, if any.
pub(super) fn read(storage: &impl Storage) -> Result<Option<i64>, StorageError> {
    read_file(storage, CHECKPOINT_FILE)
}

/// Durably records `log_start_offset`.
pub(super) fn write(storage: &mut impl Storage, log_start_offset: i64) -> Result<(), StorageError> {
    write_file(storage, CHECKPOINT_FILE, log_start_offset)
}

/// The last offset checkpointed in `file`, if any.
pub(super) fn read_file(storage: &impl Storage, file: &str) -> Result<Option<i64>, StorageError> {
    if !storage.list()?.iter().any(|name| name == file) {
        return Ok(None);
    }
    let len = storage.len(file)?;
    let complete = len - len % ENTRY_BYTES as u64;
    if complete == 0 {
        return Ok(None);
    }
    let last = storage.read(file, complete - ENTRY_BYTES as u64, ENTRY_BYTES)?;
    let offset = i64::from_be_bytes(last.try_into().expect("read returns the bytes present"));
    Ok((offset >= 0).then_some(offset))
}

/// Durably records `offset` in `file`.
pub(super) fn write_file(
    storage: &mut impl Storage,
    file: &str,
    offset: i64,
) -> Result<(), StorageError> {
    let exists = storage.list()?.iter().any(|name| name == file);
    if exists {
        let len = storage.len(file)?;
        if len >= CHECKPOINT_MAX_BYTES {
            storage.truncate(file, 0)?;
        } else if len % ENTRY_BYTES as u64 != 0 {
            // Drop a torn entry so the new one stays aligned.
            storage.truncate(file, len - len % ENTRY_BYTES as u64)?;
        }
    }
    storage.append(file, &offset.to_be_bytes())?;
    storage.sync(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    #[test]
    fn the_last_complete_entry_wins() {
        let mut storage = MemoryStorage::new();
        assert_eq!(read(&storage), Ok(None));
        write(&mut storage, 5).unwrap();
        write(&mut storage, 9).unwrap();
        assert_eq!(read(&storage), Ok(Some(9)));
        storage.append(CHECKPOINT_FILE, &[0, 0, 0]).unwrap();
        assert_eq!(read(&storage), Ok(Some(9)), "a torn entry is ignored");
        write(&mut storage, 12).unwrap();
        assert_eq!(read(&storage), Ok(Some(12)));
    }

    #[test]
    fn a_full_file_is_rewritten() {
        let mut storage = MemoryStorage::new();
        for offset in 0..1000 {
            write(&mut storage, offset).unwrap();
        }
        assert!(storage.len(CHECKPOINT_FILE).unwrap() <= CHECKPOINT_MAX_BYTES);
        assert_eq!(read(&storage), Ok(Some(999)));
    }
}
