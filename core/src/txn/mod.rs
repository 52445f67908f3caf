//! The transaction coordinator (KIP-98), sans-IO: one [`TransactionCoordinator`] holds the
//! transactions of the transactional ids whose `__transaction_state` partition this node
//! leads, and moves each through Kafka's states (`TransactionState`):
//!
//! ```text
//! Empty --AddPartitions/AddOffsets--> Ongoing --EndTxn(commit)--> PrepareCommit --markers--> CompleteCommit
//!                                            \--EndTxn(abort)/timeout/fence--> PrepareAbort --markers--> CompleteAbort
//! ```
//!
//! - **InitProducerId** with a `transactional.id`: a new id starts at epoch 0; a known one gets
//!   its epoch bumped, which fences the previous instance (its requests now fail with
//!   PRODUCER_FENCED). An open transaction is aborted first (with the bumped epoch) and the
//!   client asked to retry (CONCURRENT_TRANSACTIONS), as Kafka's `TransactionCoordinator.
//!   handleInitProducerId` does. `transaction.timeout.ms` above `transaction.max.timeout.ms`
//!   is INVALID_TRANSACTION_TIMEOUT. A recovering producer (KIP-360) that names its current
//!   id and epoch gets the epoch bumped; asking again with that same epoch (its answer was
//!   lost) gets the current epoch (Kafka's `lastProducerEpoch`); any other epoch is
//!   PRODUCER_FENCED. An epoch about to run out (`Short.MAX_VALUE - 1`) starts over with a new
//!   producer id at epoch 0; a retry of that rotation naming the old id gets the new one
//!   (Kafka's `lastProducerId`).
//! - **AddPartitionsToTxn / AddOffsetsToTxn** record the partitions a transaction writes to
//!   (the offsets partition of the group for offsets); **EndTxn** moves it to Prepare* and
//!   hands back the markers the node must write ([`TxnMarkerWrite`]) to every partition;
//!   the node reports each written marker ([`TransactionCoordinator::marker_written`]) and
//!   the transaction completes with the last.
//! - Transactions open longer than their timeout are aborted by
//!   [`TransactionCoordinator::expire`], with an epoch bump (Kafka's `abortTimedOutTransactions`).
//! - Transactional ids idle (Empty, CompleteCommit, CompleteAbort) for
//!   `transactional.id.expiration.ms` since their last change (`TxnMetadata::last_update`) are
//!   found by [`TransactionCoordinator::expired_ids`]; the node writes their tombstones and
//!   then [`TransactionCoordinator::remove`]s them (`node/txn_expiry.rs`).
//!
//! The state machine is pure memory; the node writes each transition to `__transaction_state`
//! in Kafka's record format ([`encode_txn_record`], `log_format.rs`) and loads a partition's
//! records back with [`TransactionCoordinator::load`] when it becomes its leader
//! (`node/txn_state_log.rs`); [`TransactionCoordinator::marker_written`] takes a written
//! marker's partition out of a Prepare* transaction, completing it with the last.
//!
//! Errors follow Kafka: an unknown id is INVALID_PRODUCER_ID_MAPPING, another producer id
//! the same, an older epoch PRODUCER_FENCED (the wire layer turns that into
//! INVALID_PRODUCER_EPOCH for request versions that predate it), a transaction between
//! Prepare* and Complete* CONCURRENT_TRANSACTIONS (retriable; the node answers the same while
//! a state write of the id is in flight, Kafka's pending transition).

use std::collections::{BTreeMap, BTreeSet};

use crate::assignor::TopicPartition;
use crate::batch::EndTxnMarker;
use crate::broker::TxnMarkerWrite;
use crate::{ErrorCode, Millis};

mod admin;
pub use admin::{
    ListTransactionsFilter, ListedTransaction, TRANSACTION_STATE_NAMES, TransactionDescription,
    TransactionListing,
};

/// `transaction.state.log.num.partitions`'s default.
pub const TRANSACTION_STATE_PARTITIONS: i32 = 50;
/// The internal topic of transaction state.
pub const TRANSACTION_STATE_TOPIC: &str = "__transaction_state";
/// `transaction.max.timeout.ms`'s default (15 minutes).
pub const TRANSACTION_MAX_TIMEOUT_MS: i64 = 900_000;

