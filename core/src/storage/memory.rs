//! The in-memory backend: the browser's and the simulator's disk, and the tests'.

use std::collections::BTreeMap;

use super::{Storage, StorageError};

/// Files as byte vectors. Everything is durable at once: crashes are simulated by wrapping it
/// in [`super::FaultyStorage`].
#[derive(Clone, Debug, Default)]
pub struct MemoryStorage {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryStorage {
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }

    fn file(&self, file: &str) -> Result<&Vec<u8>, StorageError> {
        self.files
            .get(file)
            .ok_or_else(|| StorageError::NotFound(file.to_string()))
    }
}

impl Storage for MemoryStorage {
    fn append(&mut self, file: &str, bytes: &[u8]) -> Result<(), StorageError> {
        match self.files.get_mut(file) {
            Some(data) => data.extend_from_slice(bytes),
            None => {
                self.files.insert(file.to_string(), bytes.to_vec());
            }
        }
        Ok(())
    }

    fn read(&self, file: &str, position: u64, len: usize) -> Result<Vec<u8>, StorageError> {
        let data = self.file(file)?;
        let start = usize::try_from(position)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start.saturating_add(len).min(data.len());
        Ok(data[start..end].to_vec())
    }

    fn len(&self, file: &str) -> Result<u64, StorageError> {
        Ok(self.file(file)?.len() as u64)
    }

    fn truncate(&mut self, file: &str, len: u64) -> Result<(), StorageError> {
        let data = self
            .files
            .get_mut(file)
            .ok_or_else(|| StorageError::NotFound(file.to_string()))?;
        data.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(())
    }

    fn delete(&mut self, file: &str) -> Result<(), StorageError> {
        self.files
            .remove(file)
            .map(drop)
            .ok_or_else(|| StorageError::NotFound(file.to_string()))
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        let data = self
            .files
            .remove(from)
            .ok_or_else(|| StorageError::NotFound(from.to_string()))?;
        self.files.insert(to.to_string(), data);
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.files.keys().cloned().collect())
    }

    fn sync(&mut self, file: &str) -> Result<(), StorageError> {
        self.file(file).map(drop)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passes_the_conformance_suite() {
        super::super::conformance::check_backend(super::MemoryStorage::new);
    }
}
