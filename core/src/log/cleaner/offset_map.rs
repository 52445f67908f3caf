//! The cleaner's dedupe map: for each key in the dirty section, the offset of its latest record
//! (Kafka's `SkimpyOffsetMap`).
//!
//! Kafka keys its map by a 16-byte MD5 of the key and sizes it in slots of 24 bytes; a hash
//! collision there silently drops a record. Here the keys themselves are stored, so two keys
//! never collide, and each entry is charged its key's length plus Kafka's 24 bytes against
//! `log.cleaner.dedupe.buffer.size` times the load factor.

use std::collections::HashMap;

/// What one entry costs besides its key: Kafka's 16-byte hash and 8-byte offset.
pub(super) const ENTRY_OVERHEAD_BYTES: u64 = 24;

#[derive(Debug, Default)]
pub(super) struct OffsetMap {
    offsets: HashMap<Vec<u8>, i64>,
    used_bytes: u64,
    capacity_bytes: u64,
    /// The last offset the map has seen (records or gaps): records above it were not mapped
    /// and the cleaner keeps them. -1 while empty.
    latest_offset: i64,
}

impl OffsetMap {
    pub fn new(capacity_bytes: u64) -> OffsetMap {
        OffsetMap {
            offsets: HashMap::new(),
            used_bytes: 0,
            capacity_bytes,
            latest_offset: -1,
        }
    }

    /// Whether keys of `key_bytes` bytes in `records` records fit. An empty map always takes
    /// one batch, so the cleaner makes progress whatever the buffer size.
    pub fn fits(&self, records: usize, key_bytes: u64) -> bool {
        let needed = key_bytes + records as u64 * ENTRY_OVERHEAD_BYTES;
        self.offsets.is_empty() || self.used_bytes + needed <= self.capacity_bytes
    }

    /// Records that `key`'s latest record so far is at `offset` (offsets come in order).
    pub fn put(&mut self, key: &[u8], offset: i64) {
        debug_assert!(offset > self.latest_offset || self.offsets.is_empty());
        match self.offsets.get_mut(key) {
            Some(latest) => *latest = offset,
            None => {
                self.used_bytes += key.len() as u64 + ENTRY_OVERHEAD_BYTES;
                self.offsets.insert(key.to_vec(), offset);
            }
        }
        self.latest_offset = self.latest_offset.max(offset);
    }

    /// The offset of `key`'s latest mapped record.
    pub fn get(&self, key: &[u8]) -> Option<i64> {
        self.offsets.get(key).copied()
    }

    /// Moves the mapped range forward over offsets without keyed records (gaps, control or
    /// compressed batches, the rest of a segment).
    pub fn update_latest_offset(&mut self, offset: i64) {
        self.latest_offset = self.latest_offset.max(offset);
    }

    pub fn latest_offset(&self) -> i64 {
        self.latest_offset
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// How full the map is, as a fraction of its capacity (Kafka's buffer utilization).
    pub fn utilization(&self) -> f64 {
        if self.capacity_bytes == 0 {
            return 1.0;
        }
        self.used_bytes as f64 / self.capacity_bytes as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_offset_of_each_key_within_its_capacity() {
        let mut map = OffsetMap::new(2 * (ENTRY_OVERHEAD_BYTES + 1));
        assert!(map.fits(5, 500), "an empty map takes any one batch");
        map.put(b"a", 3);
        map.put(b"a", 7);
        assert_eq!(map.get(b"a"), Some(7));
        assert_eq!(map.get(b"b"), None);
        assert!(map.fits(1, 1));
        map.put(b"b", 9);
        assert!(!map.fits(1, 1), "full");
        map.put(b"b", 10);
        assert_eq!((map.len(), map.latest_offset()), (2, 10));
        map.update_latest_offset(14);
        assert_eq!(map.latest_offset(), 14);
        assert!((map.utilization() - 1.0).abs() < 1e-9);
    }
}
