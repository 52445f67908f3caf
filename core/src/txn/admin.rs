//! What the transaction coordinator tells administrators (KIP-664): DescribeTransactions
//! (one transactional id's state) and ListTransactions (every transactional id it holds,
//! filtered by state, producer id and, KIP-994, how long the transaction has been open). The
//! answers are built here so that the real broker and the simulator say the same; the wire
//! layer only translates them.
//!
//! Kafka's rules, from `TransactionCoordinator.handleDescribeTransactions` and
//! `TransactionStateManager.listTransactionStates`: states go by their names (`Ongoing`,
//! `PrepareCommit`, ...); the start time is -1 until the transaction's first partition is
//! added (state `Empty`), and afterwards the time that happened, kept through `Complete*`;
//! a state filter naming no state Kafka has is answered back in `unknown_state_filters`;
//! the duration filter keeps transactions open longer than it (`now - start > duration`),
//! -1 keeps all.

use crate::Millis;
use crate::assignor::TopicPartition;

use super::{TransactionCoordinator, TxnMetadata, TxnState};

/// Every state name Kafka's `TransactionState.fromName` knows, for the state filters of
/// ListTransactions: the six Partita's coordinator goes through, and Kafka's `Dead` (an id
/// being expired) and `PrepareEpochFence` (an epoch bump being written), which it never is
/// in (a filter naming them matches nothing, and is not unknown).
pub const TRANSACTION_STATE_NAMES: [&str; 8] = [
    "Empty",
    "Ongoing",
    "PrepareCommit",
    "PrepareAbort",
    "CompleteCommit",
    "CompleteAbort",
    "Dead",
    "PrepareEpochFence",
];

impl TxnState {
    /// Kafka's name for the state (`TransactionState.name`), as DescribeTransactions and
    /// ListTransactions put it on the wire.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
        }
    }
}

/// One transactional id's state, as DescribeTransactions answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionDescription {
    pub transactional_id: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub state: TxnState,
    /// `transaction.timeout.ms` the producer asked for.
    pub timeout_ms: i64,
    /// When the current (or last) transaction added its first partition, in ms since the
    /// epoch; -1 in state `Empty` (no transaction since InitProducerId), as Kafka's
    /// `txnStartTimestamp`.
    pub start_time_ms: i64,
    /// The partitions of the open transaction, or those whose markers are still being
    /// written (Prepare*); none once it completed. In order, topic then partition.
    pub partitions: Vec<TopicPartition>,
}

/// ListTransactions' filters. Empty lists and a negative duration keep everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListTransactionsFilter {
    /// State names ([`TRANSACTION_STATE_NAMES`]); a transaction in any of them is kept.
    pub states: Vec<String>,
    /// Producer ids; a transaction of any of them is kept.
    pub producer_ids: Vec<i64>,
    /// Keep only transactions open longer than this many ms (ListTransactions v1, KIP-994);
    /// negative keeps all.
    pub duration_ms: i64,
}

impl Default for ListTransactionsFilter {
    fn default() -> Self {
        ListTransactionsFilter {
            states: Vec::new(),
            producer_ids: Vec::new(),
            duration_ms: -1,
        }
    }
}

/// One row of ListTransactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedTransaction {
    pub transactional_id: String,
    pub producer_id: i64,
    pub state: TxnState,
}

/// ListTransactions' answer (without its error code).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionListing {
    /// The state filters that name no state Kafka knows, as given.
    pub unknown_state_filters: Vec<String>,
    /// The transactions the filters keep, by transactional id.
    pub transactions: Vec<ListedTransaction>,
}

impl TransactionCoordinator {
    /// DescribeTransactions for `transactional_id`; `None` when this coordinator has no
    /// state for it (the wire answers TRANSACTIONAL_ID_NOT_FOUND).
    pub fn describe(&self, transactional_id: &str) -> Option<TransactionDescription> {
        let txn = self.get(transactional_id)?;
        Some(TransactionDescription {
            transactional_id: transactional_id.to_string(),
            producer_id: txn.producer_id,
            producer_epoch: txn.producer_epoch,
            state: txn.state,
            timeout_ms: txn.timeout_ms,
            start_time_ms: start_time_ms(txn),
            partitions: txn.partitions.iter().cloned().collect(),
        })
    }

    /// ListTransactions: the transactional ids `coordinated` says this node coordinates,
    /// kept by `filter` at time `now` (see the module docs).
    pub fn list(
        &self,
        filter: &ListTransactionsFilter,
        now: Millis,
        mut coordinated: impl FnMut(&str) -> bool,
    ) -> TransactionListing {
        let unknown_state_filters = filter
            .states
            .iter()
            .filter(|name| !TRANSACTION_STATE_NAMES.contains(&name.as_str()))
            .cloned()
            .collect();
        let transactions = self
            .iter()
            .filter(|(id, txn)| coordinated(id) && keeps(filter, txn, now))
            .map(|(id, txn)| ListedTransaction {
                transactional_id: id.clone(),
                producer_id: txn.producer_id,
                state: txn.state,
            })
            .collect();
        TransactionListing {
            unknown_state_filters,
            transactions,
        }
    }
}

/// Kafka's `txnStartTimestamp`: -1 before the first partition of a transaction is added.
fn start_time_ms(txn: &TxnMetadata) -> i64 {
    match txn.state {
        TxnState::Empty => -1,
        _ => i64::try_from(txn.started.0).unwrap_or(i64::MAX),
    }
}

