//! What replication needs from the log beyond appends and reads: the leader epochs written
//! into its batches (to rebuild a leader-epoch cache on open, KIP-101), and starting over at
//! an offset a follower cannot reach by fetching (the leader's log start moved past its end).

use super::Log;
use super::segment::header_at;
use crate::producer_state::ProducerStateTable;
use crate::storage::{Storage, StorageError};

/// Where a leader epoch begins in the log: the first batch stamped with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochStart {
    pub epoch: i32,
    pub start_offset: i64,
}

impl<S: Storage> Log<S> {
    /// Every change of partition leader epoch along the log, in offset order: one entry per
    /// batch whose epoch differs from the batch before it. Batches with no epoch (-1, from
    /// before epochs existed) start nothing. Only batch headers are read.
    pub fn epoch_starts(&self) -> Result<Vec<EpochStart>, StorageError> {
        self.ensure_healthy()?;
        let mut starts: Vec<EpochStart> = Vec::new();
        for segment in &self.segments {
            let file = segment.log_file();
            let mut position = 0;
            while position < segment.size_bytes {
                let header = header_at(&self.storage, &file, position)?;
                let epoch = header.partition_leader_epoch;
                if epoch >= 0 && starts.last().is_none_or(|last| last.epoch != epoch) {
                    starts.push(EpochStart {
                        epoch,
                        start_offset: header.base_offset,
                    });
                }
                position += header.size_bytes() as u64;
            }
        }
        Ok(starts)
    }

    /// Empties the log and continues it at `offset`, which may be beyond the log end (Kafka's
    /// `truncateFullyAndStartAt`): a follower whose log ends below the leader's log start can
    /// never fetch the missing offsets, so it starts where the leader's log does.
    pub fn truncate_fully_and_start_at(&mut self, offset: i64) -> Result<(), StorageError> {
        self.ensure_healthy()?;
        assert!(offset >= 0, "a log cannot start at a negative offset");
        self.restart_at(offset)?;
        self.flushed_offset = self.log_end_offset;
        self.producers = ProducerStateTable::new();
        self.txns = super::txn::Unreplicated::default();
        self.assert_invariants();
        Ok(())
    }
}
