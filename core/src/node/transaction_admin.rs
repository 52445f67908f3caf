//! The node's answers to the transaction admin APIs (KIP-664): DescribeTransactions for one
//! transactional id and ListTransactions for every id this node coordinates, built by the
//! core's coordinator ([`crate::txn::TransactionCoordinator::describe`] and `list`) and
//! gated, as in Kafka's `TransactionStateManager`, on this node leading the id's partition
//! of `__transaction_state` and having loaded it.

use super::Node;
use crate::broker::StorageFactory;
use crate::txn::{
    ListTransactionsFilter, TRANSACTION_STATE_TOPIC, TransactionDescription, TransactionListing,
};
use crate::{ErrorCode, Millis};

impl<F: StorageFactory> Node<F> {
    /// DescribeTransactions for `transactional_id` (Kafka's
    /// `TransactionCoordinator.handleDescribeTransactions`): COORDINATOR_NOT_AVAILABLE on a
    /// node without the broker role, INVALID_REQUEST for an empty id, NOT_COORDINATOR when
    /// another node leads the id's partition of `__transaction_state` (or the topic does not
    /// exist yet: FindCoordinator creates it), COORDINATOR_LOAD_IN_PROGRESS while this node
    /// leads it but has not loaded it, TRANSACTIONAL_ID_NOT_FOUND when the coordinator has no
    /// state for it.
    pub fn describe_transaction(
        &self,
        transactional_id: &str,
    ) -> Result<TransactionDescription, ErrorCode> {
        if self.broker.is_none() {
            return Err(ErrorCode::COORDINATOR_NOT_AVAILABLE);
        }
        if transactional_id.is_empty() {
            return Err(ErrorCode::INVALID_REQUEST);
        }
        self.transaction_gate(transactional_id)?;
        self.txns
            .coordinator
            .describe(transactional_id)
            .ok_or(ErrorCode::TRANSACTIONAL_ID_NOT_FOUND)
    }

    /// ListTransactions at `now` (Kafka's `TransactionStateManager.listTransactionStates`):
    /// the transactional ids this node coordinates that `filter` keeps. Every broker answers
    /// for its own ids, so a full listing asks every broker (as Kafka's admin client does).
    /// COORDINATOR_NOT_AVAILABLE on a node without the broker role, and, as in Kafka,
    /// COORDINATOR_LOAD_IN_PROGRESS while it leads a partition of `__transaction_state` it
    /// has not loaded yet.
    pub fn list_transactions(
        &self,
        filter: &ListTransactionsFilter,
        now: Millis,
    ) -> Result<TransactionListing, ErrorCode> {
        if self.broker.is_none() {
            return Err(ErrorCode::COORDINATOR_NOT_AVAILABLE);
        }
        if self.loading_transaction_partitions() {
            return Err(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
        }
        Ok(self
            .txns
            .coordinator
            .list(filter, now, |id| self.coordinates_transaction(id)))
    }

    /// Whether this node coordinates `transactional_id`: it leads its partition of
    /// `__transaction_state` and has loaded it.
    fn coordinates_transaction(&self, transactional_id: &str) -> bool {
        self.transaction_gate(transactional_id).is_ok()
    }

    /// Whether this node leads a partition of `__transaction_state` it has not loaded yet.
    fn loading_transaction_partitions(&self) -> bool {
        self.image
            .topic(TRANSACTION_STATE_TOPIC)
            .is_some_and(|topic| {
                topic.partitions.iter().enumerate().any(|(index, p)| {
                    p.leader == self.config.node_id
                        && !i32::try_from(index).is_ok_and(|i| self.txns.loaded.contains(&i))
                })
            })
    }
}
