//! The transaction coordinator's state in `__transaction_state` (Kafka's
//! `TransactionStateManager`): every transition of a transactional id is appended as one
//! record (Kafka's `TransactionLogKey`/`TransactionLogValue`, `txn::encode_txn_record`) to the
//! id's partition with acks=all; the leader of a partition loads it when elected and resumes
//! what it holds, and forgets it when it stops leading.
//!
//! - **Write before act.** A transaction's markers go out only once its PrepareCommit or
//!   PrepareAbort record is in the ISR (so a coordinator that takes over never aborts what
//!   a marker already committed). The answer to a client waits for the writes its call
//!   depends on ([`Node::collect_txn_writes`]): those it issued, and, when the state it asked
//!   for is already the one last written (a retry), the id's write still in flight, so a
//!   retry is answered no sooner than the first request (Kafka answers a request that finds
//!   a transition pending CONCURRENT_TRANSACTIONS; joining the write waits for the same
//!   durability). The node holds the answer (`txn_init.rs`) and gives it as an
//!   `Output::Respond`, to the simulator's clients and the server's connections alike; a
//!   failed write is answered NOT_COORDINATOR, as Kafka answers a failed append, and the
//!   client retries.
//! - **What is written.** A record when the producer id, epoch, state, timeout or start
//!   changes, and when an Ongoing transaction gains partitions; not when a marker of a
//!   Prepare* transaction lands (as Kafka, which writes the Complete* record once all did).
//!   A write that failed is written again by the retry timer.
//! - **Loading.** On becoming the leader of a partition (after the metadata changed) the
//!   node reads its log to the end, the last record of each id winning, and serves the ids
//!   at once; Prepare* transactions get their markers written again, Ongoing ones are
//!   aborted when their timeout (counted from the start timestamp in the record) passes. A
//!   log that does not decode leaves the partition unloaded: its ids are answered
//!   COORDINATOR_LOAD_IN_PROGRESS.

use std::collections::BTreeSet;

use super::offsets_topic::LOAD_CHUNK_BYTES;
use super::{Event, Node, Waiting};
use crate::assignor::TopicPartition;
use crate::batch::{BatchBuilder, decode_records, split_batches};
use crate::broker::{ACKS_ALL, AppendOrigin, ProducePartition, ProduceRequest, StorageFactory};
use crate::group::RequestId;
use crate::txn::{
    TRANSACTION_STATE_TOPIC, TxnMetadata, TxnState, decode_txn_record, encode_txn_record,
    transaction_partition,
};
use crate::{ErrorCode, Millis};

/// How long a write to `__transaction_state` waits for the ISR (Kafka's
/// `transaction.state.log` appends use the request timeout).
pub const TXN_STATE_WRITE_TIMEOUT_MS: u64 = 5_000;
/// Failed write numbers kept for [`Node::txn_writes_done`].
const FAILED_KEPT: usize = 10_000;

/// Whether `a` and `b` would be the same record: the partitions count only while the
/// transaction is open (a Prepare* transaction loses them as its markers land, unwritten).
pub(super) fn same_record(a: &TxnMetadata, b: &TxnMetadata) -> bool {
    a.producer_id == b.producer_id
        && a.producer_epoch == b.producer_epoch
        && a.state == b.state
        && a.timeout_ms == b.timeout_ms
        && a.started == b.started
        && (a.state != TxnState::Ongoing || a.partitions == b.partitions)
}

impl<F: StorageFactory> Node<F> {
    /// Runs `call`, collecting the numbers of the `__transaction_state` writes it depends on
    /// (see the module docs): what an answer to it must wait for.
    pub(super) fn collect_txn_writes<T>(
        &mut self,
        call: impl FnOnce(&mut Self) -> T,
    ) -> (T, BTreeSet<u64>) {
        let outer = self.txns.depends.replace(BTreeSet::new());
        let result = call(self);
        let writes = std::mem::replace(&mut self.txns.depends, outer).unwrap_or_default();
        if let Some(outer) = self.txns.depends.as_mut() {
            outer.extend(writes.iter().copied());
        }
        (result, writes)
    }

    /// Whether the writes numbered `writes` are done: `None` while one is still waiting for
    /// the ISR, `Some(false)` when one failed, else `Some(true)`.
    pub(super) fn txn_writes_done(&self, writes: &BTreeSet<u64>) -> Option<bool> {
        if self
            .txns
            .state_writes
            .values()
            .any(|(_, n)| writes.contains(n))
        {
            return None;
        }
        Some(!writes.iter().any(|n| self.txns.failed_writes.contains(n)))
    }

