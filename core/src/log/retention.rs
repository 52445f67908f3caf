//! Retention (`retention.ms`, `retention.bytes`) and DeleteRecords: both move the log start
//! offset forward and delete whole segments that fall below it.

use super::checkpoint;
use super::{DeleteRecordsError, Log};
use crate::Millis;
use crate::storage::{Storage, StorageError};

/// What a retention run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Base offsets of the deleted segments.
    pub deleted_segments: Vec<i64>,
    pub log_start_offset: i64,
}

impl<S: Storage> Log<S> {
    /// One retention run (the server calls it every `log.retention.check.interval.ms`).
    ///
    /// Deletes, oldest first, the segments whose newest record is older than `retention_ms`,
    /// those not needed to keep the log within `retention_bytes` (never the active one, as
    /// Kafka), and those wholly below the log start offset. If the active segment expires
    /// too, a new empty one is rolled at the log end first, so offsets continue.
    ///
    /// Time and size apply only when `cleanup.policy` contains `delete`: a compact-only log
    /// loses segments only below a log start that DeleteRecords moved, as in Kafka.
    pub fn apply_retention(&mut self, now: Millis) -> Result<RetentionReport, StorageError> {
        self.ensure_healthy()?;
        let delete = self.config.delete;
        let by_time = match self.config.retention_ms.filter(|_| delete) {
            Some(retention) => self
                .segments
                .iter()
                .take_while(|s| {
                    !s.is_empty()
                        && (now.0 as i64).saturating_sub(s.max_timestamp) > retention.0 as i64
                })
                .count(),
            None => 0,
        };
        let by_size = match self.config.retention_bytes.filter(|_| delete) {
            Some(retention) => {
                let mut excess = self.size_bytes().saturating_sub(retention);
                let inactive = &self.segments[..self.segments.len() - 1];
                inactive
                    .iter()
                    .take_while(|s| {
                        let deletable = s.size_bytes <= excess;
                        excess = excess.saturating_sub(s.size_bytes);
                        deletable
                    })
                    .count()
            }
            None => 0,
        };
        let inactive = &self.segments[..self.segments.len() - 1];
        let by_start = inactive
            .iter()
            .take_while(|s| s.next_offset <= self.log_start_offset)
            .count();
        let count = by_time.max(by_size).max(by_start);
        if count == 0 {
            return Ok(RetentionReport {
                deleted_segments: Vec::new(),
                log_start_offset: self.log_start_offset,
            });
        }
        if count == self.segments.len() {
            self.roll(self.log_end_offset)?;
        }
        let deleted = self.delete_oldest_segments(count)?;
        Ok(RetentionReport {
            deleted_segments: deleted,
            log_start_offset: self.log_start_offset,
        })
    }

    /// DeleteRecords: makes `offset` the new log start, so every record below it is gone for
    /// readers at once, and deletes the segments wholly below it. Returns the new log start
    /// (the low watermark in the response). Moving the start backwards is a no-op.
    pub fn delete_records_before(&mut self, offset: i64) -> Result<i64, DeleteRecordsError> {
        self.ensure_healthy()?;
        if offset > self.log_end_offset || offset < 0 {
            return Err(DeleteRecordsError::OffsetOutOfRange {
                offset,
                log_end_offset: self.log_end_offset,
            });
        }
        if offset <= self.log_start_offset {
            return Ok(self.log_start_offset);
        }
        self.set_log_start_offset(offset)?;
        let inactive = &self.segments[..self.segments.len() - 1];
        let below = inactive
            .iter()
            .take_while(|s| s.next_offset <= offset)
            .count();
        self.delete_oldest_segments(below)?;
        Ok(self.log_start_offset)
    }

    /// Deletes the first `count` segments (not all: the active one stays) and moves the log
    /// start to the first remaining one if it was below.
    fn delete_oldest_segments(&mut self, count: usize) -> Result<Vec<i64>, StorageError> {
        assert!(
            count < self.segments.len(),
            "the active segment is never deleted"
        );
        if count > 0 {
            // A cleaning round holds segments by base offset: start it over later.
            self.abort_cleaning()?;
        }
        let new_start = self.segments[count].base_offset.max(self.log_start_offset);
        if new_start > self.log_start_offset {
            self.set_log_start_offset(new_start)?;
        }
        let deleted: Vec<_> = self.segments.drain(..count).collect();
        for segment in &deleted {
            self.delete_segment_files(segment)?;
        }
        self.assert_invariants();
        Ok(deleted.iter().map(|segment| segment.base_offset).collect())
    }

    /// Checkpoints the new log start durably before anything is deleted, so a crash in
    /// between never brings deleted records back to readers.
    fn set_log_start_offset(&mut self, offset: i64) -> Result<(), StorageError> {
        assert!(
            offset >= self.log_start_offset,
            "the log start only moves forward here"
        );
        let written = checkpoint::write(&mut self.storage, offset);
        self.guard(written)?;
        self.log_start_offset = offset;
        self.producers.remove_before(offset);
        self.txns.remove_before(offset);
        Ok(())
    }
}
