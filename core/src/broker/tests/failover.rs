//! Leaders crash or get cut off; the controller elects from the ISR; the old leader returns as
//! a follower and cuts the tail the new leader never had.

use crate::ErrorCode;
use crate::broker::produce::ACKS_ALL;

use super::cluster::Cluster;
use super::invariants::{batches, values};

fn values_at(c: &Cluster, id: i32, offset: i64) -> Vec<String> {
    values(&batches(&c.broker(id).partitions[&Cluster::tp()].log)[&offset])
}

#[test]
fn a_returning_leader_truncates_its_unreplicated_acks_1_tail() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    let committed = c.produce(ACKS_ALL, 2);
    c.advance(100);
    assert_eq!(c.answer(committed), Some((ErrorCode::NONE, 0)));
    // Broker 1 takes three acks=1 records nobody copies, keeps them on disk, and dies.
    c.pause(2, true);
    c.pause(3, true);
    let lost = c.produce(1, 3);
    assert_eq!(
        c.answer(lost),
        Some((ErrorCode::NONE, 2)),
        "acks=1: answered, yet not safe"
    );
    c.sync(1);
    c.crash(1);
    assert_eq!(
        (c.leader(), c.state().leader_epoch, c.state().isr.clone()),
        (2, 1, vec![2, 3])
    );
    c.pause(2, false);
    c.pause(3, false);
    let replaced = c.produce(ACKS_ALL, 2);
    c.advance(100);
    assert_eq!(
        c.answer(replaced),
        Some((ErrorCode::NONE, 2)),
        "the new leader reuses offset 2"
    );
    // Broker 1 restarts with [v1 v2][v3 v4 v5] and learns it follows broker 2 in epoch 1.
    c.start(1);
    c.advance(300);
    let tp = Cluster::tp();
    assert_eq!(
        batches(&c.broker(1).partitions[&tp].log),
        batches(&c.broker(2).partitions[&tp].log)
    );
    assert_eq!(
        values_at(&c, 1, 2),
        vec!["v6", "v7"],
        "the divergent tail is gone"
    );
    assert_eq!(c.state().isr, vec![1, 2, 3], "caught up: back in the ISR");
    let p = c.broker(1).partition(&tp).expect("hosted");
    assert_eq!((p.log_end_offset, p.high_watermark), (4, 4));
}

#[test]
fn a_zombie_leader_acknowledges_nothing_with_acks_all_and_truncates_on_return() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    c.produce(ACKS_ALL, 1);
    c.advance(100);
    c.isolate(1);
    let acks_1 = c.produce_to(1, 1, 2);
    let acks_all = c.produce_to(1, ACKS_ALL, 1);
    assert_eq!(
        c.answer(acks_1),
        Some((ErrorCode::NONE, 1)),
        "the zombie still takes acks=1"
    );
    // The session expires; broker 2 leads epoch 1 and takes new writes.
    c.advance_until(12_000, |c| c.leader() == 2);
    let fresh = c.produce(ACKS_ALL, 1);
    c.advance(100);
    assert_eq!(c.answer(fresh), Some((ErrorCode::NONE, 1)));
    c.advance(5_000);
    assert_eq!(
        c.answer(acks_all).map(|(e, _)| e),
        Some(ErrorCode::REQUEST_TIMED_OUT),
        "no follower fetched from the zombie, so its high watermark never passed the batch"
    );
    c.reconnect(1);
    c.advance(500);
    assert_eq!(
        values_at(&c, 1, 1),
        values_at(&c, 2, 1),
        "the zombie's tail was replaced"
    );
    assert_eq!(
        c.broker(1)
            .partition(&Cluster::tp())
            .expect("hosted")
            .log_end_offset,
        2
    );
    assert_eq!(c.state().isr, vec![1, 2, 3]);
}

