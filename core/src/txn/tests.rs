//! The transaction coordinator's state machine, one behaviour per test.

use super::*;

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("out", p)
}

fn ready(outcome: Result<InitOutcome, ErrorCode>) -> (i64, i16) {
    match outcome {
        Ok(InitOutcome::Ready {
            producer_id,
            producer_epoch,
        }) => (producer_id, producer_epoch),
        other => panic!("{other:?}"),
    }
}

fn started() -> (TransactionCoordinator, i64, i16) {
    let mut c = TransactionCoordinator::new(TRANSACTION_MAX_TIMEOUT_MS);
    assert_eq!(
        c.init_producer_id("app", 60_000, None, None, 0, Millis(0)),
        Ok(InitOutcome::NeedProducerId)
    );
    let (pid, epoch) = ready(c.init_producer_id("app", 60_000, None, Some(1000), 0, Millis(0)));
    (c, pid, epoch)
}

#[test]
fn a_timeout_above_the_maximum_is_refused_at_once() {
    let mut c = TransactionCoordinator::new(1_000);
    assert_eq!(
        c.init_producer_id("app", 1_001, None, Some(1), 0, Millis(0)),
        Err(ErrorCode::INVALID_TRANSACTION_TIMEOUT)
    );
}

#[test]
fn commit_writes_a_marker_to_every_partition_then_completes() {
    let (mut c, pid, epoch) = started();
    assert_eq!((pid, epoch), (1000, 0));
    c.add_partitions("app", pid, epoch, &[tp(0), tp(1)], Millis(5))
        .unwrap();
    let markers = c.end_txn("app", pid, epoch, true, 3, Millis(0)).unwrap();
    assert_eq!(markers.len(), 2);
    assert!(
        markers
            .iter()
            .all(|m| m.marker.commit && m.marker.coordinator_epoch == 3)
    );
    assert_eq!(c.get("app").unwrap().state, TxnState::PrepareCommit);
    // Until the markers are written, the next transaction must wait.
    assert_eq!(
        c.add_partitions("app", pid, epoch, &[tp(0)], Millis(6)),
        Err(ErrorCode::CONCURRENT_TRANSACTIONS)
    );
    written(&mut c, "app", &markers);
    assert_eq!(c.get("app").unwrap().state, TxnState::CompleteCommit);
    // A retried EndTxn is answered again; the opposite end is refused.
    assert_eq!(
        c.end_txn("app", pid, epoch, true, 3, Millis(0)),
        Ok(Vec::new())
    );
    assert_eq!(
        c.end_txn("app", pid, epoch, false, 3, Millis(0)),
        Err(ErrorCode::INVALID_TXN_STATE)
    );
    c.add_partitions("app", pid, epoch, &[tp(2)], Millis(7))
        .unwrap();
    assert_eq!(c.get("app").unwrap().state, TxnState::Ongoing);
}

#[test]
fn a_new_instance_fences_the_old_one_and_aborts_its_transaction() {
    let (mut c, pid, epoch) = started();
    c.add_partitions("app", pid, epoch, &[tp(0)], Millis(0))
        .unwrap();
    let fencing = c
        .init_producer_id("app", 60_000, None, None, 0, Millis(1))
        .unwrap();
    let InitOutcome::Fencing(markers) = fencing else {
        panic!("{fencing:?}")
    };
    assert_eq!(markers.len(), 1);
    assert!(!markers[0].marker.commit);
    assert_eq!(markers[0].marker.producer_epoch, epoch + 1);
    // The client retries while the abort completes.
    assert_eq!(
        c.init_producer_id("app", 60_000, None, None, 0, Millis(2)),
        Err(ErrorCode::CONCURRENT_TRANSACTIONS)
    );
    written(&mut c, "app", &markers);
    let (pid2, epoch2) = ready(c.init_producer_id("app", 60_000, None, None, 0, Millis(3)));
    assert_eq!((pid2, epoch2), (pid, epoch + 2));
    // The zombie is fenced.
    assert_eq!(
        c.add_partitions("app", pid, epoch, &[tp(0)], Millis(4)),
        Err(ErrorCode::PRODUCER_FENCED)
    );
    assert_eq!(
        c.end_txn("app", pid, epoch, true, 0, Millis(0)),
        Err(ErrorCode::PRODUCER_FENCED)
    );
}

#[test]
fn an_unknown_producer_id_is_an_invalid_mapping() {
    let (mut c, pid, epoch) = started();
    assert_eq!(
        c.add_partitions("app", pid + 1, epoch, &[tp(0)], Millis(0)),
        Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING)
    );
    assert_eq!(
        c.add_partitions("other", pid, epoch, &[tp(0)], Millis(0)),
        Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING)
    );
}

