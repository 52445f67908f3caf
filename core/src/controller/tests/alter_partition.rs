//! AlterPartition: a leader's ISR changes, and every way they are refused.

use super::{Harness, render};
use crate::controller::*;
use crate::{ErrorCode, Millis};

#[test]
fn alter_partition_is_validated() {
    let mut h = Harness::new(&[1, 2, 3, 4], &[]);
    h.create_assigned("t", vec![vec![1, 2, 3]]);
    h.crash(4);
    h.alter_isr("t", 0, &[1, 2]);
    h.check("t", "t-0 replicas=[1, 2, 3] isr=[1, 2] leader=1 epochs=0/1");

    let check = |h: &Harness, edit: &dyn Fn(&mut AlterPartition), expect: &str| {
        let mut request = h.alter_request("t", 0, &[1, 2, 3]);
        edit(&mut request);
        let mut controller = h.controller.clone();
        let actual = match controller.alter_partition(&request) {
            Ok(records) => render(&records),
            Err(err) => format!("{}: {err}", err.code().name()),
        };
        assert_eq!(actual, expect);
    };
    check(
        &h,
        &|_| {},
        "PartitionChange p0 leader=None isr=Some([1, 2, 3])",
    );
    check(
        &h,
        &|r| r.new_isr = vec![3, 1, 2],
        "PartitionChange p0 leader=None isr=Some([1, 2, 3])",
    );
    check(&h, &|r| r.new_isr = vec![1, 2], "");
    check(
        &h,
        &|r| r.leader_epoch = -1,
        "FENCED_LEADER_EPOCH: leader epoch -1 is older than the current 0",
    );
    check(
        &h,
        &|r| r.leader_epoch = 1,
        "UNKNOWN_LEADER_EPOCH: leader epoch 1 is newer than the current 0",
    );
    check(
        &h,
        &|r| r.partition_epoch = 0,
        "INVALID_REQUEST: partition epoch 0 is not the current 1",
    );
    check(
        &h,
        &|r| r.broker_id = 2,
        "NOT_LEADER_OR_FOLLOWER: broker 2 is not the leader (the leader is 1)",
    );
    check(
        &h,
        &|r| r.partition = 1,
        "UNKNOWN_TOPIC_OR_PARTITION: topic has no partition 1",
    );
    check(
        &h,
        &|r| r.topic_id = TopicId(5),
        "UNKNOWN_TOPIC_ID: unknown topic id TopicId(5)",
    );
    check(
        &h,
        &|r| r.new_isr = vec![1, 4],
        "INVALID_REQUEST: invalid ISR [1, 4]: it names a broker that is not a replica",
    );
    check(
        &h,
        &|r| r.new_isr = vec![1, 1],
        "INVALID_REQUEST: invalid ISR [1, 1]: it names a broker twice",
    );
    check(
        &h,
        &|r| r.new_isr = vec![2, 3],
        "INVALID_REQUEST: invalid ISR [2, 3]: it does not include the leader",
    );

    h.crash(3);
    check(
        &h,
        &|_| {},
        "INVALID_REQUEST: broker 3 is fenced or not registered and cannot join the ISR",
    );
    // Shrinking is allowed whoever is fenced.
    h.alter_isr("t", 0, &[1]);
    h.check("t", "t-0 replicas=[1, 2, 3] isr=[1] leader=1 epochs=0/2");
}

#[test]
fn a_leader_from_an_older_epoch_is_fenced() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    let stale = h.alter_request("t", 0, &[2]);
    h.crash(2);
    h.start(Millis(100), 2);
    h.alter_isr("t", 0, &[1, 2]);
    h.controller
        .elect_preferred_leaders(None)
        .map(|r| h.log.extend(r))
        .unwrap();
    h.check("t", "t-0 replicas=[2, 1] isr=[2, 1] leader=2 epochs=2/3");
    let err = h.controller.alter_partition(&stale).unwrap_err();
    assert_eq!(
        err,
        AlterPartitionError::FencedLeaderEpoch {
            requested: 0,
            current: 2
        }
    );
    assert_eq!(err.code(), ErrorCode::FENCED_LEADER_EPOCH);
}
