//! The leader-epoch cache (KIP-101): for each leader epoch that wrote to this log, the offset
//! where it began. A follower that learns of a new leader asks that leader where its own last
//! epoch ended, and cuts everything after it: whatever it holds beyond that point was written
//! by a leader the new one never followed, so it differs from the new leader's log.
//!
//! The cache is rebuilt from the batches' partition leader epochs when a log is opened
//! ([`crate::log::Log::epoch_starts`]); a leader also records its epoch at its log end the
//! moment it is elected, before it appends anything (as Kafka's `makeLeader` does), so that
//! followers asking about the previous epoch learn where it ended.

use crate::log::EpochStart;

/// Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET: "no answer" in OffsetForLeaderEpoch.
pub const UNDEFINED_EPOCH: i32 = -1;
pub const UNDEFINED_EPOCH_OFFSET: i64 = -1;

/// Epochs with their start offsets; both strictly increase along the list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaderEpochCache {
    entries: Vec<EpochStart>,
}

impl LeaderEpochCache {
    /// The cache a log's batches describe (see [`crate::log::Log::epoch_starts`]).
    pub fn from_starts(starts: &[EpochStart]) -> LeaderEpochCache {
        let mut cache = LeaderEpochCache::default();
        for start in starts {
            cache.assign(start.epoch, start.start_offset);
        }
        cache
    }

    pub fn entries(&self) -> &[EpochStart] {
        &self.entries
    }

    /// The newest epoch that wrote (or, on a leader, may write) to the log.
    pub fn latest_epoch(&self) -> Option<i32> {
        self.entries.last().map(|e| e.epoch)
    }

    /// The oldest epoch the cache knows, with where it starts (Kafka's `earliestEntry`).
    pub fn earliest(&self) -> Option<EpochStart> {
        self.entries.first().copied()
    }

    /// The epoch `offset` was written in: the newest entry starting at or below it (Kafka's
    /// `epochForOffset`); `None` below the first entry.
    pub fn epoch_for_offset(&self, offset: i64) -> Option<i32> {
        let at_or_below = self.entries.partition_point(|e| e.start_offset <= offset);
        at_or_below.checked_sub(1).map(|i| self.entries[i].epoch)
    }

    /// Notes that `epoch` starts at `start_offset` (Kafka's `assign`). Entries it contradicts
    /// (an epoch at least as new, or a start at least as late) are dropped: the log was cut
    /// below them, so they no longer describe it.
    pub fn assign(&mut self, epoch: i32, start_offset: i64) {
        assert!(
            epoch >= 0 && start_offset >= 0,
            "invalid epoch entry {epoch}@{start_offset}"
        );
        if let Some(last) = self.entries.last()
            && last.epoch == epoch
            && last.start_offset <= start_offset
        {
            return;
        }
        self.entries
            .retain(|e| e.epoch < epoch && e.start_offset < start_offset);
        self.entries.push(EpochStart {
            epoch,
            start_offset,
        });
        self.assert_monotonic();
    }

    /// The log was cut at `end_offset` (everything from it on is gone): epochs that began
    /// there or later are forgotten.
    pub fn truncate_from_end(&mut self, end_offset: i64) {
        self.entries.retain(|e| e.start_offset < end_offset);
    }

    /// The log now starts at `start_offset`: epochs wholly below it are forgotten, and the one
    /// it falls in starts there (Kafka's `truncateFromStart`).
    pub fn truncate_from_start(&mut self, start_offset: i64) {
        let below = self
            .entries
            .partition_point(|e| e.start_offset <= start_offset);
        if below == 0 {
            return;
        }
        self.entries.drain(..below - 1);
        self.entries[0].start_offset = start_offset;
        self.assert_monotonic();
    }

