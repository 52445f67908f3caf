//! Loading a partition of `__transaction_state` when this node becomes its leader (Kafka's
//! `TransactionStateManager.loadTransactionsForTxnTopicPartition`): the log is read from its
//! start to the log end offset it had at the election, a bounded chunk per step
//! ([`LOAD_CHUNK_BYTES`]), keeping only the last record of each transactional id (a
//! tombstone, an expired id, forgets it), so memory is bounded by the ids, not the records.
//! Only when the whole of it is read do the ids go into the coordinator and the partition
//! count as loaded; until then their requests, DescribeTransactions and ListTransactions are
//! answered COORDINATOR_LOAD_IN_PROGRESS ([`Node::transaction_gate`]). Then Prepare*
//! transactions get their markers written again. A read that fails (a log that cannot be
//! read or decoded, or that changed under the load) starts the load over after
//! [`TXN_LOAD_RETRY_BACKOFF_MS`], with an event saying why.
//!
//! A small partition is read within the step that starts the load, so it is served at once;
//! a large one over as many [`Node::handle_timeout`] calls as it takes, asked for at once by
//! [`Node::poll_timeout`] (as `offsets_load.rs` loads groups).

use std::collections::BTreeMap;

use super::offsets_topic::LOAD_CHUNK_BYTES;
use super::{Event, Node};
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::batch::{decode_records, split_batches};
use crate::broker::StorageFactory;
use crate::txn::{TRANSACTION_STATE_TOPIC, TxnMetadata, decode_txn_record};

/// How long a load whose read failed waits before it starts over.
pub const TXN_LOAD_RETRY_BACKOFF_MS: u64 = 1_000;

/// The loads in progress, by `__transaction_state` partition.
#[derive(Debug)]
pub(super) struct TxnLoads {
    partitions: BTreeMap<i32, TxnLoad>,
    /// Bytes read per partition and step (tests make it small).
    pub(super) chunk_bytes: usize,
}

impl Default for TxnLoads {
    fn default() -> TxnLoads {
        TxnLoads {
            partitions: BTreeMap::new(),
            chunk_bytes: LOAD_CHUNK_BYTES,
        }
    }
}

#[derive(Debug)]
struct TxnLoad {
    /// The next offset to read; the log end offset at the election.
    next: i64,
    end: i64,
    /// The last record of each id read so far (`None`: a tombstone).
    states: BTreeMap<String, Option<TxnMetadata>>,
    /// When the next step may run (later than now after a failed read).
    due: Millis,
}

impl TxnLoads {
    pub(super) fn contains(&self, partition: i32) -> bool {
        self.partitions.contains_key(&partition)
    }

    /// The load of `partition` stops (this node no longer leads it).
    pub(super) fn cancel(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    /// When the next step has work.
    pub(super) fn next_deadline(&self) -> Option<Millis> {
        self.partitions.values().map(|l| l.due).min()
    }
}

/// What one step of a load came to.
enum Step {
    More,
    Done(BTreeMap<String, Option<TxnMetadata>>),
    Failed(String),
}

impl<F: StorageFactory> Node<F> {
    /// After the metadata changed: starts loading every `__transaction_state` partition this
    /// node now leads (and hosts), and unloads (or stops loading) those it stopped leading.
    pub(super) fn sync_transaction_leadership(&mut self, now: Millis) {
        if self.broker.is_none() {
            return;
        }
        let led = self.led_partitions(TRANSACTION_STATE_TOPIC);
        let resigned: Vec<i32> = self
            .txns
            .loaded
            .iter()
            .copied()
            .chain(self.txns.loads.partitions.keys().copied())
            .filter(|p| !led.contains(p))
            .collect();
        for partition in resigned {
            self.unload_transaction_partition(partition);
        }
        let elected: Vec<i32> = led
            .into_iter()
            .filter(|p| !self.txns.loaded.contains(p) && !self.txns.loads.contains(*p))
            .collect();
        for partition in elected {
            self.start_transaction_load(now, partition);
        }
    }

    /// Kafka's `onElection`: starts loading `partition`, and takes its first step at once.
    pub(super) fn start_transaction_load(&mut self, now: Millis, partition: i32) {
        if self.begin_transaction_load(partition, now) {
            self.step_transaction_load(now, partition);
        }
    }

    /// A load of `partition` from its log start to its log end now, first stepped at `due`;
    /// false if the partition is not hosted here.
    fn begin_transaction_load(&mut self, partition: i32, due: Millis) -> bool {
        let tp = TopicPartition::new(TRANSACTION_STATE_TOPIC, partition);
        let Some(snapshot) = self.broker.as_ref().and_then(|b| b.partition(&tp)) else {
            return false;
        };
        let load = TxnLoad {
            next: snapshot.log_start_offset,
            end: snapshot.log_end_offset,
            states: BTreeMap::new(),
            due,
        };
        self.txns.loads.partitions.insert(partition, load);
        true
    }

