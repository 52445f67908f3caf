//! Reads: whole batches from an offset (Fetch), and the lookups ListOffsets needs.

use super::segment::header_at;
use super::{Log, ReadError};
use crate::batch::{BatchHeader, Compression, decode_records};
use crate::storage::{Storage, StorageError};

/// Batches read from the log, as a Fetch response carries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadResult {
    /// Whole batches, exactly as stored. The first one contains the requested offset, so it
    /// may start before it; the consumer skips the records it did not ask for.
    pub records: Vec<u8>,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
}

/// An answer to a ListOffsets lookup: a record's offset and timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampOffset {
    pub offset: i64,
    pub timestamp: i64,
}

impl<S: Storage> Log<S> {
    /// Whole batches from the one containing `offset`, up to `max_bytes` but always at least
    /// one batch, however large (Kafka's rule, so a consumer can always make progress).
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<ReadResult, ReadError> {
        self.read_bounded(offset, max_bytes, self.log_end_offset)
    }

    /// As [`Log::read`], but only batches that end below `end_offset` (the high watermark for
    /// consumers; the log end for followers). A read stops at the end of a segment, unless
    /// every batch it got there is empty: then it goes on into the next segments until it has
    /// a batch with records. The log cleaner leaves segments of empty batches behind (headers
    /// kept for producer state and segment ends), and a consumer answered with nothing to
    /// deliver takes it for a message too large to fetch (librdkafka fails with
    /// MSG_SIZE_TOO_LARGE after ten such answers).
    pub fn read_bounded(
        &self,
        offset: i64,
        max_bytes: usize,
        end_offset: i64,
    ) -> Result<ReadResult, ReadError> {
        self.ensure_healthy()?;
        self.check_in_range(offset)?;
        let mut records = Vec::new();
        let Some((first, start)) = self.locate(offset)? else {
            return Ok(self.read_result(records));
        };
        let mut has_records = false;
        let mut stopped = false;
        let mut start = start;
        for segment in &self.segments[first..] {
            if stopped || has_records {
                break;
            }
            let file = segment.log_file();
            let mut end = start;
            while end < segment.size_bytes {
                let header = header_at(&self.storage, &file, end)?;
                debug_assert!(header.base_offset >= segment.base_offset);
                let size = header.size_bytes() as u64;
                let read = records.len() as u64 + end - start;
                let over_budget = read > 0 && read + size > max_bytes as u64;
                if header.last_offset() >= end_offset || over_budget {
                    stopped = true;
                    break;
                }
                has_records |= header.record_count > 0;
                end += size;
            }
            let bytes = self.storage.read(&file, start, (end - start) as usize)?;
            assert_eq!(
                bytes.len() as u64,
                end - start,
                "storage returned fewer bytes than the log wrote"
            );
            records.extend_from_slice(&bytes);
            start = 0;
        }
        Ok(self.read_result(records))
    }

    fn read_result(&self, records: Vec<u8>) -> ReadResult {
        ReadResult {
            records,
            log_start_offset: self.log_start_offset,
            log_end_offset: self.log_end_offset,
        }
    }

    fn check_in_range(&self, offset: i64) -> Result<(), ReadError> {
        if offset < self.log_start_offset || offset > self.log_end_offset {
            return Err(ReadError::OffsetOutOfRange {
                offset,
                log_start_offset: self.log_start_offset,
                log_end_offset: self.log_end_offset,
            });
        }
        Ok(())
    }

    /// The index of the segment and the byte position of the batch containing `offset` (or
    /// the first batch after it); `None` at the log end.
    fn locate(&self, offset: i64) -> Result<Option<(usize, u64)>, StorageError> {
        let first = self
            .segments
            .partition_point(|segment| segment.base_offset <= offset)
            .saturating_sub(1);
        for (index, segment) in self.segments.iter().enumerate().skip(first) {
            if segment.next_offset <= offset {
                continue;
            }
            let file = segment.log_file();
            let relative = segment.relative(offset.max(segment.base_offset));
            let mut position = u64::from(segment.offset_index.position_before(relative));
            while position < segment.size_bytes {
                let header = header_at(&self.storage, &file, position)?;
                if header.next_offset() > offset {
                    return Ok(Some((index, position)));
                }
                position += header.size_bytes() as u64;
            }
        }
        assert!(
            offset >= self.log_end_offset,
            "no batch holds offset {offset} below the log end"
        );
        Ok(None)
    }

    /// ListOffsets by timestamp: the first record at or after the log start whose timestamp
    /// is at least `timestamp`; `None` if every record is older.
    ///
    /// Records of an uncompressed batch are examined one by one; a compressed batch is not
    /// opened (the core carries no codecs), so it answers with the batch's first offset and
    /// max timestamp.
    pub fn offset_for_timestamp(
        &self,
        timestamp: i64,
    ) -> Result<Option<TimestampOffset>, ReadError> {
        self.ensure_healthy()?;
        for segment in &self.segments {
            if segment.max_timestamp < timestamp || segment.next_offset <= self.log_start_offset {
                continue;
            }
            let file = segment.log_file();
            let from = segment.time_index.offset_before(timestamp);
            let mut position = u64::from(segment.offset_index.position_before(from));
            while position < segment.size_bytes {
                let header = header_at(&self.storage, &file, position)?;
                let candidate = header.max_timestamp >= timestamp
                    && header.next_offset() > self.log_start_offset;
                if candidate
                    && let Some(found) =
                        self.first_record_at_or_after(&file, position, &header, timestamp)?
                {
                    return Ok(Some(found));
                }
                position += header.size_bytes() as u64;
            }
        }
        Ok(None)
    }

    fn first_record_at_or_after(
        &self,
        file: &str,
        position: u64,
        header: &BatchHeader,
        timestamp: i64,
    ) -> Result<Option<TimestampOffset>, StorageError> {
        let compressed = header.compression() != Ok(Compression::None);
        if compressed {
            let offset = header.base_offset.max(self.log_start_offset);
            return Ok(Some(TimestampOffset {
                offset,
                timestamp: header.max_timestamp,
            }));
        }
        let bytes = self.storage.read(file, position, header.size_bytes())?;
        let records = decode_records(&bytes).map_err(|err| StorageError::Io {
            file: file.to_string(),
            reason: format!("corrupt batch at position {position}: {err}"),
        })?;
        Ok(records
            .iter()
            .find(|record| record.timestamp >= timestamp && record.offset >= self.log_start_offset)
            .map(|record| TimestampOffset {
                offset: record.offset,
                timestamp: record.timestamp,
            }))
    }

    /// ListOffsets MAX_TIMESTAMP (KIP-734): the record with the largest timestamp, the
    /// earliest one if several share it; `None` for an empty log.
    pub fn max_timestamp(&self) -> Option<TimestampOffset> {
        self.segments
            .iter()
            .filter(|segment| !segment.is_empty() && segment.next_offset > self.log_start_offset)
            .fold(None, |best: Option<TimestampOffset>, segment| match best {
                Some(best) if best.timestamp >= segment.max_timestamp => Some(best),
                _ => Some(TimestampOffset {
                    offset: segment.offset_of_max_timestamp.max(self.log_start_offset),
                    timestamp: segment.max_timestamp,
                }),
            })
    }
}
