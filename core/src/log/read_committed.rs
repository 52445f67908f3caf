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
