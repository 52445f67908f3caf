//! TxnOffsetCommit across a three-node cluster (`txn_offsets.rs`): the offsets are written to
//! the group's offsets partition as the producer's transactional batch, answered once in the
//! ISR, settled by the transaction's marker, rebuilt by the next coordinator from the log,
//! and rolled back when their write fails.

use super::txn_cluster_tests::{Trio, spread_topic};
use super::txn_offsets::MAX_PENDING_OFFSET_PRODUCERS;
use super::*;
use crate::broker::TxnMarkerWrite;
use crate::group::{CommitOffset, OFFSETS_TOPIC, OffsetFetchError};
use crate::txn::TxnState;

/// The node id of group `g`'s coordinator, once it serves the group.
fn serving_coordinator(trio: &mut Trio) -> BrokerId {
    let mut group_coordinator = 0;
    trio.run_until(20_000, |t| {
        let up = (1..=3).find(|n| !t.down.contains(n)).expect("a live node");
        let now = t.now();
        match t.node(up).find_coordinator(now, "g") {
            Ok(c) if !t.down.contains(&c.node_id) => {
                group_coordinator = c.node_id;
                t.node(c.node_id).group_gate("g").is_ok()
            }
            _ => false,
        }
    });
    group_coordinator
}

/// TxnOffsetCommit of group `g` for `producer`: offset `o` of `tp`, from an older client (no
/// member information).
fn txn_offset_commit(producer: (i64, i16), tp: &TopicPartition, o: i64) -> Request {
    Request::TxnOffsetCommit {
        group_id: "g".to_string(),
        producer_id: producer.0,
        producer_epoch: producer.1,
        generation_id: -1,
        member_id: String::new(),
        group_instance_id: None,
        offsets: vec![(
            tp.clone(),
            CommitOffset {
                offset: o,
                leader_epoch: None,
                metadata: Some("m".to_string()),
            },
        )],
    }
}

/// The one error of a TxnOffsetCommit answer.
fn code_of(answer: Response) -> ErrorCode {
    match answer {
        Response::TxnOffsetCommit(results) => {
            assert_eq!(results.len(), 1, "{results:?}");
            results[0].1
        }
        other => panic!("not a TxnOffsetCommit answer: {other:?}"),
    }
}

/// Group `g`'s committed offset of `tp` on node `on` (OffsetFetch with `require_stable`):
/// `Err` UNSTABLE_OFFSET_COMMIT while a transaction holds one.
fn stable_offset(
    trio: &mut Trio,
    on: BrokerId,
    tp: &TopicPartition,
) -> Result<Option<i64>, OffsetFetchError> {
    let fetched = trio
        .node(on)
        .fetch_offsets("g", Some(std::slice::from_ref(tp)), true)?;
    fetched[0].1.clone().map(|o| o.map(|o| o.offset))
}

/// A transactional id whose coordinator is not node `avoid`, with its coordinator.
fn id_coordinated_elsewhere(trio: &mut Trio, avoid: BrokerId) -> (String, BrokerId) {
    for i in 0.. {
        let id = format!("ctp-{i}");
        let coordinator = trio.transaction_coordinator(&id);
        if coordinator != avoid {
            return (id, coordinator);
        }
    }
    unreachable!()
}

#[test]
fn a_txn_offset_commit_is_answered_once_its_transactional_batch_is_in_the_isr() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let g = serving_coordinator(&mut trio);
    let offsets_tp = TopicPartition::new(OFFSETS_TOPIC, trio.node(g).group_partition("g"));
    let (hw_before, _) = trio.offsets(&offsets_tp);
    let request = trio.submit(g, txn_offset_commit((77, 0), &partitions[0], 10));
    assert!(
        !trio.answered(request),
        "not answered before the followers have the offsets"
    );
    trio.run_until(5_000, |t| t.answered(request));
    assert_eq!(
        code_of(trio.answer(request).expect("answered")),
        ErrorCode::NONE
    );
    // One transactional batch in the offsets partition, holding its last stable offset.
    let (hw, lso) = trio.offsets(&offsets_tp);
    assert_eq!((hw, lso), (hw_before + 1, hw_before), "an open transaction");
    let producers = trio
        .node(g)
        .broker()
        .expect("a broker")
        .describe_producers(&offsets_tp)
        .expect("led here");
    assert!(
        producers
            .iter()
            .any(|p| p.producer_id == 77 && p.current_txn_start_offset == hw_before),
        "{producers:?}"
    );
    assert_eq!(
        stable_offset(&mut trio, g, &partitions[0]),
        Err(OffsetFetchError::UnstableOffsetCommit)
    );
    // The same producer's next commit continues its sequence in the partition.
    let again = trio.call(g, txn_offset_commit((77, 0), &partitions[0], 11));
    assert_eq!(code_of(again), ErrorCode::NONE);
}

