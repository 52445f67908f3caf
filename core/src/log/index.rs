//! Sparse offset and time indexes of a segment: kept in memory for lookups and written to the
//! `.index` and `.timeindex` files in Kafka's entry format.
//!
//! Both are rebuilt from the `.log` file when a log is opened, so the files never need to be
//! trusted; they exist so the on-disk layout is Kafka's.

/// Bytes per `.index` entry: relative offset u32, position u32.
pub(super) const OFFSET_ENTRY_BYTES: usize = 8;
/// Bytes per `.timeindex` entry: timestamp i64, relative offset u32.
pub(super) const TIME_ENTRY_BYTES: usize = 12;

/// Offset (relative to the segment base) of a batch's first record -> byte position of the
/// batch, every `index.interval.bytes` or so. Keys and positions only grow.
#[derive(Clone, Debug, Default)]
pub(super) struct OffsetIndex {
    entries: Vec<(u32, u32)>,
}

impl OffsetIndex {
    pub fn push(&mut self, relative_offset: u32, position: u32) -> [u8; OFFSET_ENTRY_BYTES] {
        debug_assert!(
            self.entries
                .last()
                .is_none_or(|&(o, p)| o < relative_offset && p < position)
        );
        self.entries.push((relative_offset, position));
        let mut entry = [0; OFFSET_ENTRY_BYTES];
        entry[..4].copy_from_slice(&relative_offset.to_be_bytes());
        entry[4..].copy_from_slice(&position.to_be_bytes());
        entry
    }

    /// The position of the last indexed batch starting at or before `relative_offset`: a
    /// scan from there finds the batch containing it. 0 if none.
    pub fn position_before(&self, relative_offset: u32) -> u32 {
        let after = self
            .entries
            .partition_point(|&(offset, _)| offset <= relative_offset);
        after.checked_sub(1).map_or(0, |i| self.entries[i].1)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len() * OFFSET_ENTRY_BYTES);
        for &(offset, position) in &self.entries {
            out.extend_from_slice(&offset.to_be_bytes());
            out.extend_from_slice(&position.to_be_bytes());
        }
        out
    }
}

/// The largest timestamp seen so far in the segment -> relative offset of the batch at which
/// it was recorded. Timestamps strictly grow.
#[derive(Clone, Debug, Default)]
pub(super) struct TimeIndex {
    entries: Vec<(i64, u32)>,
}

impl TimeIndex {
    /// Adds an entry if `max_timestamp_so_far` is newer than the last one.
    pub fn maybe_push(
        &mut self,
        max_timestamp_so_far: i64,
        relative_offset: u32,
    ) -> Option<[u8; TIME_ENTRY_BYTES]> {
        if self
            .entries
            .last()
            .is_some_and(|&(timestamp, _)| timestamp >= max_timestamp_so_far)
        {
            return None;
        }
        self.entries.push((max_timestamp_so_far, relative_offset));
        let mut entry = [0; TIME_ENTRY_BYTES];
        entry[..8].copy_from_slice(&max_timestamp_so_far.to_be_bytes());
        entry[8..].copy_from_slice(&relative_offset.to_be_bytes());
        Some(entry)
    }

    /// A relative offset from which to scan for the first record with a timestamp at or after
    /// `timestamp`: every record before the returned entry's batch (and in it) is older.
    pub fn offset_before(&self, timestamp: i64) -> u32 {
        let after = self.entries.partition_point(|&(t, _)| t < timestamp);
        after.checked_sub(1).map_or(0, |i| self.entries[i].1)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len() * TIME_ENTRY_BYTES);
        for &(timestamp, offset) in &self.entries {
            out.extend_from_slice(&timestamp.to_be_bytes());
            out.extend_from_slice(&offset.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_lookup_finds_the_entry_at_or_before() {
        let mut index = OffsetIndex::default();
        index.push(10, 4096);
        index.push(25, 8200);
        let check = |offset, expect| assert_eq!(index.position_before(offset), expect, "{offset}");
        check(0, 0);
        check(9, 0);
        check(10, 4096);
        check(24, 4096);
        check(25, 8200);
        check(1000, 8200);
        assert_eq!(
            index.encode(),
            [0, 0, 0, 10, 0, 0, 16, 0, 0, 0, 0, 25, 0, 0, 32, 8]
        );
    }

    #[test]
    fn time_lookup_finds_an_entry_strictly_older() {
        let mut index = TimeIndex::default();
        assert!(index.maybe_push(100, 5).is_some());
        assert!(index.maybe_push(100, 9).is_none(), "not newer");
        assert!(index.maybe_push(300, 12).is_some());
        let check =
            |timestamp, expect| assert_eq!(index.offset_before(timestamp), expect, "{timestamp}");
        check(50, 0);
        check(100, 0);
        check(101, 5);
        check(300, 5);
        check(301, 12);
    }
}
