//! OffsetForLeaderEpoch as the leader answers it.

use crate::ErrorCode;
use crate::broker::produce::ACKS_ALL;
use crate::broker::{EpochEndOffset, OffsetForLeaderEpochPartition, OffsetForLeaderEpochRequest};

use super::cluster::Cluster;

fn ask(c: &Cluster, broker: i32, current: Option<i32>, epoch: i32) -> (ErrorCode, i32, i64) {
    let request = OffsetForLeaderEpochRequest {
        replica_id: -1,
        partitions: vec![OffsetForLeaderEpochPartition {
            tp: Cluster::tp(),
            current_leader_epoch: current,
            leader_epoch: epoch,
        }],
    };
    let [
        EpochEndOffset {
            error,
            leader_epoch,
            end_offset,
            ..
        },
    ] = &c.broker(broker).offset_for_leader_epoch(&request)[..]
    else {
        panic!("one answer per partition")
    };
    (*error, *leader_epoch, *end_offset)
}

#[test]
fn end_offsets_of_epochs_fencing_and_unknowns() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    c.produce(ACKS_ALL, 3);
    c.advance(100);
    c.crash(1);
    c.produce(ACKS_ALL, 2);
    c.advance(100);
    assert_eq!(c.leader(), 2);
    assert_eq!(
        ask(&c, 2, Some(1), 0),
        (ErrorCode::NONE, 0, 3),
        "epoch 0 ended where epoch 1 began"
    );
    assert_eq!(
        ask(&c, 2, Some(1), 1),
        (ErrorCode::NONE, 1, 5),
        "the current epoch ends at the log end"
    );
    assert_eq!(ask(&c, 2, None, -1), (ErrorCode::NONE, -1, -1), "undefined");
    assert_eq!(
        ask(&c, 2, None, 7),
        (ErrorCode::NONE, -1, -1),
        "newer than any known"
    );
    assert_eq!(ask(&c, 2, Some(0), 0).0, ErrorCode::FENCED_LEADER_EPOCH);
    assert_eq!(ask(&c, 2, Some(2), 0).0, ErrorCode::UNKNOWN_LEADER_EPOCH);
    assert_eq!(ask(&c, 3, Some(1), 0).0, ErrorCode::NOT_LEADER_OR_FOLLOWER);
}

#[test]
fn a_new_leader_that_has_not_written_still_answers_for_the_old_epoch() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    c.produce(ACKS_ALL, 3);
    c.advance(100);
    c.crash(1);
    assert_eq!(ask(&c, 2, Some(1), 0), (ErrorCode::NONE, 0, 3));
}