#[test]
fn a_transaction_past_its_timeout_is_aborted_with_a_bumped_epoch() {
    let mut c = TransactionCoordinator::new(TRANSACTION_MAX_TIMEOUT_MS);
    let (pid, epoch) = ready(c.init_producer_id("app", 1_000, None, Some(7), 0, Millis(0)));
    c.add_partitions("app", pid, epoch, &[tp(0)], Millis(100))
        .unwrap();
    assert_eq!(c.next_deadline(), Some(Millis(1_100)));
    assert!(c.expire(Millis(1_099), 0).is_empty());
    let aborted = c.expire(Millis(1_100), 0);
    assert_eq!(aborted.len(), 1);
    assert_eq!(aborted[0].1[0].marker.producer_epoch, epoch + 1);
    assert!(!aborted[0].1[0].marker.commit);
    assert_eq!(
        c.end_txn("app", pid, epoch, true, 0, Millis(0)),
        Err(ErrorCode::PRODUCER_FENCED)
    );
    assert_eq!(c.markers_of("app", 0), Some(aborted[0].1.clone()));
    written(&mut c, "app", &aborted[0].1);
    assert_eq!(c.markers_of("app", 0), None);
    assert_eq!(c.get("app").unwrap().state, TxnState::CompleteAbort);
}

#[test]
fn a_recovering_producer_with_a_stale_epoch_is_fenced() {
    let (mut c, pid, epoch) = started();
    ready(c.init_producer_id("app", 60_000, None, None, 0, Millis(1)));
    assert_eq!(
        c.init_producer_id("app", 60_000, Some((pid, epoch)), None, 0, Millis(2)),
        Err(ErrorCode::PRODUCER_FENCED)
    );
}

#[test]
fn transactional_ids_map_to_partitions_as_kafka_does() {
    // Java's "app".hashCode() = 96801; 96801 % 50 = 1.
    assert_eq!(
        transaction_partition("app", TRANSACTION_STATE_PARTITIONS),
        1
    );
}

#[test]
fn fencing_a_transaction_with_no_partitions_completes_at_once() {
    let (mut c, pid, epoch) = started();
    // AddPartitionsToTxn with no partitions opens a transaction that wrote nothing.
    c.add_partitions("app", pid, epoch, &[], Millis(0)).unwrap();
    assert_eq!(c.get("app").unwrap().state, TxnState::Ongoing);
    let fencing = c
        .init_producer_id("app", 60_000, None, None, 0, Millis(1))
        .unwrap();
    // No marker to wait for: the abort is complete (the client still retries, as Kafka's).
    assert_eq!(fencing, InitOutcome::Fencing(Vec::new()));
    assert_eq!(c.get("app").unwrap().state, TxnState::CompleteAbort);
    assert_eq!(c.markers_of("app", 0), None);
    let (pid2, epoch2) = ready(c.init_producer_id("app", 60_000, None, None, 0, Millis(2)));
    assert_eq!((pid2, epoch2), (pid, epoch + 2));
}

#[test]
fn a_retried_epoch_bump_is_answered_the_current_epoch() {
    let (mut c, pid, epoch) = started();
    // KIP-360: the producer recovers with its id and epoch; the bump succeeds but the answer
    // is lost, so it asks again with the same (now previous) epoch.
    let bumped = ready(c.init_producer_id("app", 60_000, Some((pid, epoch)), None, 0, Millis(1)));
    assert_eq!(bumped, (pid, epoch + 1));
    let retried = ready(c.init_producer_id("app", 60_000, Some((pid, epoch)), None, 0, Millis(2)));
    assert_eq!(retried, bumped, "the current epoch, not bumped again");
    // The current epoch bumps as usual, and then the epoch before it is the retriable one.
    let next = ready(c.init_producer_id("app", 60_000, Some(bumped), None, 0, Millis(3)));
    assert_eq!(next, (pid, epoch + 2));
    assert_eq!(
        c.init_producer_id("app", 60_000, Some((pid, epoch)), None, 0, Millis(4)),
        Err(ErrorCode::PRODUCER_FENCED)
    );
    // A new instance (no expected epoch) forgets the previous epoch: the old one is fenced.
    ready(c.init_producer_id("app", 60_000, None, None, 0, Millis(5)));
    assert_eq!(
        c.init_producer_id("app", 60_000, Some(next), None, 0, Millis(6)),
        Err(ErrorCode::PRODUCER_FENCED)
    );
}