/// Kafka's group coordinator keeps pending transactional offsets in `__consumer_offsets`:
/// a coordinator that fails over between TxnOffsetCommit and EndTxn hands them on, and the
/// commit marker makes them the group's offsets on the new coordinator.
#[test]
fn a_group_coordinator_failover_between_txn_offset_commit_and_commit_loses_nothing() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let g = serving_coordinator(&mut trio);
    let (id, coordinator) = id_coordinated_elsewhere(&mut trio, g);
    let producer = trio.init(coordinator, &id);
    let added = trio.call(
        coordinator,
        Request::AddPartitionsToTxn {
            transactional_id: id.clone(),
            producer_id: producer.0,
            producer_epoch: producer.1,
            partitions: vec![partitions[1].clone()],
        },
    );
    assert!(
        matches!(&added, Response::AddPartitionsToTxn(r) if r.iter().all(|(_, e)| *e == ErrorCode::NONE)),
        "{added:?}"
    );
    let add_offsets = Request::AddOffsetsToTxn {
        transactional_id: id.clone(),
        producer_id: producer.0,
        producer_epoch: producer.1,
        group_id: "g".to_string(),
    };
    assert_eq!(
        trio.call(coordinator, add_offsets),
        Response::AddOffsetsToTxn(ErrorCode::NONE)
    );
    trio.produce_txn(&partitions[1], producer, 0, 2);
    let committed = trio.call(g, txn_offset_commit(producer, &partitions[0], 42));
    assert_eq!(code_of(committed), ErrorCode::NONE);

    // The group coordinator dies before EndTxn; another node leads the offsets partition,
    // loads it, and holds the open transaction's offsets as pending.
    trio.down.insert(g);
    let successor = serving_coordinator(&mut trio);
    assert_ne!(successor, g);
    assert!(
        trio.node(successor)
            .txns
            .offsets
            .has_pending_offset("g", &partitions[0]),
        "rebuilt from the log"
    );
    assert_eq!(
        stable_offset(&mut trio, successor, &partitions[0]),
        Err(OffsetFetchError::UnstableOffsetCommit)
    );

    let end = Request::EndTxn {
        transactional_id: id.clone(),
        producer_id: producer.0,
        producer_epoch: producer.1,
        commit: true,
    };
    let ended = trio.call_within(coordinator, end, 30_000);
    assert_eq!(ended, Response::EndTxn(ErrorCode::NONE));
    trio.run_until(60_000, |t| {
        t.state(coordinator, &id) == Some(TxnState::CompleteCommit)
    });
    trio.run_until(10_000, |t| {
        stable_offset(t, successor, &partitions[0]) == Ok(Some(42))
    });
    assert!(trio.node(successor).txns.offsets.by_producer.is_empty());

    // The old coordinator comes back: whoever loads the partition next reads the committed
    // offset from the log (the transactional record and its marker).
    trio.down.remove(&g);
    let partition = trio.node(successor).group_partition("g");
    let now = trio.now();
    trio.node(successor)
        .unload_offsets_partition(now, partition);
    trio.node(successor).start_offsets_load(now, partition);
    trio.run_until(10_000, |t| t.node(successor).group_gate("g").is_ok());
    assert_eq!(
        stable_offset(&mut trio, successor, &partitions[0]),
        Ok(Some(42))
    );
}