/// The partition of `__transaction_state` for `transactional_id`: `abs(hashCode) % count`, as
/// Kafka's `TransactionStateManager.partitionFor`.
pub fn transaction_partition(transactional_id: &str, partition_count: i32) -> i32 {
    crate::group::offsets_partition(transactional_id, partition_count)
}

/// Kafka's `TransactionState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
}

/// One transactional id's state (Kafka's `TransactionMetadata`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TxnMetadata {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The epoch before the last bump a recovering producer asked for with its current
    /// epoch (KIP-360, Kafka's `lastProducerEpoch`): a retry of that InitProducerId, whose
    /// answer was lost, gets the current epoch again instead of PRODUCER_FENCED. `None`
    /// after any other bump (a new instance, a timeout, a fencing abort).
    #[serde(default)]
    pub last_producer_epoch: Option<i16>,
    /// The producer id before a rotation (the epoch ran out) a recovering producer asked for
    /// with its current id and epoch (KIP-360, Kafka's `lastProducerId`): a retry naming that
    /// id and its exhausted epoch gets the new id again. `None` after any other change.
    #[serde(default)]
    pub last_producer_id: Option<i64>,
    pub timeout_ms: i64,
    pub state: TxnState,
    /// The partitions of the open (or completing) transaction.
    pub partitions: BTreeSet<TopicPartition>,
    /// When the open transaction began (its first AddPartitions/AddOffsets).
    pub started: Millis,
    /// The groups whose offsets the transaction commits (AddOffsetsToTxn).
    pub groups: BTreeSet<String>,
    /// When the id's state last changed (Kafka's `txnLastUpdateTimestamp`, the record's
    /// `TransactionLastUpdateTimestampMs`): `transactional.id.expiration.ms` counts from it.
    #[serde(default)]
    pub last_update: Millis,
}

/// What InitProducerId comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitOutcome {
    /// The producer id and epoch to answer.
    Ready {
        producer_id: i64,
        producer_epoch: i16,
    },
    /// A fresh producer id is needed: ask again with one.
    NeedProducerId,
    /// An open transaction was aborted to fence its producer: write these markers (none
    /// when it wrote nothing: the abort is then complete already); the client is answered
    /// CONCURRENT_TRANSACTIONS and retries, as Kafka's.
    Fencing(Vec<TxnMarkerWrite>),
}

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub struct TransactionCoordinator {
    txns: BTreeMap<String, TxnMetadata>,
    /// `transaction.max.timeout.ms`.
    max_timeout_ms: i64,
}

impl TransactionCoordinator {
    pub fn new(max_timeout_ms: i64) -> TransactionCoordinator {
        TransactionCoordinator {
            txns: BTreeMap::new(),
            max_timeout_ms,
        }
    }

    pub fn get(&self, transactional_id: &str) -> Option<&TxnMetadata> {
        self.txns.get(transactional_id)
    }

