//! One segment: a `.log` file of batches named by its base offset, with its sparse indexes
//! and the summary (offsets, size, timestamps) the log decides rolling and retention by.

use super::index::{OFFSET_ENTRY_BYTES, OffsetIndex, TIME_ENTRY_BYTES, TimeIndex};
use crate::batch::{BatchHeader, BatchSummary, HEADER_BYTES, validate_stored_batch};
use crate::storage::{Storage, StorageError};

pub(super) const LOG_SUFFIX: &str = ".log";
pub(super) const INDEX_SUFFIX: &str = ".index";
pub(super) const TIME_INDEX_SUFFIX: &str = ".timeindex";
/// The aborted-transactions index (`txn_index`), created with its first entry.
pub(super) const TXN_INDEX_SUFFIX: &str = ".txnindex";

/// Kafka's file name: the base offset as 20 digits, then the suffix.
pub(super) fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}{suffix}")
}

/// The base offset and suffix of a segment file name, if it is one.
pub(super) fn parse_file_name(name: &str) -> Option<(i64, &'static str)> {
    [
        LOG_SUFFIX,
        INDEX_SUFFIX,
        TIME_INDEX_SUFFIX,
        TXN_INDEX_SUFFIX,
    ]
    .into_iter()
    .find_map(|suffix| {
        let digits = name.strip_suffix(suffix)?;
        let valid = digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| digits.parse().ok().map(|base| (base, suffix)))?
    })
}

/// Index entries to append to the `.index` and `.timeindex` files after a batch.
#[derive(Default)]
pub(super) struct IndexEntries {
    pub offset: Option<[u8; OFFSET_ENTRY_BYTES]>,
    pub time: Option<[u8; TIME_ENTRY_BYTES]>,
}

/// Where and why a segment's contents stop being valid batches.
pub(super) struct BadTail {
    pub position: u64,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub(super) struct Segment {
    pub base_offset: i64,
    pub size_bytes: u64,
    /// The offset after the segment's last batch; the base offset while it is empty.
    pub next_offset: i64,
    /// Max timestamp of the first batch: `segment.ms` counts from it, as in Kafka, so the
    /// decision survives a restart.
    pub rolling_timestamp: Option<i64>,
    /// Largest record timestamp, -1 while empty; `retention.ms` is measured from it.
    pub max_timestamp: i64,
    pub offset_of_max_timestamp: i64,
    pub offset_index: OffsetIndex,
    pub time_index: TimeIndex,
    /// The length of the `.txnindex` file (whole entries the log wrote); 0 when the segment
    /// holds no abort marker, and then the file may not exist.
    pub txn_index_bytes: u64,
    bytes_since_index_entry: u64,
    /// Index entries not yet written to the `.index` / `.timeindex` files: they are written at
    /// the next flush, one write per file instead of one per batch (the files are rebuilt from
    /// the `.log` on open, so losing these in a crash costs nothing).
    unwritten_index: Vec<u8>,
    unwritten_time_index: Vec<u8>,
}

impl Segment {
    pub fn new(base_offset: i64) -> Segment {
        Segment {
            base_offset,
            size_bytes: 0,
            next_offset: base_offset,
            rolling_timestamp: None,
            max_timestamp: -1,
            offset_of_max_timestamp: -1,
            offset_index: OffsetIndex::default(),
            time_index: TimeIndex::default(),
            txn_index_bytes: 0,
            bytes_since_index_entry: 0,
            unwritten_index: Vec::new(),
            unwritten_time_index: Vec::new(),
        }
    }

    /// Keeps index entries of an appended batch until [`Segment::take_unwritten`].
    pub fn defer(&mut self, entries: &IndexEntries) {
        if let Some(entry) = entries.offset {
            self.unwritten_index.extend_from_slice(&entry);
        }
        if let Some(entry) = entries.time {
            self.unwritten_time_index.extend_from_slice(&entry);
        }
    }

    /// The index bytes to append to each index file, emptying the buffers.
    pub fn take_unwritten(&mut self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        if !self.unwritten_index.is_empty() {
            out.push((self.index_file(), std::mem::take(&mut self.unwritten_index)));
        }
        if !self.unwritten_time_index.is_empty() {
            out.push((
                self.time_index_file(),
                std::mem::take(&mut self.unwritten_time_index),
            ));
        }
        out
    }

    pub fn log_file(&self) -> String {
        file_name(self.base_offset, LOG_SUFFIX)
    }

    pub fn index_file(&self) -> String {
        file_name(self.base_offset, INDEX_SUFFIX)
    }

    pub fn time_index_file(&self) -> String {
        file_name(self.base_offset, TIME_INDEX_SUFFIX)
    }

    pub fn txn_index_file(&self) -> String {
        file_name(self.base_offset, TXN_INDEX_SUFFIX)
    }

    /// The files created with the segment.
    pub fn created_files(&self) -> [String; 3] {
        [self.log_file(), self.index_file(), self.time_index_file()]
    }