    /// One step of every load that is due (from [`Node::tick_transactions`]).
    pub(super) fn step_transaction_loads(&mut self, now: Millis) {
        let due: Vec<i32> = self
            .txns
            .loads
            .partitions
            .iter()
            .filter(|(_, l)| l.due <= now)
            .map(|(&p, _)| p)
            .collect();
        for partition in due {
            self.step_transaction_load(now, partition);
        }
    }

    /// Reads one chunk of `partition`'s log; serves its ids once it is all read.
    fn step_transaction_load(&mut self, now: Millis, partition: i32) {
        match self.read_transaction_chunk(partition) {
            Step::More => {}
            Step::Done(states) => {
                self.txns.loads.partitions.remove(&partition);
                self.finish_transaction_load(now, partition, states);
            }
            Step::Failed(reason) => {
                self.event(Event::StorageError {
                    description: format!(
                        "{TRANSACTION_STATE_TOPIC}-{partition}: cannot load: {reason}; retrying in \
                         {TXN_LOAD_RETRY_BACKOFF_MS} ms"
                    ),
                });
                self.txns.loads.partitions.remove(&partition);
                // Started over from the log as it is then.
                self.begin_transaction_load(partition, now.plus(Millis(TXN_LOAD_RETRY_BACKOFF_MS)));
            }
        }
    }

    /// The ids read go into the coordinator; Prepare* transactions resume.
    fn finish_transaction_load(
        &mut self,
        now: Millis,
        partition: i32,
        states: BTreeMap<String, Option<TxnMetadata>>,
    ) {
        let ids: Vec<String> = states.keys().cloned().collect();
        for (id, txn) in states {
            match &txn {
                Some(txn) => {
                    self.txns.written.insert(id.clone(), txn.clone());
                }
                None => {
                    self.txns.written.remove(&id);
                }
            }
            self.txns.coordinator.load(&id, txn);
        }
        self.txns.loaded.insert(partition);
        for id in &ids {
            self.send_durable_markers(now, id);
        }
    }

    fn read_transaction_chunk(&mut self, partition: i32) -> Step {
        let tp = TopicPartition::new(TRANSACTION_STATE_TOPIC, partition);
        let chunk_bytes = self.txns.loads.chunk_bytes;
        let (Some(broker), Some(load)) =
            (&self.broker, self.txns.loads.partitions.get_mut(&partition))
        else {
            return Step::Failed("not hosted here".into());
        };
        if load.next >= load.end {
            return Step::Done(std::mem::take(&mut load.states));
        }
        let Some(bytes) = broker.read_log(&tp, load.next, chunk_bytes, load.end) else {
            return Step::Failed(format!("offset {} cannot be read", load.next));
        };
        // The log reads at least one whole batch when one is there: none is left below the
        // end (compaction can leave a gap at the tail).
        if bytes.is_empty() {
            return Step::Done(std::mem::take(&mut load.states));
        }
        match decode_txn_chunk(&bytes, load.next, &mut load.states) {
            Ok(next) if next > load.next => {
                load.next = next;
                if load.next >= load.end {
                    Step::Done(std::mem::take(&mut load.states))
                } else {
                    Step::More
                }
            }
            // Nothing whole below the end: the log changed under the load.
            Ok(_) => Step::Failed(format!("no whole batch at offset {}", load.next)),
            Err(reason) => Step::Failed(reason),
        }
    }
}

/// Reads the records at or after `from` in the whole batches of `bytes` into `states` (the
/// last of each id wins; control batches, the markers of transactional writes, are skipped):
/// the offset after the last batch read.
fn decode_txn_chunk(
    bytes: &[u8],
    from: i64,
    states: &mut BTreeMap<String, Option<TxnMetadata>>,
) -> Result<i64, String> {
    let mut next = from;
    for (range, summary) in split_batches(bytes).map_err(|e| e.to_string())? {
        if !summary.header.is_control() {
            let records = decode_records(&bytes[range]).map_err(|e| e.to_string())?;
            for record in records.into_iter().filter(|r| r.offset >= from) {
                let key = record
                    .key
                    .ok_or_else(|| format!("a record without a key at {}", record.offset))?;
                let (id, txn) = decode_txn_record(&key, record.value.as_deref())
                    .map_err(|e| format!("offset {}: {e}", record.offset))?;
                states.insert(id, txn);
            }
        }
        next = next.max(summary.header.next_offset());
    }
    Ok(next)
}
