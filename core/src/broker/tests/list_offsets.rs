//! ListOffsets answers the leader epoch each record was written in (Kafka's
//! `UnifiedLog.fetchOffsetByTimestamp`), not the current one, except for "latest".

use crate::ErrorCode;
use crate::broker::produce::ACKS_ALL;
use crate::broker::{ListOffsetsPartition, OffsetSpec};

use super::cluster::Cluster;

/// (error, offset, timestamp, leader epoch) of one lookup on the leader.
fn list(c: &Cluster, spec: OffsetSpec) -> (ErrorCode, i64, i64, i32) {
    let request = [ListOffsetsPartition {
        tp: Cluster::tp(),
        spec,
        current_leader_epoch: None,
    }];
    let [listed] = &c.broker(c.leader()).list_offsets(&request)[..] else {
        panic!("one answer per partition")
    };
    (
        listed.error,
        listed.offset,
        listed.timestamp,
        listed.leader_epoch,
    )
}

#[test]
fn each_answer_carries_the_epoch_its_record_was_written_in() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    let t0 = c.now.0 as i64;
    c.produce(ACKS_ALL, 3); // offsets 0-2 at t0, epoch 0
    c.advance(100);
    c.crash(1);
    assert_eq!(c.state().leader_epoch, 1);
    c.advance(1_000);
    let t1 = c.now.0 as i64;
    assert!(t1 > t0);
    c.produce(ACKS_ALL, 2); // offsets 3-4 at t1, epoch 1
    c.advance(100);
    let none = ErrorCode::NONE;
    assert_eq!(list(&c, OffsetSpec::Earliest), (none, 0, -1, 0));
    assert_eq!(
        list(&c, OffsetSpec::Latest),
        (none, 5, -1, 1),
        "latest names the current leader epoch, as Kafka's Partition does"
    );
    assert_eq!(list(&c, OffsetSpec::Timestamp(t0)), (none, 0, t0, 0));
    assert_eq!(list(&c, OffsetSpec::Timestamp(t0 + 1)), (none, 3, t1, 1));
    assert_eq!(list(&c, OffsetSpec::MaxTimestamp), (none, 3, t1, 1));
    assert_eq!(
        list(&c, OffsetSpec::Timestamp(t1 + 1)),
        (none, -1, -1, -1),
        "no record that new"
    );
    // Once the records of epoch 0 are deleted, the earliest offset is epoch 1's.
    let tp = Cluster::tp();
    let leader = c.leader();
    assert_eq!(c.broker_mut(leader).delete_records(&tp, 4), Ok(4));
    assert_eq!(list(&c, OffsetSpec::Earliest), (none, 4, -1, 1));
}

#[test]
fn records_above_the_high_watermark_are_not_found_by_timestamp() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    c.produce(ACKS_ALL, 1);
    c.advance(100);
    let t1 = c.now.0 as i64 + 1_000;
    c.pause(2, true);
    c.pause(3, true);
    c.advance(1_000);
    c.produce(ACKS_ALL, 1); // offset 1 waits for the paused followers
    assert_eq!(list(&c, OffsetSpec::Latest).1, 1);
    assert_eq!(
        list(&c, OffsetSpec::Timestamp(t1)),
        (ErrorCode::NONE, -1, -1, -1)
    );
}

#[test]
fn tiered_storage_specs_without_tiered_storage() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    c.produce(ACKS_ALL, 3);
    c.advance(100);
    let leader = c.leader();
    assert_eq!(
        c.broker_mut(leader).delete_records(&Cluster::tp(), 1),
        Ok(1)
    );
    let none = ErrorCode::NONE;
    assert_eq!(
        list(&c, OffsetSpec::EarliestLocal),
        (none, 1, -1, 0),
        "the local log is the whole log"
    );
    assert_eq!(
        list(&c, OffsetSpec::LatestTiered),
        (none, -1, -1, -1),
        "nothing is tiered"
    );
}

#[test]
fn specs_need_the_version_that_introduced_them() {
    let unsupported = Err(ErrorCode::UNSUPPORTED_VERSION);
    assert_eq!(OffsetSpec::from_wire(-3, 6), unsupported);
    assert_eq!(OffsetSpec::from_wire(-3, 7), Ok(OffsetSpec::MaxTimestamp));
    assert_eq!(OffsetSpec::from_wire(-4, 7), unsupported);
    assert_eq!(OffsetSpec::from_wire(-4, 8), Ok(OffsetSpec::EarliestLocal));
    assert_eq!(OffsetSpec::from_wire(-5, 8), unsupported);
    assert_eq!(OffsetSpec::from_wire(-5, 9), Ok(OffsetSpec::LatestTiered));
    assert_eq!(
        OffsetSpec::from_wire(-6, 10),
        unsupported,
        "earliest pending upload needs v11"
    );
    assert_eq!(OffsetSpec::from_wire(-7, 9), unsupported);
    assert_eq!(OffsetSpec::from_wire(-1, 1), Ok(OffsetSpec::Latest));
    assert_eq!(OffsetSpec::from_wire(0, 1), Ok(OffsetSpec::Timestamp(0)));
}
