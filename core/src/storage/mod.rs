//! Storage behind a small synchronous trait: in memory here, on files in the server.
//!
//! A [`Storage`] is one partition's directory: a flat set of named files that can be appended
//! to, read at a position, truncated, deleted and listed. It is deliberately file-like and
//! synchronous so that the server's implementation is a thin layer over `std::fs` (one
//! directory per partition) and the browser's is a map of byte vectors.
//!
//! Durability is explicit, as with real files: appended bytes may be lost in a crash until
//! [`Storage::sync`] of that file returns. The log never acknowledges a write before that;
//! [`FaultyStorage`] enforces exactly this contract in tests.

mod fault;
mod memory;

#[doc(hidden)]
pub mod conformance;

pub use fault::FaultyStorage;
pub use memory::MemoryStorage;

use crate::ErrorCode;

/// Why a storage operation failed. The log treats any of these on a write as fatal for the
/// partition until it is reopened, as Kafka takes a log directory offline.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("file {0} not found")]
    NotFound(String),
    /// The device failed the operation (an `io::Error` in the server, an injected fault in tests).
    #[error("io error on {file}: {reason}")]
    Io { file: String, reason: String },
}

impl StorageError {
    /// Kafka answers storage failures with KAFKA_STORAGE_ERROR, which clients retry (the
    /// partition moves to another replica).
    pub fn code(&self) -> ErrorCode {
        ErrorCode::KAFKA_STORAGE_ERROR
    }
}

/// One partition's files.
///
/// Contract (checked by [`conformance::check_backend`]):
/// - `append` creates the file if it does not exist, even for an empty slice, and adds bytes
///   at its end.
/// - `read` returns up to `len` bytes from `position`, fewer only at the end of the file.
/// - `truncate` to a length at or beyond the end is a no-op.
/// - `rename` moves a file to a new name atomically, replacing a file of that name if any:
///   after a crash either the old name or the new one holds the contents, never both or
///   neither. The log cleaner swaps a cleaned segment in this way.
/// - Appended bytes are durable once `sync` of that file returns; the file's existence too.
///   `truncate` and `delete` are durable when they return (the file backend syncs them), which
///   keeps recovery reasoning simple: only appended tails can vanish in a crash.
pub trait Storage {
    fn append(&mut self, file: &str, bytes: &[u8]) -> Result<(), StorageError>;
    fn read(&self, file: &str, position: u64, len: usize) -> Result<Vec<u8>, StorageError>;
    /// The file's length in bytes.
    fn len(&self, file: &str) -> Result<u64, StorageError>;
    fn truncate(&mut self, file: &str, len: u64) -> Result<(), StorageError>;
    fn delete(&mut self, file: &str) -> Result<(), StorageError>;
    /// Renames `from` to `to`, replacing `to` if it exists (POSIX `rename`); durable when it
    /// returns. The bytes of `from` not yet synced stay as they were: not synced.
    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError>;
    /// The names of all files, sorted.
    fn list(&self) -> Result<Vec<String>, StorageError>;
    /// Makes everything appended to `file` so far durable (fsync).
    fn sync(&mut self, file: &str) -> Result<(), StorageError>;
}