    /// The latest write of `transactional_id` still waiting for the ISR.
    fn txn_write_in_flight(&self, transactional_id: &str) -> Option<u64> {
        self.txns
            .state_writes
            .values()
            .filter(|(id, _)| id == transactional_id)
            .map(|(_, n)| *n)
            .max()
    }

    /// The partition count of `__transaction_state` (as created).
    fn transaction_state_partitions(&self) -> Option<i32> {
        self.image
            .topic(TRANSACTION_STATE_TOPIC)
            .map(|t| t.partitions.len() as i32)
            .filter(|&n| n > 0)
    }

    pub(super) fn transaction_state_partition(&self, transactional_id: &str) -> Option<i32> {
        self.transaction_state_partitions()
            .map(|count| transaction_partition(transactional_id, count))
    }

    /// Appends `transactional_id`'s state to its partition if it differs from what was last
    /// written ([`same_record`]), acks=all. The call being collected
    /// ([`Node::collect_txn_writes`]) depends on that write, or, when the state was already
    /// written, on the id's write still in flight (a retry waits as the first request did).
    pub(super) fn persist_txn(&mut self, now: Millis, transactional_id: &str) {
        let Some(current) = self.txns.coordinator.get(transactional_id).cloned() else {
            return;
        };
        if self
            .txns
            .written
            .get(transactional_id)
            .is_some_and(|w| same_record(w, &current))
        {
            let in_flight = self.txn_write_in_flight(transactional_id);
            if let (Some(depends), Some(number)) = (self.txns.depends.as_mut(), in_flight) {
                depends.insert(number);
            }
            return;
        }
        if let Some(number) = self.append_txn_record(now, transactional_id, Some(&current)) {
            if let Some(depends) = self.txns.depends.as_mut() {
                depends.insert(number);
            }
            self.txns
                .written
                .insert(transactional_id.to_string(), current);
        }
    }

    /// Appends `transactional_id`'s record (`None`: its tombstone) to its
    /// `__transaction_state` partition with acks=all, counted in `writing` until the broker
    /// answers ([`Node::on_txn_state_written`]): the write's number, `None` without a broker
    /// or the topic.
    pub(super) fn append_txn_record(
        &mut self,
        now: Millis,
        transactional_id: &str,
        txn: Option<&TxnMetadata>,
    ) -> Option<u64> {
        let partition = self.transaction_state_partition(transactional_id)?;
        let broker = self.broker.as_mut()?;
        let (key, value) = encode_txn_record(transactional_id, txn);
        let mut builder = BatchBuilder::new();
        builder.push(now.0 as i64, Some(&key), value.as_deref(), &[]);
        self.next_request += 1;
        let id = RequestId(self.next_request);
        self.txns.next_write += 1;
        let number = self.txns.next_write;
        self.pending.insert(id, Waiting::TxnStateWrite);
        self.txns
            .state_writes
            .insert(id, (transactional_id.to_string(), number));
        *self
            .txns
            .writing
            .entry(transactional_id.to_string())
            .or_default() += 1;
        let produce = ProduceRequest {
            acks: ACKS_ALL,
            timeout_ms: Millis(TXN_STATE_WRITE_TIMEOUT_MS),
            partitions: vec![ProducePartition {
                tp: TopicPartition::new(TRANSACTION_STATE_TOPIC, partition),
                records: builder.build(),
            }],
        };
        broker.produce_from(id, produce, AppendOrigin::Coordinator, now);
        Some(number)
    }

