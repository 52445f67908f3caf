//! What a read_committed consumer keeps of fetched batches (KIP-98; the Java client's
//! `CompletedFetch.nextFetchedRecord` with its `abortedProducerIds`): control batches are
//! never records for the application, and a transactional batch is dropped when its producer
//! has an aborted transaction that started at or before the batch and whose abort marker has
//! not been passed yet. The fetch answer lists the aborted transactions of its range
//! ([`AbortedTxn`]); the simulator's final read uses the same filter on a log's whole list.

use std::collections::BTreeSet;

use super::AbortedTxn;
use crate::batch::{BatchHeader, EndTxnMarker};

/// What a batch is to a consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchKind {
    /// Ordinary records (of a committed or an open transaction, or not transactional).
    Data,
    /// Records of an aborted transaction: a read_committed consumer drops them.
    Aborted,
    /// A commit (`true`) or abort marker: no record for the application.
    Control { commit: bool },
}

/// The filter over the batches of one partition, in offset order.
#[derive(Clone, Debug, Default)]
pub struct AbortedFilter {
    /// Aborted transactions not reached yet, by first offset, last first.
    pending: Vec<AbortedTxn>,
    /// Producers whose aborted transaction is under way in the batches read so far.
    active: BTreeSet<i64>,
}

impl AbortedFilter {
    /// A filter over `aborted`, the aborted transactions of the range to be read.
    pub fn new(mut aborted: Vec<AbortedTxn>) -> AbortedFilter {
        aborted.sort_by_key(|t| std::cmp::Reverse(t.first_offset));
        AbortedFilter {
            pending: aborted,
            active: BTreeSet::new(),
        }
    }

    /// Classifies the next batch (`bytes` is the whole batch, `header` its parsed header).
    pub fn classify(&mut self, header: &BatchHeader, bytes: &[u8]) -> BatchKind {
        while let Some(next) = self.pending.last() {
            if next.first_offset > header.last_offset() {
                break;
            }
            self.active.insert(next.producer_id);
            self.pending.pop();
        }
        if header.is_control() {
            let commit = EndTxnMarker::from_batch(bytes).is_ok_and(|m| m.commit);
            if !commit {
                self.active.remove(&header.producer_id);
            }
            return BatchKind::Control { commit };
        }
        if header.is_transactional() && self.active.contains(&header.producer_id) {
            BatchKind::Aborted
        } else {
            BatchKind::Data
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{BatchBuilder, assign_offsets};

    /// A batch of `records` records at `base_offset`: `producer`'s, transactional or not.
    fn data(producer: i64, transactional: bool, base_offset: i64, records: usize) -> Vec<u8> {
        let mut builder = BatchBuilder::new().idempotent(producer, 0, 0);
        if transactional {
            builder = builder.transactional();
        }
        for _ in 0..records {
            builder.push(0, None, Some(b"v"), &[]);
        }
        let mut bytes = builder.build();
        assign_offsets(&mut bytes, base_offset, 0).unwrap();
        bytes
    }

    fn marker(producer: i64, commit: bool, offset: i64) -> Vec<u8> {
        let marker = EndTxnMarker {
            producer_id: producer,
            producer_epoch: 0,
            coordinator_epoch: 0,
            commit,
        };
        let mut bytes = marker.to_batch(0);
        assign_offsets(&mut bytes, offset, 0).unwrap();
        bytes
    }

    fn classify(filter: &mut AbortedFilter, bytes: &[u8]) -> BatchKind {
        filter.classify(&BatchHeader::parse(bytes).unwrap(), bytes)
    }

    #[test]
    fn aborted_batches_are_dropped_until_their_marker_and_markers_are_never_records() {
        // Producer 1 aborts offsets 0-1 (marker at 3); producer 2 commits offset 2 (marker
        // at 4); producer 1's next transaction at 5 is not aborted; 6 is not transactional.
        let aborted = vec![AbortedTxn {
            producer_id: 1,
            first_offset: 0,
            last_offset: 3,
            last_stable_offset: 4,
        }];
        let mut filter = AbortedFilter::new(aborted);
        assert_eq!(
            classify(&mut filter, &data(1, true, 0, 2)),
            BatchKind::Aborted
        );
        assert_eq!(classify(&mut filter, &data(2, true, 2, 1)), BatchKind::Data);
        assert_eq!(
            classify(&mut filter, &marker(1, false, 3)),
            BatchKind::Control { commit: false }
        );
        assert_eq!(
            classify(&mut filter, &marker(2, true, 4)),
            BatchKind::Control { commit: true }
        );
        assert_eq!(classify(&mut filter, &data(1, true, 5, 1)), BatchKind::Data);
        assert_eq!(
            classify(&mut filter, &data(3, false, 6, 1)),
            BatchKind::Data
        );
    }

    #[test]
    fn without_aborted_transactions_only_markers_are_passed_over() {
        let mut filter = AbortedFilter::default();
        assert_eq!(classify(&mut filter, &data(1, true, 0, 2)), BatchKind::Data);
        assert_eq!(
            classify(&mut filter, &marker(1, false, 2)),
            BatchKind::Control { commit: false }
        );
    }
}