    /// Where `requested` ends in this log, as (epoch, end offset) (Kafka's `endOffsetFor`):
    /// - the latest epoch ends at the log end;
    /// - an older one ends where the next epoch the cache knows begins, and the answer names
    ///   the newest epoch at or below the requested one (the requester may not know it);
    /// - an epoch older than everything known "ends" where the first known one starts;
    /// - no answer (UNDEFINED) for -1 or an epoch newer than any known.
    pub fn end_offset_for(&self, requested: i32, log_end_offset: i64) -> (i32, i64) {
        let undefined = (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET);
        if requested == UNDEFINED_EPOCH {
            return undefined;
        }
        if self.latest_epoch() == Some(requested) {
            return (requested, log_end_offset);
        }
        let Some(higher) = self.entries.iter().find(|e| e.epoch > requested) else {
            return undefined;
        };
        match self.entries.iter().rev().find(|e| e.epoch <= requested) {
            Some(floor) => (floor.epoch, higher.start_offset),
            None => (requested, higher.start_offset),
        }
    }

    fn assert_monotonic(&self) {
        assert!(
            self.entries
                .windows(2)
                .all(|w| w[0].epoch < w[1].epoch && w[0].start_offset < w[1].start_offset),
            "leader epochs and their start offsets must both increase: {:?}",
            self.entries
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(entries: &[(i32, i64)]) -> LeaderEpochCache {
        let starts: Vec<EpochStart> = entries
            .iter()
            .map(|&(epoch, start_offset)| EpochStart {
                epoch,
                start_offset,
            })
            .collect();
        LeaderEpochCache::from_starts(&starts)
    }

    fn show(cache: &LeaderEpochCache) -> String {
        let parts: Vec<String> = cache
            .entries()
            .iter()
            .map(|e| format!("{}@{}", e.epoch, e.start_offset))
            .collect();
        parts.join(" ")
    }

    #[test]
    fn end_offsets_follow_kafka() {
        let c = cache(&[(1, 0), (3, 10), (4, 25)]);
        assert_eq!(
            c.end_offset_for(4, 40),
            (4, 40),
            "latest epoch ends at the log end"
        );
        assert_eq!(c.end_offset_for(3, 40), (3, 25));
        assert_eq!(
            c.end_offset_for(2, 40),
            (1, 10),
            "unknown epoch: the one below it answers"
        );
        assert_eq!(
            c.end_offset_for(0, 40),
            (0, 0),
            "older than all: where the first starts"
        );
        assert_eq!(
            c.end_offset_for(5, 40),
            (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)
        );
        assert_eq!(
            c.end_offset_for(-1, 40),
            (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)
        );
        assert_eq!(
            LeaderEpochCache::default().end_offset_for(0, 0),
            (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)
        );
    }

    #[test]
    fn epoch_for_offset_is_the_newest_start_at_or_below() {
        let c = cache(&[(1, 5), (3, 10), (4, 25)]);
        let epochs: Vec<Option<i32>> = [0, 5, 9, 10, 24, 25, 99]
            .into_iter()
            .map(|offset| c.epoch_for_offset(offset))
            .collect();
        assert_eq!(
            epochs,
            [None, Some(1), Some(1), Some(3), Some(3), Some(4), Some(4)]
        );
        assert_eq!(
            c.earliest().map(|e| (e.epoch, e.start_offset)),
            Some((1, 5))
        );
        assert_eq!(LeaderEpochCache::default().epoch_for_offset(0), None);
    }

    #[test]
    fn assign_keeps_epochs_and_offsets_increasing() {
        let mut c = cache(&[(1, 0), (3, 10)]);
        c.assign(3, 12);
        assert_eq!(
            show(&c),
            "1@0 3@10",
            "a later start of the same epoch changes nothing"
        );
        c.assign(5, 10);
        assert_eq!(
            show(&c),
            "1@0 5@10",
            "an epoch elected before it wrote is replaced"
        );
        c.assign(2, 4);
        assert_eq!(
            show(&c),
            "1@0 2@4",
            "a contradicting older epoch drops the newer ones"
        );
    }

    #[test]
    fn truncation_from_both_ends() {
        let mut c = cache(&[(1, 0), (3, 10), (4, 25)]);
        c.truncate_from_end(25);
        assert_eq!(show(&c), "1@0 3@10");
        c.truncate_from_start(12);
        assert_eq!(show(&c), "3@12");
        c.truncate_from_start(5);
        assert_eq!(
            show(&c),
            "3@12",
            "a start below the first entry changes nothing"
        );
    }
}