    /// The broker answered a state write (from `drain_broker`): a Prepare* transaction now
    /// durable gets its markers sent; a failed write is written again later.
    pub(super) fn on_txn_state_written(
        &mut self,
        now: Millis,
        request: RequestId,
        error: ErrorCode,
    ) {
        let Some((transactional_id, number)) = self.txns.state_writes.remove(&request) else {
            return;
        };
        if let Some(count) = self.txns.writing.get_mut(&transactional_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.txns.writing.remove(&transactional_id);
            }
        }
        let tombstone = self.txns.expiring.get(&transactional_id) == Some(&number);
        if tombstone {
            self.txns.expiring.remove(&transactional_id);
        }
        if error != ErrorCode::NONE {
            self.event(Event::Transaction {
                description: format!(
                    "{TRANSACTION_STATE_TOPIC}: the state of {transactional_id} was not written (written again later): {}",
                    error.name()
                ),
            });
            self.txns.failed_writes.insert(number);
            while self.txns.failed_writes.len() > FAILED_KEPT {
                self.txns.failed_writes.pop_first();
            }
            self.txns.written.remove(&transactional_id);
            self.schedule_marker_retry(now);
        } else if tombstone {
            self.transactional_id_expired(&transactional_id);
        } else {
            self.send_durable_markers(now, &transactional_id);
        }
        self.release_txn_answers();
    }

    /// Whether `transactional_id`'s current state is in its log (written and acknowledged).
    pub(super) fn txn_durable(&self, transactional_id: &str) -> bool {
        let Some(current) = self.txns.coordinator.get(transactional_id) else {
            return false;
        };
        !self.txns.writing.contains_key(transactional_id)
            && self
                .txns
                .written
                .get(transactional_id)
                .is_some_and(|w| same_record(w, current))
    }

    /// Sends the markers of `transactional_id` if it is in Prepare*, durably, and has no
    /// marker write out.
    pub(super) fn send_durable_markers(&mut self, now: Millis, transactional_id: &str) {
        if !self.txn_durable(transactional_id)
            || self
                .txns
                .in_flight
                .values()
                .any(|w| w.transactional_id == transactional_id)
        {
            return;
        }
        let Ok(epoch) = self.transaction_gate(transactional_id) else {
            return;
        };
        if let Some(markers) = self.txns.coordinator.markers_of(transactional_id, epoch) {
            self.write_markers(now, transactional_id, markers);
        }
    }

    /// After the metadata changed: loads every `__transaction_state` partition this node now
    /// leads (and hosts), and unloads those it stopped leading.
    pub(super) fn sync_transaction_leadership(&mut self, now: Millis) {
        if self.broker.is_none() {
            return;
        }
        let led = self.led_partitions(TRANSACTION_STATE_TOPIC);
        let resigned: Vec<i32> = self.txns.loaded.difference(&led).copied().collect();
        for partition in resigned {
            self.unload_transaction_partition(partition);
        }
        let elected: Vec<i32> = led.difference(&self.txns.loaded).copied().collect();
        for partition in elected {
            self.load_transaction_partition(now, partition);
        }
    }

    /// Kafka's `TransactionStateManager.loadTransactionsForTxnTopicPartition`: reads the log
    /// to its end, then resumes the Prepare* transactions.
    pub(super) fn load_transaction_partition(&mut self, now: Millis, partition: i32) {
        let tp = TopicPartition::new(TRANSACTION_STATE_TOPIC, partition);
        let Some(broker) = &self.broker else {
            return;
        };
        let Some(snapshot) = broker.partition(&tp) else {
            return;
        };
        let mut states: Vec<(String, Option<TxnMetadata>)> = Vec::new();
        let mut offset = snapshot.log_start_offset;
        let end = snapshot.log_end_offset;
        let mut failure = None;
        'read: while offset < end {
            let Some(bytes) = broker.read_log(&tp, offset, LOAD_CHUNK_BYTES, end) else {
                break;
            };
            let batches = match split_batches(&bytes) {
                Ok(batches) if !batches.is_empty() => batches,
                Ok(_) => break,
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            };
            for (range, summary) in batches {
                let next = summary.header.next_offset();
                if !summary.header.is_control() {
                    let records = match decode_records(&bytes[range]) {
                        Ok(records) => records,
                        Err(e) => {
                            failure = Some(e.to_string());
                            break 'read;
                        }
                    };
                    for record in records.into_iter().filter(|r| r.offset >= offset) {
                        let Some(key) = record.key else {
                            failure = Some(format!("a record without a key at {}", record.offset));
                            break 'read;
                        };
                        match decode_txn_record(&key, record.value.as_deref()) {
                            Ok(state) => states.push(state),
                            Err(e) => {
                                failure = Some(format!("offset {}: {e}", record.offset));
                                break 'read;
                            }
                        }
                    }
                }
                offset = offset.max(next);
            }
        }
        if let Some(reason) = failure {
            self.event(Event::StorageError {
                description: format!(
                    "{TRANSACTION_STATE_TOPIC}-{partition}: cannot load: {reason}"
                ),
            });
            return;
        }
        let mut ids = BTreeSet::new();
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
            ids.insert(id);
        }
        self.txns.loaded.insert(partition);
        for id in &ids {
            self.send_durable_markers(now, id);
        }
    }

    /// Kafka's `removeTransactionsForTxnTopicPartition`: the partition's ids leave this node.
    pub(super) fn unload_transaction_partition(&mut self, partition: i32) {
        self.txns.loaded.remove(&partition);
        let Some(count) = self.transaction_state_partitions() else {
            return;
        };
        let belongs = |id: &str| transaction_partition(id, count) == partition;
        self.txns.coordinator.unload(belongs);
        self.txns.written.retain(|id, _| !belongs(id));
        self.txns.expiring.retain(|id, _| !belongs(id));
        self.txns
            .in_flight
            .retain(|_, w| !belongs(&w.transactional_id));
    }
}
