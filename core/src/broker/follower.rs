//! The follower's side of one partition: first find where its log stops agreeing with the new
//! leader's and cut it there (KIP-101, with KIP-279's repeated rounds), then copy the leader's
//! batches as they are.
//!
//! Truncation uses a separate OffsetForLeaderEpoch round trip, not Fetch v12's diverging-epoch
//! field: the step is visible on its own (the playground shows it), and a follower never
//! fetches while its tail may diverge. Whenever the leader or its epoch changes the follower
//! goes back to [`FollowerPhase::Truncating`]. It asks the leader where the follower's latest
//! epoch ends; the leader answers with the newest epoch it knows at or below that one and that
//! epoch's end. If the follower knows that epoch too, it cuts at the smaller of the two ends
//! and starts fetching; if not, it cuts at its own end of the epoch below and asks again.
//! Every round forgets at least one epoch, so the rounds end.

use crate::ErrorCode;
use crate::Millis;
use crate::batch::BatchHeader;
use crate::controller::BrokerId;
use crate::storage::{Storage, StorageError};

use super::epoch_cache::{UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET};
use super::fetch::FetchedPartition;
use super::offset_for_leader_epoch::EpochEndOffset;
use super::partition::Partition;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowerPhase {
    /// Asking the leader where the follower's last epoch ends, before fetching anything.
    Truncating,
    /// Fetching from the log end.
    Fetching,
}

/// What a follower does next for one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FollowerFetch {
    pub leader: BrokerId,
    pub leader_epoch: i32,
    pub phase: FollowerPhase,
    /// After an error, no request before this.
    pub backoff_until: Option<Millis>,
}

impl FollowerFetch {
    pub fn new(leader: BrokerId, leader_epoch: i32) -> FollowerFetch {
        FollowerFetch {
            leader,
            leader_epoch,
            phase: FollowerPhase::Truncating,
            backoff_until: None,
        }
    }

    pub fn ready(&self, now: Millis) -> bool {
        self.backoff_until.is_none_or(|until| now >= until)
    }
}

impl<S: Storage> Partition<S> {
    /// Cuts the log at `offset` (by whole batches) and forgets the epochs that began there or
    /// later; the high watermark comes down with the log end if it has to.
    pub(super) fn truncate_to(&mut self, offset: i64) -> Result<(), StorageError> {
        assert!(!self.is_leader(), "a leader never truncates its own log");
        self.log.truncate_to(offset.max(0))?;
        let end = self.log.log_end_offset();
        self.epochs.truncate_from_end(offset.min(end));
        self.high_watermark = self.high_watermark.min(end);
        self.assert_high_watermark();
        Ok(())
    }

    /// The leader's log starts beyond this follower's end: start over where the leader's does.
    pub(super) fn restart_at(&mut self, offset: i64) -> Result<(), StorageError> {
        assert!(!self.is_leader(), "a leader never truncates its own log");
        self.log.truncate_fully_and_start_at(offset)?;
        self.epochs.truncate_from_end(0);
        self.high_watermark = offset;
        Ok(())
    }

    /// Applies the leader's OffsetForLeaderEpoch answer for the epoch this follower asked
    /// about (Kafka's `getOffsetTruncationState`); see the module docs.
    pub(super) fn on_epoch_end_offset(
        &mut self,
        answer: &EpochEndOffset,
        now: Millis,
        backoff: Millis,
    ) -> Result<(), StorageError> {
        let Some(follower) = self.follower.as_mut() else {
            return Ok(());
        };
        if answer.error != ErrorCode::NONE {
            // A leader that does not know (yet) that it leads, or an epoch one side has not
            // seen yet: metadata will settle it.
            follower.backoff_until = Some(now.plus(backoff));
            return Ok(());
        }
        let log_end = self.log.log_end_offset();
        let (cut, done) = if answer.end_offset == UNDEFINED_EPOCH_OFFSET {
            // The leader knows nothing of our epochs: keep only what was committed.
            (self.high_watermark, true)
        } else if answer.leader_epoch == UNDEFINED_EPOCH {
            (answer.end_offset.min(log_end), true)
        } else {
            match self.epochs.end_offset_for(answer.leader_epoch, log_end) {
                (_, UNDEFINED_EPOCH_OFFSET) => (answer.end_offset.min(log_end), true),
                (epoch, own_end) if epoch != answer.leader_epoch => (own_end.min(log_end), false),
                (_, own_end) => (own_end.min(answer.end_offset).min(log_end), true),
            }
        };
        self.truncate_to(cut)?;
        let follower = self.follower.as_mut().expect("checked above");
        follower.backoff_until = None;
        if done {
            follower.phase = FollowerPhase::Fetching;
        }
        Ok(())
    }

    /// Appends what the leader sent (batches already numbered and stamped with their epochs),
    /// follows the leader's log start (records deleted there are deleted here), and takes the
    /// leader's high watermark as far as this log reaches. In durable mode the batches are
    /// synced at once, so the log end this follower reports by fetching is durable.
    pub(super) fn append_fetched(
        &mut self,
        fetched: &FetchedPartition,
        now: Millis,
    ) -> Result<(), ErrorCode> {
        if !fetched.records.is_empty() {
            self.start_at_first_batch(&fetched.records)
                .map_err(|e| e.code())?;
            let before = self.log.log_end_offset();
            self.log
                .append_replicated(&fetched.records, now)
                .map_err(|e| e.code())?;
            self.note_epochs(&fetched.records);
            let appended = (self.log.log_end_offset() - before) as u64;
            self.appended(appended, now);
            if self.durable {
                self.flush_if_due(true, now).map_err(|e| e.code())?;
            }
        }
        let leader_start = fetched.log_start_offset.min(self.log.log_end_offset());
        if leader_start > self.log.log_start_offset() {
            self.log
                .delete_records_before(leader_start)
                .map_err(|e| e.code())?;
            self.epochs.truncate_from_start(self.log.log_start_offset());
        }
        self.high_watermark = fetched
            .high_watermark
            .clamp(self.log.log_start_offset(), self.log.log_end_offset());
        self.log.note_high_watermark(self.high_watermark);
        self.assert_high_watermark();
        Ok(())
    }

    /// An empty log whose start fell inside one of the leader's batches (a DeleteRecords
    /// there) gets that batch whole: the log restarts at the batch's base offset (Kafka does
    /// the same), and the leader's log start is applied again right after.
    fn start_at_first_batch(&mut self, records: &[u8]) -> Result<(), StorageError> {
        let end = self.log.log_end_offset();
        let Ok(first) = BatchHeader::parse(records) else {
            return Ok(()); // append_replicated reports it
        };
        if end == self.log.log_start_offset()
            && first.base_offset < end
            && first.last_offset() >= end
        {
            self.restart_at(first.base_offset)?;
        }
        Ok(())
    }

    /// Records in the epoch cache where each epoch of freshly replicated batches begins.
    fn note_epochs(&mut self, records: &[u8]) {
        let mut position = 0;
        while position < records.len() {
            let header = BatchHeader::parse(&records[position..])
                .expect("append_replicated validated every batch");
            if header.partition_leader_epoch >= 0 {
                self.epochs
                    .assign(header.partition_leader_epoch, header.base_offset);
            }
            position += header.size_bytes();
        }
    }
}
