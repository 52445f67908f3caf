//! `transactional.id.expiration.ms` on a three-node cluster (`txn_expiry.rs`): an idle id's
//! tombstone, a failed tombstone write, a reload after the tombstone, an open transaction
//! that never expires.

use super::txn_cluster_tests::{Trio, spread_topic};
use super::*;
use crate::txn::{ListTransactionsFilter, TxnState};

/// Expiration after 3 s of simulated time, looked for every second.
fn quick_expiry() -> Trio {
    let broker = BrokerConfig {
        transactional_id_expiration_ms: 3_000,
        transaction_remove_expired_transaction_cleanup_interval_ms: 1_000,
        ..BrokerConfig::default()
    };
    Trio::with_broker_config(Millis(1_000), broker)
}

/// Inits `id`, writes to `partitions` and, with `end`, commits and waits until CompleteCommit
/// is in the ISR; the producer id and epoch.
pub(super) fn transaction(
    trio: &mut Trio,
    id: &str,
    partitions: &[TopicPartition],
    end: bool,
) -> (BrokerId, (i64, i16)) {
    let coordinator = trio.transaction_coordinator(id);
    let producer = trio.init(coordinator, id);
    let now = trio.now();
    let added = trio
        .node(coordinator)
        .add_partitions_to_txn(now, id, producer.0, producer.1, partitions);
    assert!(
        added.iter().all(|(_, e)| *e == ErrorCode::NONE),
        "{added:?}"
    );
    for tp in partitions {
        trio.produce_txn(tp, producer, 0, 1);
    }
    if end {
        let now = trio.now();
        trio.node(coordinator)
            .end_txn(now, id, producer.0, producer.1, true)
            .expect("prepared");
        trio.run_until(10_000, |t| {
            t.state(coordinator, id) == Some(TxnState::CompleteCommit)
                && t.node(coordinator).txn_durable(id)
        });
    }
    (coordinator, producer)
}

fn listed(trio: &mut Trio, on: BrokerId) -> Vec<String> {
    let now = trio.now();
    trio.node(on)
        .list_transactions(&ListTransactionsFilter::default(), now)
        .expect("listed")
        .transactions
        .into_iter()
        .map(|t| t.transactional_id)
        .collect()
}

pub(super) fn partition_of(trio: &mut Trio, on: BrokerId, id: &str) -> i32 {
    trio.node(on)
        .transaction_state_partition(id)
        .expect("the topic exists")
}

#[test]
fn an_idle_id_expires_with_a_tombstone_and_starts_over_with_a_new_producer_id() {
    let mut trio = quick_expiry();
    let partitions = spread_topic(&mut trio);
    let (coordinator, producer) = transaction(&mut trio, "idle", &partitions, true);
    let committed_at = trio.now();
    assert_eq!(listed(&mut trio, coordinator), vec!["idle".to_string()]);
    trio.run_until(10_000, |t| {
        t.node(coordinator)
            .transaction_coordinator()
            .get("idle")
            .is_none()
    });
    assert!(
        trio.now() >= committed_at.plus(Millis(3_000)),
        "not before transactional.id.expiration.ms"
    );
    assert_eq!(
        trio.node(coordinator).describe_transaction("idle"),
        Err(ErrorCode::TRANSACTIONAL_ID_NOT_FOUND)
    );
    assert!(listed(&mut trio, coordinator).is_empty());
    // Loading the partition again reads the tombstone last: the id stays gone.
    let partition = partition_of(&mut trio, coordinator, "idle");
    let now = trio.now();
    let node = trio.node(coordinator);
    node.unload_transaction_partition(partition);
    node.start_transaction_load(now, partition);
    assert!(node.txns.loaded.contains(&partition), "loaded");
    assert!(node.transaction_coordinator().get("idle").is_none());
    // The producer starts over: a new producer id at epoch 0.
    let again = trio.init(coordinator, "idle");
    assert_ne!(again.0, producer.0, "a new producer id");
    assert_eq!(again.1, 0);
}

#[test]
fn an_open_transaction_never_expires_and_reloads() {
    let mut trio = quick_expiry();
    let partitions = spread_topic(&mut trio);
    let (coordinator, producer) = transaction(&mut trio, "open", &partitions[..1], false);
    // Far past the expiration, within the transaction's own timeout (60 s).
    let until = trio.now().plus(Millis(20_000));
    trio.run_until(30_000, |t| t.now() >= until);
    let state = trio
        .node(coordinator)
        .transaction_coordinator()
        .get("open")
        .cloned()
        .expect("still there");
    assert_eq!(state.state, TxnState::Ongoing);
    assert_eq!((state.producer_id, state.producer_epoch), producer);
    // A reload gives it back (the control for the tombstone test above).
    let partition = partition_of(&mut trio, coordinator, "open");
    let now = trio.now();
    let node = trio.node(coordinator);
    node.unload_transaction_partition(partition);
    assert!(node.transaction_coordinator().get("open").is_none());
    node.start_transaction_load(now, partition);
    assert_eq!(
        node.transaction_coordinator().get("open").map(|t| t.state),
        Some(TxnState::Ongoing)
    );
}

#[test]
fn a_failed_tombstone_write_keeps_the_id_until_one_succeeds() {
    let mut trio = quick_expiry();
    let partitions = spread_topic(&mut trio);
    let (coordinator, producer) = transaction(&mut trio, "kept", &partitions, true);
    // The followers stop answering: the acks=all tombstone times out (before the ISR
    // shrinks).
    for n in [1, 2, 3] {
        if n != coordinator {
            trio.down.insert(n);
        }
    }
    trio.run_until(10_000, |t| {
        t.node(coordinator).txns.expiring.contains_key("kept")
    });
    // Meanwhile the id's requests wait for the pending transition, as Kafka's.
    let now = trio.now();
    assert_eq!(
        trio.node(coordinator)
            .end_txn(now, "kept", producer.0, producer.1, true),
        Err(ErrorCode::CONCURRENT_TRANSACTIONS)
    );
    trio.run_until(20_000, |t| t.node(coordinator).txns.expiring.is_empty());
    assert_eq!(
        trio.state(coordinator, "kept"),
        Some(TxnState::CompleteCommit),
        "a failed tombstone keeps the id"
    );
    assert!(
        trio.node(coordinator).describe_transaction("kept").is_ok(),
        "still described"
    );
    // The followers are back: the state is written again, and a later look removes it.
    trio.down.clear();
    trio.run_until(60_000, |t| t.state(coordinator, "kept").is_none());
    assert_eq!(
        trio.node(coordinator).describe_transaction("kept"),
        Err(ErrorCode::TRANSACTIONAL_ID_NOT_FOUND)
    );
}
