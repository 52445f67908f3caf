//! Idempotent producer state per partition: producer ids, epochs, sequence numbers.
//!
//! An idempotent producer numbers its batches per partition; after a timeout it resends the
//! same batch with the same sequence numbers. The partition remembers, per producer id, the
//! epoch and the last [`MAX_CACHED_BATCHES`] batches it appended, so a resend is answered with
//! the original offsets instead of being written twice (Kafka's `ProducerStateManager`).
//!
//! The state is rebuilt from batch headers when a log is opened (as Kafka does without a
//! snapshot) and is serializable, so a shell may also snapshot it.

mod error;
mod txn;

pub use error::ProducerError;
pub use txn::CompletedTxn;

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::batch::BatchHeader;

/// How many recent batches are remembered per producer: the Java client allows at most five
/// in-flight requests with idempotence (`max.in.flight.requests.per.connection` <= 5).
pub const MAX_CACHED_BATCHES: usize = 5;

/// Sequence and offset range of one appended batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMetadata {
    pub first_sequence: i32,
    pub last_sequence: i32,
    pub first_offset: i64,
    pub last_offset: i64,
}

/// What the partition knows about one producer id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerEntry {
    pub epoch: i16,
    /// The most recent batches, oldest first, at most [`MAX_CACHED_BATCHES`].
    pub batches: VecDeque<BatchMetadata>,
    /// The max timestamp of its last batch (Kafka's `lastTimestamp`, milliseconds), as
    /// DescribeProducers reports it; -1 when unknown.
    #[serde(default = "minus_one")]
    pub last_timestamp: i64,
    /// The offset of the first batch of its transaction still open in this partition (no
    /// commit or abort marker yet): Kafka's `currentTxnFirstOffset`. It holds the last stable
    /// offset back.
    #[serde(default)]
    pub current_txn_first_offset: Option<i64>,
    /// The coordinator epoch of the last marker written for it (-1 before any).
    #[serde(default = "minus_one_i32")]
    pub coordinator_epoch: i32,
}

fn minus_one() -> i64 {
    -1
}

fn minus_one_i32() -> i32 {
    -1
}

impl ProducerEntry {
    /// The sequence number of its last record, if it has a batch in the log.
    pub fn last_sequence(&self) -> Option<i32> {
        self.batches.back().map(|batch| batch.last_sequence)
    }
}

/// The verdict on an incoming idempotent batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequenceCheck {
    /// Not seen before and in sequence: append it.
    Append,
    /// A resend of a batch already in the log: answer with its offsets, append nothing.
    Duplicate(BatchMetadata),
}

/// All producers of one partition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerStateTable {
    producers: BTreeMap<i64, ProducerEntry>,
}

impl ProducerStateTable {
    pub fn new() -> ProducerStateTable {
        ProducerStateTable::default()
    }

    pub fn get(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.producers.get(&producer_id)
    }

    /// Every producer with its state, by producer id.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &ProducerEntry)> {
        self.producers.iter().map(|(&id, entry)| (id, entry))
    }

    pub fn len(&self) -> usize {
        self.producers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }

    /// Decides what to do with a batch from a producer with an id, before offsets are assigned.
    ///
    /// Kafka's rules: an epoch older than the known one is fenced (INVALID_PRODUCER_EPOCH); a
    /// batch matching a cached one's sequence range is a duplicate; a new epoch must start at
    /// sequence 0; otherwise the batch must start right after the last sequence. An unknown
    /// producer may start anywhere (its state may have been removed with old segments).
    pub fn check(&self, header: &BatchHeader) -> Result<SequenceCheck, ProducerError> {
        debug_assert!(header.has_producer_id());
        let Some(entry) = self.producers.get(&header.producer_id) else {
            return Ok(SequenceCheck::Append);
        };
        let producer_id = header.producer_id;
        if entry.current_txn_first_offset.is_some()
            && !header.is_transactional()
            && header.producer_epoch >= entry.epoch
        {
            return Err(ProducerError::NotTransactional { producer_id });
        }
        if header.producer_epoch < entry.epoch {
            return Err(ProducerError::FencedEpoch {
                producer_id,
                current: entry.epoch,
                got: header.producer_epoch,
            });
        }
        let first = header.base_sequence;
        if header.producer_epoch > entry.epoch {
            if first != 0 {
                return Err(ProducerError::OutOfOrderSequence {
                    producer_id,
                    expected: 0,
                    got: first,
                });
            }
            return Ok(SequenceCheck::Append);
        }
        let last = header.last_sequence();
        if let Some(batch) = entry
            .batches
            .iter()
            .find(|b| b.first_sequence == first && b.last_sequence == last)
        {
            return Ok(SequenceCheck::Duplicate(*batch));
        }
        match entry.last_sequence() {
            Some(previous) if !in_sequence(previous, first) => {
                Err(ProducerError::OutOfOrderSequence {
                    producer_id,
                    expected: next_sequence(previous),
                    got: first,
                })
            }
            _ => Ok(SequenceCheck::Append),
        }
    }

    /// Records an appended batch (offsets assigned), on the append path and when replaying the
    /// log on open. Control batches carry no sequence numbers and are skipped.
    pub fn record(&mut self, header: &BatchHeader) {
        if !header.has_producer_id() || header.is_control() {
            return;
        }
        let entry = self
            .producers
            .entry(header.producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch: header.producer_epoch,
                batches: VecDeque::new(),
                last_timestamp: -1,
                current_txn_first_offset: None,
                coordinator_epoch: -1,
            });
        entry.last_timestamp = header.max_timestamp;
        if header.is_transactional() && entry.current_txn_first_offset.is_none() {
            entry.current_txn_first_offset = Some(header.base_offset);
        }
        if header.producer_epoch != entry.epoch {
            entry.epoch = header.producer_epoch;
            entry.batches.clear();
        }
        if entry.batches.len() == MAX_CACHED_BATCHES {
            entry.batches.pop_front();
        }
        entry.batches.push_back(BatchMetadata {
            first_sequence: header.base_sequence,
            last_sequence: header.last_sequence(),
            first_offset: header.base_offset,
            last_offset: header.last_offset(),
        });
    }

    /// Forgets producers whose last batch lies wholly below the new log start offset, as
    /// Kafka does when retention or DeleteRecords removes their batches; the table then
    /// matches what a rebuild from the remaining log gives. A producer with a transaction
    /// still open is kept: its marker is yet to come.
    pub fn remove_before(&mut self, log_start_offset: i64) {
        self.producers.retain(|_, entry| {
            entry
                .batches
                .retain(|batch| batch.last_offset >= log_start_offset);
            !entry.batches.is_empty() || entry.current_txn_first_offset.is_some()
        });
    }
}

/// Whether `next` directly follows `previous`; sequences wrap from `i32::MAX` to 0.
fn in_sequence(previous: i32, next: i32) -> bool {
    next == next_sequence(previous)
}

/// The sequence after `previous`: sequences wrap from `i32::MAX` to 0.
pub(crate) fn next_sequence(previous: i32) -> i32 {
    if previous == i32::MAX {
        0
    } else {
        previous + 1
    }
}

#[cfg(test)]
mod tests;
