//! The record accumulator: records wait in per-partition batches until `linger.ms` passes or
//! the batch reaches `batch.size`, and a batch stays here, in order, until it is acknowledged
//! or fails, so that retries go out before the batches that follow them.

use std::collections::{BTreeMap, VecDeque};

use crate::Millis;
use crate::assignor::TopicPartition;
use crate::batch::BatchBuilder;

use super::SendId;

/// One record as the application sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRecord {
    pub id: SendId,
    pub key: Option<Vec<u8>>,
    /// `None`: a tombstone (a null value), which deletes the key on a compacted topic.
    pub value: Option<Vec<u8>>,
    pub timestamp: i64,
    /// When `send` was called: `delivery.timeout.ms` counts from here.
    pub enqueued: Millis,
}

/// A batch of one partition.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Unique within the producer: how responses find their batch.
    pub batch_id: u64,
    pub tp: TopicPartition,
    pub records: Vec<PendingRecord>,
    pub created: Millis,
    /// Builds the bytes as they grow, so `batch.size` is measured in real bytes.
    builder: BatchBuilder,
    /// No more records go in (full, or sent once).
    pub sealed: bool,
    pub in_flight: bool,
    /// How many times it was sent.
    pub attempts: u32,
    /// Not before this (`retry.backoff.ms` after a failure).
    pub retry_at: Millis,
    /// The sequence number of its first record, fixed at its first send (idempotence).
    pub base_sequence: Option<i32>,
    /// Its place among the partition's batches in order of first send.
    pub send_index: Option<u64>,
}

impl Batch {
    fn new(batch_id: u64, tp: TopicPartition, now: Millis) -> Batch {
        Batch {
            batch_id,
            tp,
            records: Vec::new(),
            created: now,
            builder: BatchBuilder::new(),
            sealed: false,
            in_flight: false,
            attempts: 0,
            retry_at: now,
            base_sequence: None,
            send_index: None,
        }
    }

    pub fn size_bytes(&self) -> usize {
        self.builder.size_bytes()
    }

    /// The bytes to send: a v2 batch exactly as a client writes it, idempotent when
    /// `producer` (id, epoch) is given.
    pub fn encode(&self, producer: Option<(i64, i16)>) -> Vec<u8> {
        let mut builder = match (producer, self.base_sequence) {
            (Some((id, epoch)), Some(sequence)) => {
                BatchBuilder::new().idempotent(id, epoch, sequence)
            }
            _ => BatchBuilder::new(),
        };
        for record in &self.records {
            builder.push(
                record.timestamp,
                record.key.as_deref(),
                record.value.as_deref(),
                &[],
            );
        }
        builder.build()
    }

    /// The oldest record's enqueue time: the batch expires with it.
    pub fn oldest(&self) -> Millis {
        self.records
            .iter()
            .map(|r| r.enqueued)
            .min()
            .unwrap_or(self.created)
    }
}

/// Batches per partition, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Accumulator {
    pub queues: BTreeMap<TopicPartition, VecDeque<Batch>>,
    next_batch_id: u64,
}

impl Accumulator {
    /// Adds a record to the partition's open batch, opening one if needed. Returns true when
    /// the batch it went into is now full (the sticky partitioner moves on).
    pub fn append(
        &mut self,
        tp: TopicPartition,
        record: PendingRecord,
        batch_size_bytes: usize,
        now: Millis,
    ) -> bool {
        let queue = self.queues.entry(tp.clone()).or_default();
        let needs_new = match queue.back() {
            Some(batch) => {
                let extra = batch.builder.record_size_bytes(
                    record.timestamp,
                    record.key.as_deref(),
                    record.value.as_deref(),
                    &[],
                );
                batch.sealed || batch.size_bytes() + extra > batch_size_bytes
            }
            None => true,
        };
        if needs_new {
            if let Some(last) = queue.back_mut() {
                last.sealed = true;
            }
            self.next_batch_id += 1;
            queue.push_back(Batch::new(self.next_batch_id, tp, now));
        }
        let batch = queue.back_mut().expect("pushed above");
        batch.builder.push(
            record.timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
            &[],
        );
        batch.records.push(record);
        let full = batch.size_bytes() >= batch_size_bytes;
        if full {
            batch.sealed = true;
        }
        full
    }

    /// Whether the batch may go out now: not in flight, its backoff over, and full, lingered
    /// long enough, or already sent once.
    pub fn is_ready(batch: &Batch, linger_ms: Millis, now: Millis) -> bool {
        !batch.in_flight
            && now >= batch.retry_at
            && (batch.sealed || batch.attempts > 0 || now >= batch.created.plus(linger_ms))
    }

    /// The earliest time a waiting batch becomes ready by lingering or backoff.
    /// Only times after `now` count: a batch ready already waits for something else (a
    /// response, metadata), and a deadline in the past would wake nobody.
    pub fn next_ready(&self, linger_ms: Millis, now: Millis) -> Option<Millis> {
        self.queues
            .values()
            .flatten()
            .filter(|b| !b.in_flight)
            .map(|b| {
                if b.sealed || b.attempts > 0 {
                    b.retry_at
                } else {
                    b.created.plus(linger_ms).max(b.retry_at)
                }
            })
            .filter(|&t| t > now)
            .min()
    }

    pub fn get_mut(&mut self, tp: &TopicPartition, batch_id: u64) -> Option<&mut Batch> {
        self.queues
            .get_mut(tp)?
            .iter_mut()
            .find(|b| b.batch_id == batch_id)
    }

    pub fn remove(&mut self, tp: &TopicPartition, batch_id: u64) -> Option<Batch> {
        let queue = self.queues.get_mut(tp)?;
        let at = queue.iter().position(|b| b.batch_id == batch_id)?;
        queue.remove(at)
    }

    /// Whether a batch older than `batch_id` of `tp` is still waiting for its answer.
    pub fn has_earlier(&self, tp: &TopicPartition, batch_id: u64) -> bool {
        self.queues
            .get(tp)
            .is_some_and(|q| q.iter().any(|b| b.batch_id < batch_id))
    }

    pub fn record_count(&self) -> usize {
        self.queues
            .values()
            .flatten()
            .map(|b| b.records.len())
            .sum()
    }
}
