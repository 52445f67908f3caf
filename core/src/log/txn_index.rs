//! One segment's aborted-transactions index on disk: Kafka's `TransactionIndex`, the
//! `<base offset>.txnindex` file beside the segment's `.log`.
//!
//! An entry is appended when an abort marker is written, to the index of the segment that
//! holds the marker, so entries are in marker order. Each is Kafka's `AbortedTxn`, 34 bytes
//! big-endian: version (i16, 0), producer id (i64), first offset (i64), last offset (the
//! marker's, i64) and the last stable offset right after the abort (i64). The file is
//! created with the segment's first entry (a segment without aborted transactions has none),
//! deleted with its segment, cut with the log, and read a bounded chunk at a time, so the log
//! holds no aborted transaction in memory.
//!
//! The file is never trusted on open: recovery reads every segment and rebuilds the entries
//! from its batches (with the producer state, which knows where each transaction began), and
//! rewrites a file that is missing, torn or different ([`reconcile`]).

use std::ops::ControlFlow;

use super::AbortedTxn;
use crate::storage::{Storage, StorageError};

/// Bytes per entry (Kafka's `AbortedTxn.TOTAL_SIZE`).
pub(super) const ENTRY_BYTES: usize = 34;
/// The only entry version (Kafka's `AbortedTxn.CURRENT_VERSION`).
const VERSION: i16 = 0;
/// Entries read per storage read: about 34 KiB, the most a lookup holds besides its answer.
const READ_ENTRIES: usize = 1024;

/// An entry's bytes.
pub(super) fn encode(txn: &AbortedTxn) -> [u8; ENTRY_BYTES] {
    let mut entry = [0; ENTRY_BYTES];
    entry[..2].copy_from_slice(&VERSION.to_be_bytes());
    let fields = [
        txn.producer_id,
        txn.first_offset,
        txn.last_offset,
        txn.last_stable_offset,
    ];
    for (i, field) in fields.into_iter().enumerate() {
        entry[2 + 8 * i..10 + 8 * i].copy_from_slice(&field.to_be_bytes());
    }
    entry
}

/// The entry at `position` of `file`; a version other than 0 means the file is not an index
/// this log wrote (Kafka refuses a newer version too), reported as a storage error.
fn decode(file: &str, position: u64, entry: &[u8]) -> Result<AbortedTxn, StorageError> {
    let field = |i: usize| {
        let bytes = entry[2 + 8 * i..10 + 8 * i].try_into().expect("8 bytes");
        i64::from_be_bytes(bytes)
    };
    let version = i16::from_be_bytes([entry[0], entry[1]]);
    if version != VERSION {
        return Err(StorageError::Io {
            file: file.to_string(),
            reason: format!("aborted transaction entry at {position} has version {version}"),
        });
    }
    Ok(AbortedTxn {
        producer_id: field(0),
        first_offset: field(1),
        last_offset: field(2),
        last_stable_offset: field(3),
    })
}

/// Visits the entries in the first `len` bytes of `file` in order, with their positions,
/// until `visit` breaks. Reads [`READ_ENTRIES`] entries at a time.
fn scan(
    storage: &impl Storage,
    file: &str,
    len: u64,
    mut visit: impl FnMut(u64, AbortedTxn) -> ControlFlow<()>,
) -> Result<(), StorageError> {
    let entry_bytes = ENTRY_BYTES as u64;
    let mut position = 0;
    while position + entry_bytes <= len {
        let entries = ((len - position) / entry_bytes).min(READ_ENTRIES as u64);
        let chunk = storage.read(file, position, (entries * entry_bytes) as usize)?;
        if chunk.len() as u64 != entries * entry_bytes {
            return Err(StorageError::Io {
                file: file.to_string(),
                reason: format!("index ends at {}, {len} bytes expected", position),
            });
        }
        for entry in chunk.chunks_exact(ENTRY_BYTES) {
            if visit(position, decode(file, position, entry)?).is_break() {
                return Ok(());
            }
            position += entry_bytes;
        }
    }
    Ok(())
}

