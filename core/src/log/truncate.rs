//! Truncation of the log's end, for a follower whose tail diverged from the new leader's.

use super::Log;
use super::checkpoint;
use super::segment::{Segment, header_at};
use super::txn_index;
use crate::producer_state::ProducerStateTable;
use crate::storage::{Storage, StorageError};

impl<S: Storage> Log<S> {
    /// Removes every batch containing an offset at or above `offset`; returns the new log end.
    ///
    /// Truncation is by whole batch, as in Kafka: if `offset` falls inside a batch, that batch
    /// goes too and the log ends at its base offset. Below the log start, the log is emptied
    /// and restarts at `offset`. Producer state is rebuilt from the remaining batches; the
    /// aborted-transactions index of the segment cut keeps only the aborts whose marker
    /// remains (Kafka's `TransactionIndex.truncateTo`), later segments' go with them.
    pub fn truncate_to(&mut self, offset: i64) -> Result<i64, StorageError> {
        self.ensure_healthy()?;
        if offset >= self.log_end_offset {
            return Ok(self.log_end_offset);
        }
        self.abort_cleaning()?;
        if offset < self.log_start_offset {
            self.restart_at(offset)?;
        } else {
            self.truncate_tail(offset)?;
        }
        self.flushed_offset = self.flushed_offset.min(self.log_end_offset);
        // What comes next at the truncated offsets is dirty (Kafka's
        // `LogCleanerManager.maybeTruncateCheckpoint`).
        self.lower_cleaner_checkpoint(self.log_end_offset)?;
        self.rebuild_producer_state()?;
        self.assert_invariants();
        Ok(self.log_end_offset)
    }

    /// Empties the log and starts it over at `offset` (Kafka's `truncateFullyAndStartAt`).
    pub(super) fn restart_at(&mut self, offset: i64) -> Result<(), StorageError> {
        assert!(offset >= 0);
        self.abort_cleaning()?;
        let written = checkpoint::write(&mut self.storage, offset);
        self.guard(written)?;
        for segment in std::mem::take(&mut self.segments) {
            self.delete_segment_files(&segment)?;
        }
        let segment = self.create_segment(offset)?;
        self.segments.push(segment);
        self.log_start_offset = offset;
        self.log_end_offset = offset;
        Ok(())
    }

    fn truncate_tail(&mut self, offset: i64) -> Result<(), StorageError> {
        // Segments starting at or after the offset go entirely, except the first one, which
        // is emptied instead so the log keeps a segment.
        let keep = self
            .segments
            .partition_point(|s| s.base_offset < offset)
            .max(1);
        for segment in self.segments.split_off(keep) {
            self.delete_segment_files(&segment)?;
        }
        let last = self.segments.last().expect("kept one segment").clone();
        let file = last.log_file();
        let mut position = u64::from(
            last.offset_index
                .position_before(last.relative(offset.max(last.base_offset))),
        );
        while position < last.size_bytes {
            let header = header_at(&self.storage, &file, position)?;
            if header.next_offset() > offset {
                break;
            }
            position += header.size_bytes() as u64;
        }
        let truncated = self.storage.truncate(&file, position);
        self.guard(truncated)?;
        let interval = self.config.index_interval_bytes;
        let (mut segment, bad) = Segment::load(
            &self.storage,
            last.base_offset,
            last.base_offset,
            interval,
            |_, _| {},
        )?;
        assert!(bad.is_none(), "a segment the log wrote reloads cleanly");
        self.rewrite_indexes(&segment)?;
        let txn_file = segment.txn_index_file();
        let cut = txn_index::cut_position(
            &self.storage,
            &txn_file,
            last.txn_index_bytes,
            segment.next_offset,
        )?;
        if cut < last.txn_index_bytes {
            let truncated = self.storage.truncate(&txn_file, cut);
            self.guard(truncated)?;
        }
        segment.txn_index_bytes = cut;
        self.log_end_offset = segment.next_offset;
        *self.segments.last_mut().expect("kept one segment") = segment;
        if self.log_end_offset < self.log_start_offset {
            // The batch holding the offset began below a DeleteRecords log start: the start
            // comes back to the new end, with nothing readable below it.
            let written = checkpoint::write(&mut self.storage, self.log_end_offset);
            self.guard(written)?;
            self.log_start_offset = self.log_end_offset;
        }
        Ok(())
    }

    /// Replaces a segment's index files with its in-memory indexes.
    pub(super) fn rewrite_indexes(&mut self, segment: &Segment) -> Result<(), StorageError> {
        let existing = self.storage.list()?;
        let files = [
            (segment.index_file(), segment.offset_index.encode()),
            (segment.time_index_file(), segment.time_index.encode()),
        ];
        for (file, bytes) in files {
            if existing.contains(&file) {
                let truncated = self.storage.truncate(&file, 0);
                self.guard(truncated)?;
            }
            let written = self.storage.append(&file, &bytes);
            self.guard(written)?;
            self.unflushed_files.insert(file);
        }
        Ok(())
    }

    /// Replays every batch header still in the log into a fresh producer state table and
    /// list of transactions not yet replicated (the aborted-transactions indexes are cut
    /// apart, in `truncate_tail`).
    fn rebuild_producer_state(&mut self) -> Result<(), StorageError> {
        let mut producers = ProducerStateTable::new();
        let mut txns = super::txn::Unreplicated::default();
        for segment in &self.segments {
            let file = segment.log_file();
            let mut position = 0;
            while position < segment.size_bytes {
                let header = header_at(&self.storage, &file, position)?;
                // Only a control batch's record (its marker) matters beyond the header.
                let bytes = if header.is_control() {
                    self.storage.read(&file, position, header.size_bytes())?
                } else {
                    Vec::new()
                };
                // The aborts are in the indexes already.
                let _ = txns.track(&mut producers, &header, &bytes);
                position += header.size_bytes() as u64;
            }
        }
        producers.remove_before(self.log_start_offset);
        txns.remove_before(self.log_start_offset);
        self.producers = producers;
        self.txns = txns;
        Ok(())
    }
}