    /// Every transactional id with its state.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &TxnMetadata)> {
        self.txns.iter()
    }

    /// InitProducerId for `transactional_id` (see the module docs). `fresh_producer_id` is a
    /// new id from the node's block when the caller has one; `expected` the producer id and
    /// epoch the client says it has (v3+, KIP-360), `None` when it sends -1.
    pub fn init_producer_id(
        &mut self,
        transactional_id: &str,
        timeout_ms: i64,
        expected: Option<(i64, i16)>,
        fresh_producer_id: Option<i64>,
        coordinator_epoch: i32,
        now: Millis,
    ) -> Result<InitOutcome, ErrorCode> {
        self.check_timeout(timeout_ms)?;
        let Some(txn) = self.txns.get_mut(transactional_id) else {
            let Some(producer_id) = fresh_producer_id else {
                return Ok(InitOutcome::NeedProducerId);
            };
            self.txns.insert(
                transactional_id.to_string(),
                TxnMetadata {
                    producer_id,
                    producer_epoch: 0,
                    last_producer_epoch: None,
                    last_producer_id: None,
                    timeout_ms,
                    state: TxnState::Empty,
                    partitions: BTreeSet::new(),
                    started: now,
                    groups: BTreeSet::new(),
                    last_update: now,
                },
            );
            return Ok(InitOutcome::Ready {
                producer_id,
                producer_epoch: 0,
            });
        };
        let retry = expected.is_some_and(|(producer_id, epoch)| {
            let bumped = producer_id == txn.producer_id && epoch != txn.producer_epoch;
            // A retry of a rotation names the id before it, with its exhausted epoch (Kafka's
            // `isValidProducerId` with `lastProducerId`).
            let rotated = producer_id != txn.producer_id
                && Some(producer_id) == txn.last_producer_id
                && epoch >= i16::MAX - 1;
            (bumped || rotated) && Some(epoch) == txn.last_producer_epoch
        });
        if let Some((producer_id, epoch)) = expected
            && (producer_id != txn.producer_id || epoch != txn.producer_epoch)
            && !retry
        {
            // KIP-360: a producer recovering with an id and epoch that are no longer current
            // (nor the epoch just before a bump it asked for) was fenced by another instance.
            return Err(ErrorCode::PRODUCER_FENCED);
        }
        match txn.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => {
                Err(ErrorCode::CONCURRENT_TRANSACTIONS)
            }
            // A retry of a bump that succeeded (Kafka's `prepareIncrementProducerEpoch`): the
            // current epoch again, not bumped.
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort if retry => {
                txn.timeout_ms = timeout_ms;
                txn.last_update = now;
                Ok(InitOutcome::Ready {
                    producer_id: txn.producer_id,
                    producer_epoch: txn.producer_epoch,
                })
            }
            // Any other epoch than the current one (a retry after the producer began a new
            // transaction cannot come from it: it had its answer).
            _ if retry => Err(ErrorCode::PRODUCER_FENCED),
            TxnState::Ongoing => {
                txn.producer_epoch = txn.producer_epoch.saturating_add(1);
                txn.last_producer_epoch = None;
                txn.last_producer_id = None;
                txn.timeout_ms = timeout_ms;
                txn.last_update = now;
                Ok(InitOutcome::Fencing(end(txn, false, coordinator_epoch)))
            }
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                // An epoch about to run out starts over with a new producer id.
                if txn.producer_epoch >= i16::MAX - 1 {
                    let Some(producer_id) = fresh_producer_id else {
                        return Ok(InitOutcome::NeedProducerId);
                    };
                    // Only a producer that said which id and epoch it has may retry this
                    // rotation (Kafka's `prepareProducerIdRotation` with `recordLastEpoch`).
                    txn.last_producer_id = expected.map(|_| txn.producer_id);
                    txn.last_producer_epoch = expected.map(|_| txn.producer_epoch);
                    txn.producer_id = producer_id;
                    txn.producer_epoch = 0;
                } else {
                    // Only a producer that said which epoch it has may retry this bump.
                    txn.last_producer_epoch = expected.map(|_| txn.producer_epoch);
                    txn.last_producer_id = None;
                    txn.producer_epoch += 1;
                }
                txn.timeout_ms = timeout_ms;
                txn.last_update = now;
                txn.state = TxnState::Empty;
                txn.partitions.clear();
                txn.groups.clear();
                Ok(InitOutcome::Ready {
                    producer_id: txn.producer_id,
                    producer_epoch: txn.producer_epoch,
                })
            }
        }
    }

    /// `transaction.timeout.ms` (`timeout_ms`) above `transaction.max.timeout.ms`, or not
    /// positive, is INVALID_TRANSACTION_TIMEOUT (Kafka's `validateTransactionTimeoutMs`).
    pub fn check_timeout(&self, timeout_ms: i64) -> Result<(), ErrorCode> {
        if timeout_ms <= 0 || timeout_ms > self.max_timeout_ms {
            return Err(ErrorCode::INVALID_TRANSACTION_TIMEOUT);
        }
        Ok(())
    }

    /// AddPartitionsToTxn: the transaction will write to `partitions`; it opens if it was not.
    pub fn add_partitions(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[TopicPartition],
        now: Millis,
    ) -> Result<(), ErrorCode> {
        let txn = self.check(transactional_id, producer_id, producer_epoch)?;
        match txn.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => {
                Err(ErrorCode::CONCURRENT_TRANSACTIONS)
            }
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                txn.state = TxnState::Ongoing;
                txn.started = now;
                txn.last_update = now;
                txn.partitions = partitions.iter().cloned().collect();
                txn.groups.clear();
                Ok(())
            }
            TxnState::Ongoing => {
                txn.partitions.extend(partitions.iter().cloned());
                txn.last_update = now;
                Ok(())
            }
        }
    }

    /// AddOffsetsToTxn: the transaction commits offsets of `group_id`, whose offsets partition
    /// is `offsets_partition` (added like any partition).
    pub fn add_offsets(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        group_id: &str,
        offsets_partition: TopicPartition,
        now: Millis,
    ) -> Result<(), ErrorCode> {
        self.add_partitions(
            transactional_id,
            producer_id,
            producer_epoch,
            &[offsets_partition],
            now,
        )?;
        let txn = self.txns.get_mut(transactional_id).expect("checked above");
        txn.groups.insert(group_id.to_string());
        Ok(())
    }

    /// EndTxn: commit or abort. From Ongoing, moves to Prepare* and returns the markers to
    /// write (none if the transaction wrote nothing: it completes at once). A retry of the
    /// same end after it completed is answered again; the other end is INVALID_TXN_STATE.
    pub fn end_txn(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        coordinator_epoch: i32,
        now: Millis,
    ) -> Result<Vec<TxnMarkerWrite>, ErrorCode> {
        let txn = self.check(transactional_id, producer_id, producer_epoch)?;
        match (txn.state, commit) {
            (TxnState::Ongoing, _) => {
                txn.last_update = now;
                Ok(end(txn, commit, coordinator_epoch))
            }
            (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => Ok(Vec::new()),
            (TxnState::PrepareCommit, true) | (TxnState::PrepareAbort, false) => {
                Err(ErrorCode::CONCURRENT_TRANSACTIONS)
            }
            // Kafka lets an abort of a transaction that never began succeed.
            (TxnState::Empty, false) => Ok(Vec::new()),
            _ => Err(ErrorCode::INVALID_TXN_STATE),
        }
    }

    /// The marker of one partition of the transaction of `transactional_id` is written (or
    /// will never be: its partition was deleted): the partition leaves the transaction, which
    /// completes once none is left (Kafka's `TransactionMetadata.removePartition` and
    /// `TransactionMarkerChannelManager.maybeWriteTxnCompletion`). Returns whether it
    /// completed. Markers of a transaction that moved on (a later epoch) complete nothing.
    pub fn marker_written(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        tp: &TopicPartition,
        now: Millis,
    ) -> bool {
        let Some(txn) = self.txns.get_mut(transactional_id) else {
            return false;
        };
        if txn.producer_id != producer_id
            || txn.producer_epoch != producer_epoch
            || !matches!(txn.state, TxnState::PrepareCommit | TxnState::PrepareAbort)
        {
            return false;
        }
        txn.partitions.remove(tp);
        if txn.partitions.is_empty() {
            txn.last_update = now;
            complete(txn);
            return true;
        }
        false
    }

    /// Aborts every transaction open longer than its timeout, bumping its epoch so the
    /// producer is fenced; returns the markers to write per transactional id.
    pub fn expire(
        &mut self,
        now: Millis,
        coordinator_epoch: i32,
    ) -> Vec<(String, Vec<TxnMarkerWrite>)> {
        let mut aborted = Vec::new();
        for (id, txn) in &mut self.txns {
            let timeout = Millis(u64::try_from(txn.timeout_ms).unwrap_or(0));
            if txn.state == TxnState::Ongoing && now >= txn.started.plus(timeout) {
                txn.producer_epoch = txn.producer_epoch.saturating_add(1);
                txn.last_producer_epoch = None;
                txn.last_producer_id = None;
                txn.last_update = now;
                aborted.push((id.clone(), end(txn, false, coordinator_epoch)));
            }
        }
        aborted
    }

    /// The earliest time a transaction times out, for the node's timer.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.txns
            .values()
            .filter(|txn| txn.state == TxnState::Ongoing)
            .map(|txn| {
                txn.started
                    .plus(Millis(u64::try_from(txn.timeout_ms).unwrap_or(0)))
            })
            .min()
    }

    /// The transactional ids whose `transactional.id.expiration.ms` (`expiration`) has passed
    /// at `now` (Kafka's `TransactionStateManager.shouldExpire`): in Empty, CompleteCommit or
    /// CompleteAbort and last updated at or before `now - expiration`. An open or completing
    /// transaction never expires. The node writes each one's tombstone, then [`Self::remove`]s it.
    pub fn expired_ids(&self, now: Millis, expiration: Millis) -> Vec<String> {
        self.txns
            .iter()
            .filter(|(_, txn)| {
                matches!(
                    txn.state,
                    TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
                ) && txn.last_update.plus(expiration) <= now
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Forgets `transactional_id` (its tombstone is written): a later InitProducerId starts
    /// it over with a new producer id. Returns what it held.
    pub fn remove(&mut self, transactional_id: &str) -> Option<TxnMetadata> {
        self.txns.remove(transactional_id)
    }

    /// Kafka's first checks of AddPartitionsToTxn and EndTxn: an unknown id or another
    /// producer id is INVALID_PRODUCER_ID_MAPPING, another epoch PRODUCER_FENCED.
    pub fn check_producer(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
    ) -> Result<(), ErrorCode> {
        let txn = self
            .txns
            .get(transactional_id)
            .ok_or(ErrorCode::INVALID_PRODUCER_ID_MAPPING)?;
        if txn.producer_id != producer_id {
            return Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING);
        }
        if producer_epoch != txn.producer_epoch {
            return Err(ErrorCode::PRODUCER_FENCED);
        }
        Ok(())
    }

    /// Puts `transactional_id`'s state as read from its `__transaction_state` partition
    /// (`None`: a tombstone, the id is forgotten), when this node becomes its coordinator.
    pub fn load(&mut self, transactional_id: &str, txn: Option<TxnMetadata>) {
        match txn {
            Some(txn) => {
                self.txns.insert(transactional_id.to_string(), txn);
            }
            None => {
                self.txns.remove(transactional_id);
            }
        }
    }

    /// The markers `transactional_id`'s transaction still needs if it is in Prepare*.
    pub fn markers_of(
        &self,
        transactional_id: &str,
        coordinator_epoch: i32,
    ) -> Option<Vec<TxnMarkerWrite>> {
        let txn = self.txns.get(transactional_id)?;
        let commit = match txn.state {
            TxnState::PrepareCommit => true,
            TxnState::PrepareAbort => false,
            _ => return None,
        };
        Some(markers(txn, commit, coordinator_epoch))
    }

    /// Forgets the transactional ids of a `__transaction_state` partition this node stopped
    /// leading.
    pub fn unload(&mut self, mut belongs: impl FnMut(&str) -> bool) {
        self.txns.retain(|id, _| !belongs(id));
    }

    fn check(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
    ) -> Result<&mut TxnMetadata, ErrorCode> {
        self.check_producer(transactional_id, producer_id, producer_epoch)?;
        Ok(self.txns.get_mut(transactional_id).expect("checked"))
    }
}

/// Ends the open `txn`: moves it to PrepareCommit or PrepareAbort and returns the markers to
/// write, or completes it at once when it wrote to no partition (no marker will ever come
/// back to complete it).
fn end(txn: &mut TxnMetadata, commit: bool, coordinator_epoch: i32) -> Vec<TxnMarkerWrite> {
    let markers = prepare(txn, commit, coordinator_epoch);
    if markers.is_empty() {
        complete(txn);
    }
    markers
}

/// Moves `txn` to PrepareCommit or PrepareAbort; the markers to write.
fn prepare(txn: &mut TxnMetadata, commit: bool, coordinator_epoch: i32) -> Vec<TxnMarkerWrite> {
    txn.state = if commit {
        TxnState::PrepareCommit
    } else {
        TxnState::PrepareAbort
    };
    markers(txn, commit, coordinator_epoch)
}

fn markers(txn: &TxnMetadata, commit: bool, coordinator_epoch: i32) -> Vec<TxnMarkerWrite> {
    txn.partitions
        .iter()
        .map(|tp| TxnMarkerWrite {
            tp: tp.clone(),
            marker: EndTxnMarker {
                producer_id: txn.producer_id,
                producer_epoch: txn.producer_epoch,
                coordinator_epoch,
                commit,
            },
        })
        .collect()
}

fn complete(txn: &mut TxnMetadata) {
    txn.state = match txn.state {
        TxnState::PrepareCommit => TxnState::CompleteCommit,
        _ => TxnState::CompleteAbort,
    };
    txn.partitions.clear();
}

mod log_format;
#[cfg(test)]
mod tests;

pub use log_format::{TxnLogError, decode_txn_record, encode_txn_record};