#[test]
fn repeated_leader_crashes_lose_no_acks_all_write() {
    let mut c = Cluster::new(&[1, 2, 3], &[("min.insync.replicas", "2")]);
    let mut acked = 0;
    for round in 0..6 {
        let ids: Vec<_> = (0..3).map(|_| c.produce(ACKS_ALL, 2)).collect();
        c.advance(150);
        acked += ids
            .iter()
            .filter(|id| c.answer(**id).is_some_and(|(e, _)| e == ErrorCode::NONE))
            .count();
        // An unreplicated acks=1 tail on the leader, kept on disk, then the leader dies.
        let leader = c.leader();
        let others: Vec<_> = [1, 2, 3].into_iter().filter(|&b| b != leader).collect();
        others.iter().for_each(|&b| c.pause(b, true));
        c.produce(1, 1 + round);
        c.sync(leader);
        c.crash(leader);
        others.iter().for_each(|&b| c.pause(b, false));
        c.advance(150);
        c.start(leader);
        c.advance(300);
    }
    assert_eq!(
        acked, 18,
        "every acks=all write succeeded (and the invariants kept them)"
    );
    let tp = Cluster::tp();
    let leader_log = batches(&c.broker(c.leader()).partitions[&tp].log);
    for id in [1, 2, 3] {
        assert_eq!(
            batches(&c.broker(id).partitions[&tp].log),
            leader_log,
            "broker {id}"
        );
    }
}

#[test]
fn durable_brokers_keep_acks_all_writes_through_a_whole_cluster_power_loss() {
    let mut c = Cluster::with_durability(&[1, 2, 3], &[("min.insync.replicas", "2")], true);
    let ids: Vec<_> = (0..3).map(|_| c.produce(ACKS_ALL, 2)).collect();
    c.advance(100);
    assert!(
        ids.iter()
            .all(|id| c.answer(*id).is_some_and(|(e, _)| e == ErrorCode::NONE))
    );
    // Everyone loses power; unsynced bytes are gone everywhere.
    for id in [1, 2, 3] {
        c.crash(id);
    }
    assert_eq!(
        (c.leader(), c.state().isr.clone()),
        (-1, vec![3]),
        "offline: the last ISR member must return"
    );
    c.start(1);
    c.start(2);
    c.advance(100);
    assert_eq!(c.leader(), -1, "no unclean election");
    c.start(3);
    c.advance(300);
    assert_eq!(c.leader(), 3);
    // The invariants checked that the acknowledged batches are on broker 3; all agree.
    let tp = Cluster::tp();
    let leader_log = batches(&c.broker(3).partitions[&tp].log);
    assert_eq!(leader_log.len(), 3);
    for id in [1, 2] {
        assert_eq!(
            batches(&c.broker(id).partitions[&tp].log),
            leader_log,
            "broker {id}"
        );
    }
}

#[test]
fn a_follower_behind_the_leaders_log_start_starts_over_there() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    c.pause(3, true);
    for _ in 0..3 {
        c.produce(1, 2);
    }
    c.advance(1_500);
    assert_eq!(c.state().isr, vec![1, 2]);
    let tp = Cluster::tp();
    let leader = c.broker_mut(1).partitions.get_mut(&tp).expect("hosted");
    leader
        .log
        .delete_records_before(3)
        .expect("below the high watermark");
    leader.epochs.truncate_from_start(3);
    c.pause(3, false);
    c.advance(300);
    let p = c.broker(3).partition(&tp).expect("hosted");
    // 3 is inside the batch 2..=3: broker 3 takes that batch whole, then starts at 3.
    assert_eq!((p.log_start_offset, p.log_end_offset), (3, 6));
    assert_eq!(c.state().isr, vec![1, 2, 3]);
    c.produce(1, 1);
    c.advance(100);
    let p = c.broker(2).partition(&tp).expect("hosted");
    assert_eq!(
        (p.log_start_offset, p.log_end_offset),
        (3, 7),
        "followers follow the log start"
    );
}
