//! `transactional.id.expiration.ms` (KIP-98; Kafka's `TransactionStateManager.
//! removeExpiredTransactionalIds`): every `transaction.remove.expired.transaction.cleanup.
//! interval.ms` the coordinator looks for the ids it serves whose transaction is not open
//! (Empty, CompleteCommit, CompleteAbort), with no state write pending, whose state last
//! changed `transactional.id.expiration.ms` ago or more
//! ([`crate::txn::TransactionCoordinator::expired_ids`]). For each it appends a tombstone
//! (null value) to the id's `__transaction_state` partition with acks=all, and forgets the id
//! only once that write is in the ISR; until then the id's requests get
//! CONCURRENT_TRANSACTIONS (Kafka's pending `Dead` transition). A failed tombstone keeps the
//! id, and its state is written again (the write may have reached the log). Loading a
//! partition honours tombstones (`txn_state_log.rs`). Once forgotten, DescribeTransactions
//! answers TRANSACTIONAL_ID_NOT_FOUND, ListTransactions omits it, and the producer's next
//! InitProducerId starts over with a new producer id.

use super::{Event, Node};
use crate::broker::StorageFactory;
use crate::txn::TRANSACTION_STATE_TOPIC;
use crate::{ErrorCode, Millis};

impl<F: StorageFactory> Node<F> {
    /// From the timer ([`Node::tick_transactions`]): looks for expired ids once
    /// `transaction.remove.expired.transaction.cleanup.interval.ms` has passed since the
    /// last look (the first interval counts from the first tick).
    pub(super) fn tick_transactional_id_expiry(&mut self, now: Millis) {
        let interval = Millis(
            self.config
                .broker
                .transaction_remove_expired_transaction_cleanup_interval_ms
                .max(1),
        );
        match self.txns.expiry_check_at {
            Some(at) if now < at => {}
            Some(_) => {
                self.txns.expiry_check_at = Some(now.plus(interval));
                self.remove_expired_transactional_ids(now);
            }
            None => self.txns.expiry_check_at = Some(now.plus(interval)),
        }
    }

    /// Writes the tombstone of every expired id this node serves whose current state is in
    /// its log and has no write in flight.
    fn remove_expired_transactional_ids(&mut self, now: Millis) {
        let expiration = Millis(self.config.broker.transactional_id_expiration_ms);
        for id in self.txns.coordinator.expired_ids(now, expiration) {
            let waiting_init = self
                .txns
                .inits
                .values()
                .any(|init| init.transactional_id == id);
            if !self.txn_durable(&id) || waiting_init || self.transaction_gate(&id).is_err() {
                continue;
            }
            if let Some(number) = self.append_txn_record(now, &id, None) {
                self.txns.expiring.insert(id, number);
            }
        }
    }

    /// `transactional_id`'s tombstone is in the ISR: it is forgotten.
    pub(super) fn transactional_id_expired(&mut self, transactional_id: &str) {
        self.txns.coordinator.remove(transactional_id);
        self.txns.written.remove(transactional_id);
        self.event(Event::Transaction {
            description: format!(
                "{transactional_id}: expired (transactional.id.expiration.ms), its tombstone is in {TRANSACTION_STATE_TOPIC}"
            ),
        });
    }

    /// Kafka's `pendingTransitionInProgress`: a state write of `transactional_id` (a
    /// transition, or its tombstone) is not yet in the ISR. InitProducerId,
    /// AddPartitionsToTxn, AddOffsetsToTxn and EndTxn are then answered
    /// CONCURRENT_TRANSACTIONS (retriable), as Kafka's `TransactionCoordinator` answers them.
    pub(super) fn txn_transition_pending(&self, transactional_id: &str) -> Result<(), ErrorCode> {
        if self.txns.writing.contains_key(transactional_id) {
            Err(ErrorCode::CONCURRENT_TRANSACTIONS)
        } else {
            Ok(())
        }
    }
}