#[test]
fn an_aborted_transactions_offsets_are_dropped_live_and_on_load() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let g = serving_coordinator(&mut trio);
    let offsets_tp = TopicPartition::new(OFFSETS_TOPIC, trio.node(g).group_partition("g"));
    let committed = trio.call(g, txn_offset_commit((88, 1), &partitions[0], 7));
    assert_eq!(code_of(committed), ErrorCode::NONE);
    write_marker(&mut trio, g, &offsets_tp, (88, 1), false);
    trio.run_until(5_000, |t| {
        stable_offset(t, g, &partitions[0]) == Ok(None)
            && t.node(g).txns.offsets.by_producer.is_empty()
    });
    let now = trio.now();
    trio.node(g)
        .unload_offsets_partition(now, offsets_tp.partition);
    trio.node(g).start_offsets_load(now, offsets_tp.partition);
    trio.run_until(10_000, |t| t.node(g).group_gate("g").is_ok());
    assert_eq!(stable_offset(&mut trio, g, &partitions[0]), Ok(None));
    assert!(trio.node(g).txns.offsets.by_producer.is_empty());
}

/// Writes `producer`'s marker to offsets partition `tp` through node `on`'s transaction
/// coordinator path (its broker leads the partition).
fn write_marker(
    trio: &mut Trio,
    on: BrokerId,
    tp: &TopicPartition,
    (producer_id, producer_epoch): (i64, i16),
    commit: bool,
) {
    let now = trio.now();
    let marker = crate::batch::EndTxnMarker {
        producer_id,
        producer_epoch,
        coordinator_epoch: 0,
        commit,
    };
    let write = TxnMarkerWrite {
        tp: tp.clone(),
        marker,
    };
    trio.node(on)
        .write_markers(now, "not-coordinated-here", vec![write]);
    trio.node(on).drain_roles(now);
}

#[test]
fn a_txn_offset_commit_whose_write_fails_gets_its_error_and_leaves_nothing_pending() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let g = serving_coordinator(&mut trio);
    // The followers stop answering: the acks=all write times out (before the ISR shrinks).
    for n in [1, 2, 3] {
        if n != g {
            trio.down.insert(n);
        }
    }
    let request = trio.submit(g, txn_offset_commit((99, 0), &partitions[0], 5));
    assert!(
        trio.node(g)
            .txns
            .offsets
            .has_pending_offset("g", &partitions[0]),
        "pending while written"
    );
    trio.run_until(20_000, |t| t.answered(request));
    // Kafka's `storeOffsets` passes a timed-out append's error on; the client looks the
    // coordinator up again and retries.
    assert_eq!(
        code_of(trio.answer(request).expect("answered")),
        ErrorCode::REQUEST_TIMED_OUT
    );
    assert!(
        trio.node(g).txns.offsets.by_producer.is_empty(),
        "the failed write's offsets are not pending"
    );
    assert_eq!(stable_offset(&mut trio, g, &partitions[0]), Ok(None));
}

#[test]
fn pending_transactional_offsets_are_bounded_and_leave_with_their_offsets_partition() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let g = serving_coordinator(&mut trio);
    let held = trio.call(g, txn_offset_commit((77, 3), &partitions[0], 10));
    assert_eq!(code_of(held), ErrorCode::NONE);
    // Bounded: past MAX_PENDING_OFFSET_PRODUCERS producers, one more is refused (retriable);
    // one that already holds offsets may still replace them.
    for id in 1..MAX_PENDING_OFFSET_PRODUCERS as i64 {
        trio.node(g)
            .txns
            .offsets
            .by_producer
            .insert((1000 + id, 0), Vec::new());
    }
    let refused = trio.call(g, txn_offset_commit((78, 0), &partitions[0], 11));
    assert_eq!(code_of(refused), ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
    let replaced = trio.call(g, txn_offset_commit((77, 3), &partitions[0], 11));
    assert_eq!(code_of(replaced), ErrorCode::NONE);
    let node = trio.node(g);
    let partition = node.group_partition("g");
    let now = trio.now();
    let node = trio.node(g);
    node.unload_offsets_partition(now, partition);
    assert!(
        !node.txns.offsets.has_pending_offset("g", &partitions[0]),
        "no UNSTABLE_OFFSET_COMMIT left behind"
    );
    assert!(node.txns.offsets.by_producer.is_empty());
}

