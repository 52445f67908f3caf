//! The aborted transactions of a cleaning round: which data batches belong to one, so the
//! cleaner neither maps nor keeps their records (Kafka's `CleanedTransactionMetadata`, fed
//! from the transaction index).
//!
//! Taken from the log's aborted-transactions index when the round begins. That is enough:
//! the round never goes past its first uncleanable offset, which the broker keeps at or below
//! the last stable offset, so every transaction with a batch in the round was closed by a
//! marker already; and nothing removes segments while the round runs.

use std::collections::BTreeMap;

use crate::batch::BatchHeader;
use crate::log::AbortedTxn;

/// Each producer's aborted transactions as `(first offset, marker offset)`, in offset order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct AbortedRanges {
    by_producer: BTreeMap<i64, Vec<(i64, i64)>>,
}

impl AbortedRanges {
    /// From aborted transactions in marker order (as the log's index holds them).
    pub(super) fn new(txns: impl IntoIterator<Item = AbortedTxn>) -> AbortedRanges {
        let mut by_producer: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
        for txn in txns {
            by_producer
                .entry(txn.producer_id)
                .or_default()
                .push((txn.first_offset, txn.last_offset));
        }
        AbortedRanges { by_producer }
    }

    /// Whether the data batch with `header` belongs to an aborted transaction: it is
    /// transactional and lies between the first batch and the abort marker of one of its
    /// producer's aborted transactions (a producer has one transaction open at a time, so
    /// its transactions never overlap).
    pub(super) fn contains(&self, header: &BatchHeader) -> bool {
        if !header.is_transactional() || header.is_control() {
            return false;
        }
        let Some(ranges) = self.by_producer.get(&header.producer_id) else {
            return false;
        };
        let base = header.base_offset;
        let next = ranges.partition_point(|&(_, last)| last < base);
        ranges.get(next).is_some_and(|&(first, _)| first <= base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{BatchBuilder, assign_offsets, validate_batch};

    fn header(producer_id: i64, base: i64, transactional: bool) -> BatchHeader {
        let mut builder = BatchBuilder::new().idempotent(producer_id, 0, 0);
        if transactional {
            builder = builder.transactional();
        }
        builder.push(0, Some(b"k"), Some(b"v"), &[]);
        let mut bytes = builder.build();
        assign_offsets(&mut bytes, base, 0).unwrap();
        validate_batch(&bytes).unwrap().header
    }

    fn aborted(producer_id: i64, first_offset: i64, last_offset: i64) -> AbortedTxn {
        AbortedTxn {
            producer_id,
            first_offset,
            last_offset,
            last_stable_offset: last_offset + 1,
        }
    }

    #[test]
    fn only_transactional_batches_inside_their_producers_aborted_transactions() {
        let ranges =
            AbortedRanges::new([aborted(1, 10, 20), aborted(2, 15, 30), aborted(1, 40, 50)]);
        assert!(ranges.contains(&header(1, 10, true)));
        assert!(ranges.contains(&header(1, 19, true)));
        assert!(ranges.contains(&header(1, 45, true)));
        // Between two aborted transactions of producer 1: a committed one.
        assert!(!ranges.contains(&header(1, 25, true)));
        assert!(!ranges.contains(&header(1, 5, true)));
        assert!(!ranges.contains(&header(1, 51, true)));
        // Another producer's range, or not transactional.
        assert!(ranges.contains(&header(2, 25, true)));
        assert!(!ranges.contains(&header(3, 25, true)));
        assert!(!ranges.contains(&header(1, 12, false)));
    }
}
