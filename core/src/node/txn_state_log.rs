//! The transaction coordinator's state in `__transaction_state` (Kafka's
//! `TransactionStateManager`): every transition of a transactional id is appended as one
//! record (Kafka's `TransactionLogKey`/`TransactionLogValue`, `txn::encode_txn_record`) to the
//! id's partition with acks=all; the leader of a partition loads it when elected and resumes
//! what it holds, and forgets it when it stops leading.
//!
//! - **Write before act.** A transaction's markers go out only once its PrepareCommit or
//!   PrepareAbort record is in the ISR (so a coordinator that takes over never aborts what
//!   a marker already committed). The answer to a client waits for the writes its call
//!   issued ([`Node::collect_txn_writes`]). A request that finds a write of its id still
//!   in flight (a transition, or an expired id's tombstone) is answered
//!   CONCURRENT_TRANSACTIONS and retried by the client, as Kafka answers a pending
//!   transition (`txn_expiry.rs`); one that asks for the state already written (a retried
//!   EndTxn after it completed, partitions already in the transaction) is answered at once,
//!   as Kafka's. The node holds the answer (`txn_init.rs`) and gives it as an
//!   `Output::Respond`, to the simulator's clients and the server's connections alike; a
//!   failed write is answered NOT_COORDINATOR, as Kafka answers a failed append, and the
//!   client retries.
//! - **What is written.** A record when the producer id, epoch, state, timeout or start
//!   changes, and when an Ongoing transaction gains partitions; not when a marker of a
//!   Prepare* transaction lands (as Kafka, which writes the Complete* record once all did).
//!   A write that failed is written again by the retry timer.
//! - **Loading** (`txn_state_load.rs`). On becoming the leader of a partition (after the
//!   metadata changed) the node reads its log to the end, a bounded chunk per step, the last
//!   record of each id winning (a tombstone, an expired id, forgets it), and then serves the
//!   ids; Prepare* transactions get their markers written again, Ongoing ones are aborted
//!   when their timeout (counted from the start timestamp in the record) passes. Until then
//!   its ids are answered COORDINATOR_LOAD_IN_PROGRESS.

use std::collections::BTreeSet;

use super::{Event, Node, Waiting};
use crate::assignor::TopicPartition;
use crate::batch::BatchBuilder;
use crate::broker::{ACKS_ALL, AppendOrigin, ProducePartition, ProduceRequest, StorageFactory};
use crate::group::RequestId;
use crate::txn::{
    TRANSACTION_STATE_TOPIC, TxnMetadata, TxnState, encode_txn_record, transaction_partition,
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
    /// written ([`same_record`]), acks=all; the call being collected
    /// ([`Node::collect_txn_writes`]) depends on that write. (A client request never finds a
    /// write of its id in flight here: it was answered CONCURRENT_TRANSACTIONS,
    /// `txn_expiry.rs`'s `txn_transition_pending`.)
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

    /// Kafka's `removeTransactionsForTxnTopicPartition`: the partition's ids leave this node.
    pub(super) fn unload_transaction_partition(&mut self, partition: i32) {
        self.txns.loaded.remove(&partition);
        self.txns.loads.cancel(partition);
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