/// Kafka's `shouldInclude`: every non-empty filter must match.
fn keeps(filter: &ListTransactionsFilter, txn: &TxnMetadata, now: Millis) -> bool {
    if !filter.producer_ids.is_empty() && !filter.producer_ids.contains(&txn.producer_id) {
        return false;
    }
    if !filter.states.is_empty() && !filter.states.iter().any(|s| s == txn.state.name()) {
        return false;
    }
    if filter.duration_ms >= 0 {
        let now_ms = i64::try_from(now.0).unwrap_or(i64::MAX);
        let open_ms = now_ms.saturating_sub(start_time_ms(txn));
        if open_ms <= filter.duration_ms {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::{InitOutcome, TRANSACTION_MAX_TIMEOUT_MS};

    /// A coordinator with "idle" initialized (Empty), "open" writing to out-0 and out-1 since
    /// t=1000, and "done" committed after starting at t=2000.
    fn coordinator() -> TransactionCoordinator {
        let mut c = TransactionCoordinator::new(TRANSACTION_MAX_TIMEOUT_MS);
        for (pid, id) in [(10, "idle"), (11, "open"), (12, "done")] {
            let outcome = c.init_producer_id(id, 60_000, None, Some(pid), 0, Millis(500));
            assert!(
                matches!(outcome, Ok(InitOutcome::Ready { .. })),
                "{outcome:?}"
            );
        }
        let out = |p| TopicPartition::new("out", p);
        c.add_partitions("open", 11, 0, &[out(1), out(0)], Millis(1000))
            .unwrap();
        c.add_partitions("done", 12, 0, &[out(2)], Millis(2000))
            .unwrap();
        let markers = c.end_txn("done", 12, 0, true, 0, Millis(0)).unwrap();
        assert_eq!(markers.len(), 1);
        for m in &markers {
            c.marker_written("done", 12, 0, &m.tp, Millis(2500));
        }
        c
    }

    fn ids(listing: &TransactionListing) -> Vec<&str> {
        listing
            .transactions
            .iter()
            .map(|t| t.transactional_id.as_str())
            .collect()
    }

    #[test]
    fn describe_answers_kafkas_fields() {
        let c = coordinator();
        let open = c.describe("open").unwrap();
        assert_eq!(open.state.name(), "Ongoing");
        assert_eq!((open.producer_id, open.producer_epoch), (11, 0));
        assert_eq!((open.timeout_ms, open.start_time_ms), (60_000, 1000));
        assert_eq!(
            open.partitions,
            vec![TopicPartition::new("out", 0), TopicPartition::new("out", 1)]
        );
        let idle = c.describe("idle").unwrap();
        assert_eq!((idle.state.name(), idle.start_time_ms), ("Empty", -1));
        let done = c.describe("done").unwrap();
        assert_eq!(done.state.name(), "CompleteCommit");
        assert_eq!(done.start_time_ms, 2000, "kept after completion, as Kafka");
        assert!(done.partitions.is_empty());
        assert_eq!(c.describe("nobody"), None);
    }

    #[test]
    fn list_filters_by_state_producer_id_and_duration() {
        let c = coordinator();
        let list =
            |filter: ListTransactionsFilter, now: u64| c.list(&filter, Millis(now), |_| true);
        let all = list(ListTransactionsFilter::default(), 3000);
        assert_eq!(ids(&all), ["done", "idle", "open"]);
        assert_eq!(all.transactions[2].state, TxnState::Ongoing);
        assert_eq!(all.transactions[2].producer_id, 11);

        let states = ListTransactionsFilter {
            states: vec!["Ongoing".into(), "CompleteCommit".into(), "Sleeping".into()],
            ..Default::default()
        };
        let by_state = list(states, 3000);
        assert_eq!(ids(&by_state), ["done", "open"]);
        assert_eq!(by_state.unknown_state_filters, ["Sleeping"]);

        let dead = ListTransactionsFilter {
            states: vec!["Dead".into()],
            ..Default::default()
        };
        let none = list(dead, 3000);
        assert!(none.transactions.is_empty() && none.unknown_state_filters.is_empty());

        let producers = ListTransactionsFilter {
            producer_ids: vec![10, 12, 99],
            ..Default::default()
        };
        assert_eq!(ids(&list(producers, 3000)), ["done", "idle"]);

        // At t=3000 "open" has run 2000 ms and "done" 1000 ms; "idle" has no start (-1),
        // so, as in Kafka, any duration keeps it.
        let longer = |ms| ListTransactionsFilter {
            duration_ms: ms,
            ..Default::default()
        };
        assert_eq!(ids(&list(longer(1500), 3000)), ["idle", "open"]);
        assert_eq!(ids(&list(longer(2000), 3000)), ["idle"], "strictly longer");
        assert_eq!(ids(&list(longer(0), 3000)), ["done", "idle", "open"]);
    }

    #[test]
    fn list_keeps_only_the_ids_this_node_coordinates() {
        let c = coordinator();
        let listing = c.list(&ListTransactionsFilter::default(), Millis(3000), |id| {
            id != "open"
        });
        assert_eq!(ids(&listing), ["done", "idle"]);
    }

    #[test]
    fn every_state_has_a_name_kafka_knows() {
        for state in [
            TxnState::Empty,
            TxnState::Ongoing,
            TxnState::PrepareCommit,
            TxnState::PrepareAbort,
            TxnState::CompleteCommit,
            TxnState::CompleteAbort,
        ] {
            assert!(TRANSACTION_STATE_NAMES.contains(&state.name()));
        }
    }
}
