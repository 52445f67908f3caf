//! Leader election: crashes, offline partitions, unclean election, preferred leaders.

use super::{Harness, render};
use crate::{ErrorCode, Millis};

#[test]
fn leader_crash_elects_the_next_isr_member_and_bumps_the_epoch() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create_assigned("t", vec![vec![3, 2, 1]]);
    h.check(
        "t",
        "t-0 replicas=[3, 2, 1] isr=[3, 2, 1] leader=3 epochs=0/0",
    );
    let records = h.crash(3);
    assert_eq!(
        render(&records),
        "FenceBroker 3\nPartitionChange p0 leader=Some(2) isr=Some([2, 1])"
    );
    h.check("t", "t-0 replicas=[3, 2, 1] isr=[2, 1] leader=2 epochs=1/1");
    assert_eq!(h.controller.image().live_brokers(), vec![1, 2]);
}

#[test]
fn follower_crash_only_shrinks_the_isr() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create_assigned("t", vec![vec![3, 2, 1]]);
    h.crash(1);
    h.check("t", "t-0 replicas=[3, 2, 1] isr=[3, 2] leader=3 epochs=0/1");
}

#[test]
fn without_unclean_election_a_partition_whose_isr_died_stays_offline() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    h.crash(1);
    h.crash(2);
    // The last ISR member stays in the ISR: it is the only one known to have every write.
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=-1 epochs=1/2");
    assert!(h.controller.image().partition("t", 0).unwrap().is_offline());

    // Broker 1 returns, but it is out of sync: it may not lead.
    h.start(Millis(5_000), 1);
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=-1 epochs=1/2");

    // Broker 2, the last ISR member, returns and leads again.
    let records = h.heartbeat(Millis(6_000), 2);
    assert_eq!(
        render(&records),
        "UnfenceBroker 2\nPartitionChange p0 leader=Some(2) isr=None"
    );
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=2 epochs=2/3");
}

#[test]
fn with_unclean_election_a_live_out_of_sync_replica_leads() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[("unclean.leader.election.enable", "true")]);
    h.crash(1);
    h.crash(2);
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=-1 epochs=1/2");
    h.start(Millis(5_000), 1);
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=2/3");
}

#[test]
fn enabling_unclean_election_revives_offline_partitions() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    h.crash(1);
    h.crash(2);
    h.start(Millis(5_000), 1);
    h.check("t", "t-0 replicas=[2, 1] isr=[2] leader=-1 epochs=1/2");
    let change = [(
        "unclean.leader.election.enable".to_string(),
        Some("true".to_string()),
    )];
    let records = h.controller.alter_topic_configs("t", &change).unwrap();
    h.record(records);
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=2/3");
}

#[test]
fn unclean_election_is_also_a_broker_default() {
    let mut h = Harness::new(&[1, 2], &[("unclean.leader.election.enable", "true")]);
    h.create("t", 1, 2, &[]);
    h.crash(1);
    h.crash(2);
    h.start(Millis(5_000), 1);
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=2/3");
}

#[test]
fn preferred_leader_returns_once_back_in_the_isr() {
    let mut h = Harness::new(&[1, 2, 3], &[]);
    h.create_assigned("t", vec![vec![3, 2, 1]]);
    h.crash(3);
    h.check("t", "t-0 replicas=[3, 2, 1] isr=[2, 1] leader=2 epochs=1/1");

    // Back, but not in the ISR yet: leadership cannot move to it.
    h.start(Millis(1_000), 3);
    assert_eq!(h.controller.elect_preferred_leaders(None).unwrap(), vec![]);

    // The leader adds it back once it caught up; the preferred election moves leadership.
    h.alter_isr("t", 0, &[2, 1, 3]);
    h.check(
        "t",
        "t-0 replicas=[3, 2, 1] isr=[3, 2, 1] leader=2 epochs=1/2",
    );
    let records = h
        .controller
        .elect_preferred_leaders(Some(&[("t".to_string(), 0)]))
        .unwrap();
    let records = h.record(records);
    assert_eq!(
        render(&records),
        "PartitionChange p0 leader=Some(3) isr=None"
    );
    h.check(
        "t",
        "t-0 replicas=[3, 2, 1] isr=[3, 2, 1] leader=3 epochs=2/3",
    );

    let err = h
        .controller
        .elect_preferred_leaders(Some(&[("t".to_string(), 1)]))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
}

#[test]
fn leadership_returns_to_the_preferred_replica_by_itself() {
    let mut h = Harness::new(
        &[1, 2],
        &[("leader.imbalance.check.interval.seconds", "60")],
    );
    h.create_assigned("t", vec![vec![1, 2]]);
    h.crash(1);
    h.start(Millis(1_000), 1);
    h.alter_isr("t", 0, &[1, 2]);
    h.check("t", "t-0 replicas=[1, 2] isr=[1, 2] leader=2 epochs=1/2");

    h.heartbeat(Millis(55_000), 1);
    h.heartbeat(Millis(55_000), 2);
    assert_eq!(h.controller.next_deadline(), Some(Millis(60_000)));
    assert_eq!(h.tick(Millis(59_999)), vec![]);
    let records = h.tick(Millis(60_000));
    assert_eq!(
        render(&records),
        "PartitionChange p0 leader=Some(1) isr=None"
    );
    h.check("t", "t-0 replicas=[1, 2] isr=[1, 2] leader=1 epochs=2/3");
    // Next: broker sessions (55 s + 9 s) before the next balance (60 s + 60 s).
    assert_eq!(h.controller.next_deadline(), Some(Millis(64_000)));
}

#[test]
fn automatic_leader_balance_can_be_disabled() {
    let mut h = Harness::new(&[1, 2], &[("auto.leader.rebalance.enable", "false")]);
    h.create_assigned("t", vec![vec![1, 2]]);
    h.crash(1);
    h.start(Millis(1_000), 1);
    h.alter_isr("t", 0, &[1, 2]);
    h.heartbeat(Millis(299_000), 1);
    h.heartbeat(Millis(299_000), 2);
    assert_eq!(h.tick(Millis(300_000)), vec![]);
    h.check("t", "t-0 replicas=[1, 2] isr=[1, 2] leader=2 epochs=1/2");
    assert_eq!(h.controller.next_deadline(), Some(Millis(308_000)));
}
