//! Transactions on a partition leader: markers through WriteTxnMarkers, read_committed
//! fetches stopping at the last stable offset with the aborted transactions of the range,
//! and ListOffsets answering the LSO for read_committed.

use crate::ErrorCode;
use crate::Millis;
use crate::assignor::TopicPartition;
use crate::batch::{BatchBuilder, EndTxnMarker, split_batches};
use crate::broker::{
    FetchPartition, FetchRequest, FetchedPartition, IsolationLevel, ListOffsetsPartition,
    MemoryStorageFactory, OffsetSpec, Output, TxnMarkerWrite,
};
use crate::group::RequestId;

use super::{Broker, produce_acks1, sole_leader_of};

fn tp() -> TopicPartition {
    TopicPartition::new("t", 0)
}

fn txn_batch(producer_id: i64, seq: i32, values: &[&str]) -> Vec<u8> {
    let mut builder = BatchBuilder::new()
        .idempotent(producer_id, 0, seq)
        .transactional();
    for value in values {
        builder.push(0, None, Some(value.as_bytes()), &[]);
    }
    builder.build()
}

fn fetch(
    broker: &mut Broker<MemoryStorageFactory>,
    isolation_level: IsolationLevel,
) -> FetchedPartition {
    let request = FetchRequest {
        replica_id: -1,
        max_wait_ms: Millis(0),
        min_bytes: 0,
        max_bytes: 1 << 20,
        isolation_level,
        partitions: vec![FetchPartition {
            tp: tp(),
            fetch_offset: 0,
            partition_max_bytes: 1 << 20,
            current_leader_epoch: None,
        }],
    };
    broker.fetch(RequestId(900), request, Millis(0));
    loop {
        match broker.poll_output().expect("a fetch answer") {
            Output::Fetched { response, .. } => return response.partitions[0].clone(),
            Output::Produced { .. } => {}
        }
    }
}

fn latest(broker: &Broker<MemoryStorageFactory>, isolation: IsolationLevel) -> i64 {
    let request = [ListOffsetsPartition {
        tp: tp(),
        spec: OffsetSpec::Latest,
        current_leader_epoch: None,
    }];
    broker.list_offsets_isolated(&request, isolation)[0].offset
}

fn write_marker(
    broker: &mut Broker<MemoryStorageFactory>,
    producer_id: i64,
    commit: bool,
) -> ErrorCode {
    let marker = EndTxnMarker {
        producer_id,
        producer_epoch: 0,
        coordinator_epoch: 0,
        commit,
    };
    let write = TxnMarkerWrite { tp: tp(), marker };
    broker.write_txn_markers(RequestId(500), vec![write], Millis(1_000), Millis(0));
    loop {
        if let Output::Produced { request, response } = broker.poll_output().expect("an answer")
            && request == RequestId(500)
        {
            return response.partitions[0].error;
        }
    }
}

fn drain(broker: &mut Broker<MemoryStorageFactory>) {
    while broker.poll_output().is_some() {}
}

#[test]
fn read_committed_stops_at_the_last_stable_offset_until_the_marker() {
    let mut broker = sole_leader_of(&tp());
    produce_acks1(&mut broker, 1, &tp(), txn_batch(10, 0, &["a", "b"]));
    drain(&mut broker);
    let uncommitted = fetch(&mut broker, IsolationLevel::ReadUncommitted);
    assert_eq!(uncommitted.high_watermark, 2);
    assert_eq!(uncommitted.last_stable_offset, 0);
    assert!(!uncommitted.records.is_empty());
    let committed = fetch(&mut broker, IsolationLevel::ReadCommitted);
    assert!(committed.records.is_empty(), "nothing is stable yet");
    assert_eq!(latest(&broker, IsolationLevel::ReadCommitted), 0);
    assert_eq!(latest(&broker, IsolationLevel::ReadUncommitted), 2);

    assert_eq!(write_marker(&mut broker, 10, true), ErrorCode::NONE);
    let committed = fetch(&mut broker, IsolationLevel::ReadCommitted);
    assert_eq!(committed.last_stable_offset, 3);
    assert_eq!(
        split_batches(&committed.records).unwrap().len(),
        2,
        "data and marker"
    );
    assert!(committed.aborted_transactions.is_empty());
    assert_eq!(latest(&broker, IsolationLevel::ReadCommitted), 3);
}

#[test]
fn read_committed_reports_the_aborted_transactions_of_the_range() {
    let mut broker = sole_leader_of(&tp());
    produce_acks1(&mut broker, 1, &tp(), txn_batch(10, 0, &["a"]));
    produce_acks1(&mut broker, 2, &tp(), txn_batch(11, 0, &["b"]));
    drain(&mut broker);
    assert_eq!(write_marker(&mut broker, 10, false), ErrorCode::NONE);
    // Producer 11's transaction is still open at offset 1: the LSO stays there.
    let committed = fetch(&mut broker, IsolationLevel::ReadCommitted);
    assert_eq!(committed.last_stable_offset, 1);
    assert_eq!(committed.aborted_transactions.len(), 1);
    assert_eq!(committed.aborted_transactions[0].producer_id, 10);
    assert_eq!(committed.aborted_transactions[0].first_offset, 0);
    // A read_uncommitted fetch gets no aborted list.
    assert!(
        fetch(&mut broker, IsolationLevel::ReadUncommitted)
            .aborted_transactions
            .is_empty()
    );
    assert_eq!(write_marker(&mut broker, 11, true), ErrorCode::NONE);
    let committed = fetch(&mut broker, IsolationLevel::ReadCommitted);
    assert_eq!(committed.last_stable_offset, 4);
    assert_eq!(committed.aborted_transactions.len(), 1);
}

#[test]
fn a_marker_for_a_partition_not_led_here_is_refused() {
    let mut broker = sole_leader_of(&tp());
    let marker = EndTxnMarker {
        producer_id: 1,
        producer_epoch: 0,
        coordinator_epoch: 0,
        commit: true,
    };
    let write = TxnMarkerWrite {
        tp: TopicPartition::new("other", 0),
        marker,
    };
    broker.write_txn_markers(RequestId(7), vec![write], Millis(1_000), Millis(0));
    match broker.poll_output() {
        Some(Output::Produced { response, .. }) => assert_eq!(
            response.partitions[0].error,
            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn describe_producers_reports_the_open_transaction_and_the_coordinator_epoch() {
    let mut broker = sole_leader_of(&tp());
    produce_acks1(&mut broker, 1, &tp(), txn_batch(10, 0, &["a", "b"]));
    drain(&mut broker);
    let described = broker.describe_producers(&tp()).unwrap();
    assert_eq!(described.len(), 1);
    assert_eq!(described[0].current_txn_start_offset, 0);
    assert_eq!(described[0].coordinator_epoch, -1, "no marker yet");
    assert_eq!(write_marker(&mut broker, 10, true), ErrorCode::NONE);
    let described = broker.describe_producers(&tp()).unwrap();
    assert_eq!(described[0].current_txn_start_offset, -1, "none open");
    assert_eq!(described[0].coordinator_epoch, 0, "the marker's");
    // The next transaction starts after the marker.
    produce_acks1(&mut broker, 2, &tp(), txn_batch(10, 2, &["c"]));
    drain(&mut broker);
    let described = broker.describe_producers(&tp()).unwrap();
    assert_eq!(described[0].current_txn_start_offset, 3);
}
