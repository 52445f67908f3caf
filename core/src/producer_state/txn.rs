//! Transactions in the producer state: which producers have a transaction open in this
//! partition, from which offset, and how a commit or abort marker closes it (Kafka's
//! `ProducerStateManager` ongoing transactions and `ProducerAppendInfo.appendEndTxnMarker`).

use std::collections::VecDeque;

use super::{ProducerEntry, ProducerError, ProducerStateTable};
use crate::batch::{BatchHeader, EndTxnMarker};

/// A transaction a marker closed: its producer, the offsets it spans in this partition (from
/// its first batch to the marker, both included) and whether it was aborted. Kafka's
/// `CompletedTxn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompletedTxn {
    pub producer_id: i64,
    pub first_offset: i64,
    /// The offset of the marker.
    pub last_offset: i64,
    pub aborted: bool,
}

impl ProducerStateTable {
    /// Whether a marker may be written: its producer epoch must not be older than the one the
    /// partition knows (INVALID_PRODUCER_EPOCH), nor its coordinator epoch older than the last
    /// marker's (TRANSACTION_COORDINATOR_FENCED).
    pub fn check_marker(&self, marker: &EndTxnMarker) -> Result<(), ProducerError> {
        let Some(entry) = self.producers.get(&marker.producer_id) else {
            return Ok(());
        };
        if marker.producer_epoch < entry.epoch {
            return Err(ProducerError::FencedEpoch {
                producer_id: marker.producer_id,
                current: entry.epoch,
                got: marker.producer_epoch,
            });
        }
        if marker.coordinator_epoch < entry.coordinator_epoch {
            return Err(ProducerError::CoordinatorFenced {
                producer_id: marker.producer_id,
                current: entry.coordinator_epoch,
                got: marker.coordinator_epoch,
            });
        }
        Ok(())
    }

    /// Records a marker appended at `header.base_offset` (on the append path, when following
    /// and when replaying the log). A newer epoch replaces the producer's (its cached batches
    /// go: the next epoch starts at sequence 0). Returns the transaction it closed, if one was
    /// open here; a marker for a producer with no open transaction closes nothing.
    pub fn complete(
        &mut self,
        header: &BatchHeader,
        marker: &EndTxnMarker,
    ) -> Option<CompletedTxn> {
        let entry = self
            .producers
            .entry(marker.producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch: marker.producer_epoch,
                batches: VecDeque::new(),
                last_timestamp: -1,
                current_txn_first_offset: None,
                coordinator_epoch: -1,
            });
        if marker.producer_epoch > entry.epoch {
            entry.epoch = marker.producer_epoch;
            entry.batches.clear();
        }
        entry.coordinator_epoch = entry.coordinator_epoch.max(marker.coordinator_epoch);
        entry.last_timestamp = header.max_timestamp;
        let first_offset = entry.current_txn_first_offset.take()?;
        Some(CompletedTxn {
            producer_id: marker.producer_id,
            first_offset,
            last_offset: header.base_offset,
            aborted: !marker.commit,
        })
    }

    /// The first offset of the oldest transaction still open in this partition, if any.
    pub fn first_ongoing_offset(&self) -> Option<i64> {
        self.producers
            .values()
            .filter_map(|entry| entry.current_txn_first_offset)
            .min()
    }

    /// Every producer with a transaction open here, with its first offset.
    pub fn ongoing(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.producers
            .iter()
            .filter_map(|(&id, entry)| entry.current_txn_first_offset.map(|first| (id, first)))
    }
}
