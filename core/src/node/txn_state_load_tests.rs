//! Loading a `__transaction_state` partition a bounded chunk per step (`txn_state_load.rs`).

use super::txn_cluster_tests::{Trio, spread_topic};
use super::txn_expiry_tests::{partition_of, transaction};
use super::*;
use crate::txn::ListTransactionsFilter;

/// `txn_state_load.rs`: a partition is read a bounded chunk per step, answered
/// COORDINATOR_LOAD_IN_PROGRESS until all of it is read, and then holds the last state.
#[test]
fn a_transaction_state_partition_loads_a_chunk_per_step() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let (coordinator, _) = transaction(&mut trio, "chunked", &partitions, true);
    // More records for the id: three more epochs.
    for _ in 0..3 {
        trio.init(coordinator, "chunked");
    }
    let before = trio
        .node(coordinator)
        .transaction_coordinator()
        .get("chunked")
        .cloned()
        .expect("there");
    let partition = partition_of(&mut trio, coordinator, "chunked");
    let now = trio.now();
    let node = trio.node(coordinator);
    node.unload_transaction_partition(partition);
    // A batch per step (the log reads at least one whole batch).
    node.txns.loads.chunk_bytes = 1;
    node.start_transaction_load(now, partition);
    assert!(
        !node.txns.loaded.contains(&partition),
        "one chunk is not all"
    );
    assert_eq!(
        node.transaction_gate("chunked"),
        Err(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS)
    );
    assert_eq!(
        node.describe_transaction("chunked"),
        Err(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS)
    );
    assert_eq!(
        node.list_transactions(&ListTransactionsFilter::default(), now)
            .err(),
        Some(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS)
    );
    assert!(
        node.poll_timeout().is_some_and(|at| at <= now),
        "the next step is asked for at once"
    );
    assert!(node.transaction_coordinator().get("chunked").is_none());
    let mut steps = 1;
    while !trio.node(coordinator).txns.loaded.contains(&partition) {
        let now = trio.now();
        trio.node(coordinator).handle_timeout(now);
        steps += 1;
        assert!(steps < 100, "loaded in a bounded number of steps");
    }
    assert!(steps >= 5, "read over several steps: {steps}");
    let after = trio
        .node(coordinator)
        .transaction_coordinator()
        .get("chunked")
        .cloned()
        .expect("loaded");
    assert_eq!(
        (after.producer_id, after.producer_epoch, after.state),
        (before.producer_id, before.producer_epoch, before.state)
    );
    assert_eq!(after.last_update, before.last_update);
    assert!(
        trio.node(coordinator)
            .describe_transaction("chunked")
            .is_ok()
    );
}
