//! Replacing segments with their cleaned copy, crash-safe through the [`Storage`] trait, and
//! finishing or discarding what a crash left behind (Kafka's `.cleaned` and `.swap` files,
//! `LogLoader`'s handling of them).
//!
//! A group of segments starting at base offset B is cleaned into `B.log.cleaned`. When it is
//! complete it is synced and renamed to `B.log.swap`: that rename is the commit point. Then
//! the old segments' files are deleted and `B.log.swap` is renamed to `B.log`. A crash before
//! the commit leaves a `.cleaned` file, which recovery deletes (the old segments are intact);
//! a crash after it leaves a `.swap` file, which recovery installs, deleting every old segment
//! it covers. The cleaned copy always ends at the same offset as the group it replaces (the
//! cleaner keeps the group's last batch), so "covers" is exact: the old segments whose base
//! offsets fall in `[B, end of the swap file)`.
//!
//! The group's aborted-transactions indexes are merged (markers are always kept whole, so the
//! cleaned segment holds every abort marker they record) into `B.txnindex.cleaned` before the
//! commit and renamed to `B.txnindex` after it; recovery deletes a leftover one and rebuilds
//! the index of an installed swap from its batches, as for every segment.

use super::super::segment::{
    INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, file_name, header_at,
    parse_file_name,
};
use crate::batch::validate_stored_batch;
use crate::storage::{Storage, StorageError};

pub(in crate::log) const CLEANED_SUFFIX: &str = ".log.cleaned";
pub(in crate::log) const SWAP_SUFFIX: &str = ".log.swap";
/// The merged aborted-transactions index of a group, until its swap is done.
const TXN_INDEX_CLEANED_SUFFIX: &str = ".txnindex.cleaned";

/// The file a group starting at `base_offset` is cleaned into.
pub(in crate::log) fn cleaned_file(base_offset: i64) -> String {
    file_name(base_offset, CLEANED_SUFFIX)
}

/// The merged aborted-transactions index of the group starting at `base_offset`.
pub(in crate::log) fn cleaned_txn_index_file(base_offset: i64) -> String {
    file_name(base_offset, TXN_INDEX_CLEANED_SUFFIX)
}

fn swap_file(base_offset: i64) -> String {
    file_name(base_offset, SWAP_SUFFIX)
}

/// The base offset of a `.log.cleaned`, `.txnindex.cleaned` or `.log.swap` file name, with
/// its suffix.
fn parse_temporary(name: &str) -> Option<(i64, &'static str)> {
    [CLEANED_SUFFIX, TXN_INDEX_CLEANED_SUFFIX, SWAP_SUFFIX]
        .into_iter()
        .find_map(|suffix| {
            let digits = name.strip_suffix(suffix)?;
            let valid = digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit());
            valid.then(|| digits.parse().ok().map(|base| (base, suffix)))?
        })
}

/// Installs the synced `B.log.cleaned` in place of the segments `replaced` (base offsets, B
/// first): commit by rename to `.swap`, delete the old files, rename to `B.log`.
pub(in crate::log) fn swap_in(
    storage: &mut impl Storage,
    replaced: &[i64],
) -> Result<(), StorageError> {
    let base = replaced[0];
    storage.rename(&cleaned_file(base), &swap_file(base))?;
    let existing = storage.list()?;
    for &old in replaced {
        for suffix in [
            LOG_SUFFIX,
            INDEX_SUFFIX,
            TIME_INDEX_SUFFIX,
            TXN_INDEX_SUFFIX,
        ] {
            let file = file_name(old, suffix);
            if existing.contains(&file) {
                storage.delete(&file)?;
            }
        }
    }
    storage.rename(&swap_file(base), &file_name(base, LOG_SUFFIX))
}

/// What recovery did with the cleaner's leftovers, for the recovery report.
#[derive(Default)]
pub(in crate::log) struct Leftovers {
    pub deleted_files: Vec<String>,
    pub installed_swaps: Vec<String>,
}

/// Run first when a log opens: deletes unfinished `.cleaned` files (of a segment or of its
/// aborted-transactions index), and finishes every
/// committed swap (deleting the old segments it covers, then renaming it to `.log`). A swap
/// file that does not validate (only a damaged disk does that: it was synced before the
/// commit) is deleted, leaving the old segments, or what remains of them, to recovery.
pub(in crate::log) fn recover(storage: &mut impl Storage) -> Result<Leftovers, StorageError> {
    let mut done = Leftovers::default();
    for name in storage.list()? {
        match parse_temporary(&name) {
            Some((_, CLEANED_SUFFIX | TXN_INDEX_CLEANED_SUFFIX)) => {
                storage.delete(&name)?;
                done.deleted_files.push(name);
            }
            Some((base, _)) => match end_offset(storage, &name)? {
                Some(end) => {
                    for file in storage.list()? {
                        let covered = parse_file_name(&file)
                            .is_some_and(|(old, _)| (base..end).contains(&old));
                        if covered {
                            storage.delete(&file)?;
                            done.deleted_files.push(file);
                        }
                    }
                    storage.rename(&name, &file_name(base, LOG_SUFFIX))?;
                    done.installed_swaps.push(name);
                }
                None => {
                    storage.delete(&name)?;
                    done.deleted_files.push(name);
                }
            },
            None => {}
        }
    }
    Ok(done)
}

/// The offset after the last batch of a swap file, `None` if any batch is invalid or there
/// is none.
fn end_offset(storage: &impl Storage, file: &str) -> Result<Option<i64>, StorageError> {
    let len = storage.len(file)?;
    let mut position = 0;
    let mut end = None;
    while position < len {
        let Ok(header) = header_at(storage, file, position) else {
            return Ok(None);
        };
        let size = header.size_bytes();
        if validate_stored_batch(&storage.read(file, position, size)?).is_err() {
            return Ok(None);
        }
        end = Some(header.next_offset());
        position += size as u64;
    }
    Ok(end)
}