/// Adds to `out` the entries of this index a read_committed fetch of `[start, upper)` must
/// report: marker at or after `start`, first offset before `upper` (Kafka's
/// `TransactionIndex.collectAbortedTxns`). `true` when the search is complete: an entry's
/// last stable offset reached `upper`, so no later abort can have begun before it.
pub(super) fn collect(
    storage: &impl Storage,
    file: &str,
    len: u64,
    start: i64,
    upper: i64,
    out: &mut Vec<AbortedTxn>,
) -> Result<bool, StorageError> {
    let mut complete = false;
    scan(storage, file, len, |_, txn| {
        if txn.last_offset >= start && txn.first_offset < upper {
            out.push(txn);
        }
        if txn.last_stable_offset >= upper {
            complete = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    Ok(complete)
}

/// The length to cut the index to so it keeps only the aborts whose marker is below
/// `offset` (Kafka's `TransactionIndex.truncateTo`).
pub(super) fn cut_position(
    storage: &impl Storage,
    file: &str,
    len: u64,
    offset: i64,
) -> Result<u64, StorageError> {
    let mut cut = len;
    scan(storage, file, len, |position, txn| {
        if txn.last_offset >= offset {
            cut = position;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    Ok(cut)
}

/// Appends the first `len` bytes of the index `from` to `to`, a chunk at a time (the cleaner
/// merging the indexes of the segments it replaces with one).
pub(super) fn copy(
    storage: &mut impl Storage,
    from: &str,
    len: u64,
    to: &str,
) -> Result<(), StorageError> {
    let chunk_bytes = (READ_ENTRIES * ENTRY_BYTES) as u64;
    let mut position = 0;
    while position < len {
        let chunk = storage.read(from, position, (len - position).min(chunk_bytes) as usize)?;
        if chunk.is_empty() {
            return Err(StorageError::Io {
                file: from.to_string(),
                reason: format!("index ends at {position}, {len} bytes expected"),
            });
        }
        storage.append(to, &chunk)?;
        position += chunk.len() as u64;
    }
    Ok(())
}

/// What recovery did with a segment's index file.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Reconciled {
    /// The file held exactly the entries rebuilt from the segment (or neither existed).
    Kept,
    /// The file was missing, torn or different, and now holds the rebuilt entries (an empty
    /// file is left where there are none); the reason says what was wrong.
    Rebuilt(String),
}

/// Makes `file` (which `exists` or not) hold exactly `entries`, the aborts recovery found in
/// the segment's batches, rewriting it unless it already does. The rewrite is not synced:
/// the caller syncs it with the rest of what it recovered.
pub(super) fn reconcile(
    storage: &mut impl Storage,
    file: &str,
    exists: bool,
    entries: &[AbortedTxn],
) -> Result<Reconciled, StorageError> {
    let expected: Vec<u8> = entries.iter().flat_map(encode).collect();
    let reason = if !exists {
        if entries.is_empty() {
            return Ok(Reconciled::Kept);
        }
        "missing".to_string()
    } else {
        let len = storage.len(file)?;
        if len != expected.len() as u64 {
            format!(
                "{len} bytes where the segment's aborts make {}",
                expected.len()
            )
        } else if !same_bytes(storage, file, &expected)? {
            "entries differ from the segment's aborts".to_string()
        } else {
            return Ok(Reconciled::Kept);
        }
    };
    if exists {
        storage.truncate(file, 0)?;
    }
    storage.append(file, &expected)?;
    Ok(Reconciled::Rebuilt(reason))
}

/// Whether `file` holds `expected` (of the same length), read a chunk at a time.
fn same_bytes(storage: &impl Storage, file: &str, expected: &[u8]) -> Result<bool, StorageError> {
    for (i, part) in expected.chunks(READ_ENTRIES * ENTRY_BYTES).enumerate() {
        let position = (i * READ_ENTRIES * ENTRY_BYTES) as u64;
        if storage.read(file, position, part.len())? != part {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    fn txn(producer_id: i64, first_offset: i64, last_offset: i64) -> AbortedTxn {
        AbortedTxn {
            producer_id,
            first_offset,
            last_offset,
            last_stable_offset: last_offset + 1,
        }
    }

    #[test]
    fn an_entry_is_kafkas_34_bytes() {
        let entry = encode(&AbortedTxn {
            producer_id: 0x0102,
            first_offset: 3,
            last_offset: 4,
            last_stable_offset: -1,
        });
        let mut expected = vec![0, 0];
        expected.extend(0x0102_i64.to_be_bytes());
        expected.extend(3_i64.to_be_bytes());
        expected.extend(4_i64.to_be_bytes());
        expected.extend((-1_i64).to_be_bytes());
        assert_eq!(entry.to_vec(), expected);
        assert_eq!(
            decode("f", 0, &entry).unwrap(),
            AbortedTxn {
                producer_id: 0x0102,
                first_offset: 3,
                last_offset: 4,
                last_stable_offset: -1,
            }
        );
        let mut newer = entry;
        newer[1] = 1;
        assert!(decode("f", 0, &newer).is_err());
    }

    #[test]
    fn reads_span_chunks_and_stop_once_complete() {
        let mut storage = MemoryStorage::new();
        // More entries than one read holds; each closes before the next begins.
        let entries: Vec<_> = (0..2500).map(|i| txn(i, 10 * i, 10 * i + 5)).collect();
        assert_eq!(
            reconcile(&mut storage, "i", false, &entries).unwrap(),
            Reconciled::Rebuilt("missing".into())
        );
        let len = storage.len("i").unwrap();
        assert_eq!(len, 2500 * ENTRY_BYTES as u64);
        let mut out = Vec::new();
        // [15000, 15020): aborts 1500 (first 15000) and 1501 (first 15010); 1502's last
        // stable offset (15026) is past the end, so the search stops there.
        assert!(collect(&storage, "i", len, 15_000, 15_020, &mut out).unwrap());
        assert_eq!(out, vec![entries[1500], entries[1501]]);
        // An abort ending inside the range but begun before it is reported too.
        out.clear();
        assert!(!collect(&storage, "i", len, 24_993, i64::MAX, &mut out).unwrap());
        assert_eq!(out, entries[2499..].to_vec());
        let cut = cut_position(&storage, "i", len, 20_005).unwrap();
        assert_eq!(cut, 2000 * ENTRY_BYTES as u64);
        assert_eq!(cut_position(&storage, "i", len, i64::MAX).unwrap(), len);
        assert_eq!(
            reconcile(&mut storage, "i", true, &entries).unwrap(),
            Reconciled::Kept
        );
    }

    #[test]
    fn a_torn_or_wrong_file_is_rewritten_and_an_empty_one_stays_empty() {
        let mut storage = MemoryStorage::new();
        let entries = vec![txn(1, 0, 3), txn(2, 1, 7)];
        storage.append("i", &encode(&entries[0])).unwrap();
        storage.append("i", &encode(&entries[1])[..20]).unwrap();
        assert!(matches!(
            reconcile(&mut storage, "i", true, &entries).unwrap(),
            Reconciled::Rebuilt(_)
        ));
        assert_eq!(storage.len("i").unwrap(), 2 * ENTRY_BYTES as u64);
        let mut other = entries.clone();
        other[1].producer_id = 9;
        assert!(matches!(
            reconcile(&mut storage, "i", true, &other).unwrap(),
            Reconciled::Rebuilt(_)
        ));
        let mut out = Vec::new();
        collect(&storage, "i", 68, 0, i64::MAX, &mut out).unwrap();
        assert_eq!(out, other);
        assert!(matches!(
            reconcile(&mut storage, "i", true, &[]).unwrap(),
            Reconciled::Rebuilt(_)
        ));
        assert_eq!(storage.len("i").unwrap(), 0);
        assert_eq!(
            reconcile(&mut storage, "i", true, &[]).unwrap(),
            Reconciled::Kept
        );
        let mut copy_to = MemoryStorage::new();
        copy_to.append("a", &encode(&entries[0])).unwrap();
        copy(&mut copy_to, "a", 34, "b").unwrap();
        copy(&mut copy_to, "a", 34, "b").unwrap();
        assert_eq!(copy_to.len("b").unwrap(), 68);
    }
}