    /// Every file the segment may have (the `.txnindex` only once it has an entry).
    pub fn files(&self) -> [String; 4] {
        [
            self.log_file(),
            self.index_file(),
            self.time_index_file(),
            self.txn_index_file(),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.size_bytes == 0
    }

    /// The offset of a batch relative to the base, as the indexes store it. Rolling keeps it
    /// within u32 (see `Log::needs_roll`).
    pub fn relative(&self, offset: i64) -> u32 {
        let relative = offset - self.base_offset;
        assert!(
            (0..=i64::from(u32::MAX)).contains(&relative),
            "offset {offset} outside segment {}",
            self.base_offset
        );
        relative as u32
    }

    /// Accounts for a batch just appended at the end of the `.log` file; returns the index
    /// entries to append to the index files.
    pub fn track(&mut self, summary: &BatchSummary, index_interval_bytes: u64) -> IndexEntries {
        let header = &summary.header;
        assert!(
            header.base_offset >= self.next_offset,
            "offsets never go backwards in a segment"
        );
        let relative = self.relative(header.base_offset);
        if header.max_timestamp > self.max_timestamp {
            self.max_timestamp = header.max_timestamp;
            self.offset_of_max_timestamp =
                header.base_offset + i64::from(summary.max_timestamp_offset_delta);
        }
        let mut entries = IndexEntries::default();
        if self.bytes_since_index_entry >= index_interval_bytes && !self.is_empty() {
            entries.offset = Some(self.offset_index.push(relative, self.size_bytes as u32));
            entries.time = self.time_index.maybe_push(self.max_timestamp, relative);
            self.bytes_since_index_entry = 0;
        }
        let size = header.size_bytes() as u64;
        self.bytes_since_index_entry += size;
        self.size_bytes += size;
        self.next_offset = header.next_offset();
        self.rolling_timestamp.get_or_insert(header.max_timestamp);
        entries
    }

    /// Rebuilds a segment from its `.log` file, validating every batch. Stops at the first
    /// batch that is torn, corrupt, or goes backwards (offsets below `min_offset`), and
    /// reports where; the caller cuts the file there. `on_batch` sees each valid header with
    /// the whole batch's bytes.
    pub fn load(
        storage: &impl Storage,
        base_offset: i64,
        min_offset: i64,
        index_interval_bytes: u64,
        mut on_batch: impl FnMut(&BatchHeader, &[u8]),
    ) -> Result<(Segment, Option<BadTail>), StorageError> {
        let mut segment = Segment::new(base_offset);
        let file = segment.log_file();
        let len = storage.len(&file)?;
        let mut min_offset = min_offset.max(base_offset);
        while segment.size_bytes < len {
            let position = segment.size_bytes;
            let bad = |reason: String| Ok((segment.clone(), Some(BadTail { position, reason })));
            let head = storage.read(&file, position, HEADER_BYTES)?;
            let header = match BatchHeader::parse(&head) {
                Ok(header) => header,
                Err(err) => return bad(err.to_string()),
            };
            let size = header.size_bytes();
            if position + size as u64 > len {
                return bad(format!(
                    "torn batch: {size} bytes declared, {} present",
                    len - position
                ));
            }
            let bytes = storage.read(&file, position, size)?;
            let summary = match validate_stored_batch(&bytes) {
                Ok(summary) => summary,
                Err(err) => return bad(err.to_string()),
            };
            if header.base_offset < min_offset {
                return bad(format!(
                    "offset {} after {min_offset}: offsets go backwards",
                    header.base_offset
                ));
            }
            if header.last_offset() - base_offset > i64::from(u32::MAX) {
                return bad(format!(
                    "offset {} too far from segment base",
                    header.last_offset()
                ));
            }
            segment.track(&summary, index_interval_bytes);
            on_batch(&summary.header, &bytes);
            min_offset = header.next_offset();
        }
        Ok((segment, None))
    }
}

/// Reads the header of the batch at `position` of a file the log wrote and validated. A
/// failure here means the storage changed under the log: reported as a storage error.
pub(super) fn header_at(
    storage: &impl Storage,
    file: &str,
    position: u64,
) -> Result<BatchHeader, StorageError> {
    let head = storage.read(file, position, HEADER_BYTES)?;
    BatchHeader::parse(&head).map_err(|err| StorageError::Io {
        file: file.to_string(),
        reason: format!("corrupt batch at position {position}: {err}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_twenty_digit_base_offsets() {
        assert_eq!(file_name(0, LOG_SUFFIX), "00000000000000000000.log");
        assert_eq!(
            file_name(1234, TIME_INDEX_SUFFIX),
            "00000000000000001234.timeindex"
        );
        let check = |name: &str, expect: Option<(i64, &str)>| {
            assert_eq!(parse_file_name(name), expect, "{name}")
        };
        check("00000000000000001234.index", Some((1234, INDEX_SUFFIX)));
        check(
            "00000000000000001234.txnindex",
            Some((1234, TXN_INDEX_SUFFIX)),
        );
        check("00000000000000000000.log", Some((0, LOG_SUFFIX)));
        check("1234.log", None);
        check("0000000000000000123x.log", None);
        check("00000000000000001234.snapshot", None);
    }
}