/// Each of `markers` of `id`'s transaction is written (the coordinator heard back from every
/// leader).
fn written(c: &mut TransactionCoordinator, id: &str, markers: &[TxnMarkerWrite]) {
    for m in markers {
        c.marker_written(
            id,
            m.marker.producer_id,
            m.marker.producer_epoch,
            &m.tp,
            Millis(0),
        );
    }
}

#[test]
fn only_an_idle_id_past_its_expiration_expires() {
    let (mut c, pid, epoch) = started();
    let expiration = Millis(3_000);
    // Empty since t=0: expires at t=3000, not before.
    assert!(c.expired_ids(Millis(2_999), expiration).is_empty());
    assert_eq!(c.expired_ids(Millis(3_000), expiration), vec!["app"]);
    // An open transaction never expires, however old.
    c.add_partitions("app", pid, epoch, &[tp(0)], Millis(10))
        .unwrap();
    assert!(c.expired_ids(Millis(1_000_000), expiration).is_empty());
    // Nor one being committed; once complete, it counts from the completion.
    let markers = c.end_txn("app", pid, epoch, true, 0, Millis(20)).unwrap();
    assert!(c.expired_ids(Millis(1_000_000), expiration).is_empty());
    for m in &markers {
        c.marker_written("app", pid, epoch, &m.tp, Millis(500));
    }
    assert_eq!(c.get("app").unwrap().state, TxnState::CompleteCommit);
    assert!(c.expired_ids(Millis(3_499), expiration).is_empty());
    assert_eq!(c.expired_ids(Millis(3_500), expiration), vec!["app"]);
    assert!(c.remove("app").is_some());
    assert!(c.get("app").is_none());
}

#[test]
fn an_exhausted_epoch_rotates_the_producer_id_and_a_retry_of_the_rotation_gets_the_new_one() {
    let (mut c, pid, _) = started();
    let mut txn = c.get("app").unwrap().clone();
    let exhausted = i16::MAX - 1;
    txn.producer_epoch = exhausted;
    c.load("app", Some(txn));
    // KIP-360: the recovering producer names its id and exhausted epoch; the coordinator
    // needs a fresh producer id, then answers it at epoch 0.
    assert_eq!(
        c.init_producer_id("app", 60_000, Some((pid, exhausted)), None, 0, Millis(1)),
        Ok(InitOutcome::NeedProducerId)
    );
    let rotated = ready(c.init_producer_id(
        "app",
        60_000,
        Some((pid, exhausted)),
        Some(2000),
        0,
        Millis(1),
    ));
    assert_eq!(rotated, (2000, 0));
    // Its answer was lost: the same request gets the new id again, not another rotation.
    let retried = ready(c.init_producer_id(
        "app",
        60_000,
        Some((pid, exhausted)),
        Some(3000),
        0,
        Millis(2),
    ));
    assert_eq!(retried, (2000, 0));
    // An older epoch of the old id is fenced.
    assert_eq!(
        c.init_producer_id(
            "app",
            60_000,
            Some((pid, exhausted - 1)),
            None,
            0,
            Millis(3)
        ),
        Err(ErrorCode::PRODUCER_FENCED)
    );
    // The new id bumps as usual; after that the old id's retry is fenced.
    assert_eq!(
        ready(c.init_producer_id("app", 60_000, Some((2000, 0)), None, 0, Millis(4))),
        (2000, 1)
    );
    assert_eq!(
        c.init_producer_id("app", 60_000, Some((pid, exhausted)), None, 0, Millis(5)),
        Err(ErrorCode::PRODUCER_FENCED)
    );
}

#[test]
fn a_recovering_producer_with_an_open_transaction_gets_it_aborted_and_retries() {
    let (mut c, pid, epoch) = started();
    c.add_partitions("app", pid, epoch, &[tp(0)], Millis(0))
        .unwrap();
    // KIP-360 with the current epoch while the transaction is open: Kafka aborts it with a
    // bumped epoch and answers CONCURRENT_TRANSACTIONS.
    let fencing = c
        .init_producer_id("app", 60_000, Some((pid, epoch)), None, 0, Millis(1))
        .unwrap();
    let InitOutcome::Fencing(markers) = fencing else {
        panic!("{fencing:?}")
    };
    assert_eq!(markers[0].marker.producer_epoch, epoch + 1);
    written(&mut c, "app", &markers);
    assert_eq!(c.get("app").unwrap().state, TxnState::CompleteAbort);
    // The epoch it had is no longer current nor the one before a bump it asked for: fenced,
    // as Kafka's `prepareIncrementProducerEpoch` answers after `prepareFenceProducerEpoch`.
    assert_eq!(
        c.init_producer_id("app", 60_000, Some((pid, epoch)), None, 0, Millis(2)),
        Err(ErrorCode::PRODUCER_FENCED)
    );
}