#[test]
fn a_zombies_transactional_offsets_are_fenced_and_never_committed_by_its_successor() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let g = serving_coordinator(&mut trio);
    let offsets_tp = TopicPartition::new(OFFSETS_TOPIC, trio.node(g).group_partition("g"));
    let tp = &partitions[0];
    // Epoch 3 of producer 77 writes offset 10; then its successor (epoch 4) writes 20.
    let zombie = trio.call(g, txn_offset_commit((77, 3), tp, 10));
    assert_eq!(code_of(zombie), ErrorCode::NONE);
    let successor = trio.call(g, txn_offset_commit((77, 4), tp, 20));
    assert_eq!(code_of(successor), ErrorCode::NONE);
    // The zombie again: fenced.
    let late = trio.call(g, txn_offset_commit((77, 3), tp, 11));
    assert_eq!(code_of(late), ErrorCode::PRODUCER_FENCED);
    // The successor's commit marker commits its offsets only, not the zombie's.
    write_marker(&mut trio, g, &offsets_tp, (77, 4), true);
    trio.run_until(5_000, |t| stable_offset(t, g, tp) == Ok(Some(20)));
    assert!(
        trio.node(g).txns.offsets.by_producer.is_empty(),
        "the zombie's offsets are dropped"
    );
}

/// Kafka's loader keeps maps, not the log: a partition of many batches, read one batch per
/// step, holds no more than its keys while it loads, and a transaction whose marker is many
/// chunks after its offsets applies them, while one still open stays pending.
#[test]
fn a_load_of_many_chunks_holds_only_the_groups_keys_and_finds_every_transaction() {
    let mut trio = Trio::new();
    let partitions = spread_topic(&mut trio);
    let g = serving_coordinator(&mut trio);
    let offsets_tp = TopicPartition::new(OFFSETS_TOPIC, trio.node(g).group_partition("g"));
    let plain = |trio: &mut Trio, offset: i64| {
        let request = crate::group::test_support::offset_commit("g", -1, "", offset);
        match trio.call(g, Request::OffsetCommit(request)) {
            Response::OffsetCommit(results) => assert_eq!(results[0].1, Ok(())),
            other => panic!("{other:?}"),
        }
    };
    // A committed transaction spanning many batches, then an open one.
    let committed = trio.call(g, txn_offset_commit((70, 0), &partitions[1], 100));
    assert_eq!(code_of(committed), ErrorCode::NONE);
    for offset in 1..=30 {
        plain(&mut trio, offset);
    }
    write_marker(&mut trio, g, &offsets_tp, (70, 0), true);
    let open = trio.call(g, txn_offset_commit((71, 0), &partitions[2], 200));
    assert_eq!(code_of(open), ErrorCode::NONE);
    for offset in 31..=40 {
        plain(&mut trio, offset);
    }
    trio.run_until(5_000, |t| {
        stable_offset(t, g, &partitions[1]) == Ok(Some(100))
    });

    // Loaded again, one batch per step.
    trio.node(g).loads.chunk_bytes = 1;
    let now = trio.now();
    trio.node(g)
        .unload_offsets_partition(now, offsets_tp.partition);
    trio.node(g).start_offsets_load(now, offsets_tp.partition);
    let (mut steps, mut most) = (0, 0);
    trio.run_until(60_000, |t| {
        match t.node(g).loads.held(offsets_tp.partition) {
            Some(held) => {
                steps += 1;
                most = most.max(held);
            }
            None => return t.node(g).group_gate("g").is_ok(),
        }
        false
    });
    assert!(steps > 20, "loaded in {steps} steps");
    // Three keys in effect (t-0, t-1 and the group's metadata at most) and one pending.
    assert!(most <= 4, "{most} records held");
    assert_eq!(stable_offset(&mut trio, g, &partitions[0]), Ok(Some(40)));
    assert_eq!(stable_offset(&mut trio, g, &partitions[1]), Ok(Some(100)));
    assert_eq!(
        stable_offset(&mut trio, g, &partitions[2]),
        Err(OffsetFetchError::UnstableOffsetCommit)
    );
    assert!(
        trio.node(g)
            .txns
            .offsets
            .has_pending_offset("g", &partitions[2])
    );
}
