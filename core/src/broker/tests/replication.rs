//! Followers copy the leader's log, the high watermark follows the ISR, acks=all waits for it.

use crate::ErrorCode;
use crate::broker::produce::ACKS_ALL;
use crate::broker::{FollowerPhase, ReplicaRole};

use super::cluster::Cluster;
use super::invariants::batches;

#[test]
fn followers_copy_the_log_and_the_high_watermark_advances() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    assert_eq!(c.leader(), 1);
    for id in [2, 3] {
        let follower = c.broker(id).partitions[&Cluster::tp()]
            .follower
            .expect("follows");
        assert_eq!(
            follower.phase,
            FollowerPhase::Fetching,
            "broker {id} truncated, then fetches"
        );
    }
    let first = c.produce(1, 3);
    assert_eq!(
        c.answer(first),
        Some((ErrorCode::NONE, 0)),
        "acks=1 answers after the leader's append"
    );
    c.produce(1, 2);
    c.advance(200);
    let tp = Cluster::tp();
    let leader_log = batches(&c.broker(1).partitions[&tp].log);
    for id in [1, 2, 3] {
        let p = c.broker(id).partition(&tp).expect("hosted");
        assert_eq!((p.log_end_offset, p.high_watermark), (5, 5), "broker {id}");
        assert_eq!(
            batches(&c.broker(id).partitions[&tp].log),
            leader_log,
            "broker {id}"
        );
    }
    assert_eq!(c.state().isr, vec![1, 2, 3]);
    let ReplicaRole::Leader {
        followers,
        pending_isr,
    } = c.broker(1).replication(&tp).expect("hosted").role
    else {
        panic!("broker 1 leads")
    };
    let seen: Vec<_> = followers
        .iter()
        .map(|f| (f.broker, f.log_end_offset, f.in_isr))
        .collect();
    assert_eq!(
        (seen, pending_isr),
        (vec![(2, 5, true), (3, 5, true)], None)
    );
    let follower = ReplicaRole::Follower {
        leader: 1,
        leader_epoch: 0,
        phase: FollowerPhase::Fetching,
    };
    assert_eq!(c.broker(2).replication(&tp).expect("hosted").role, follower);
}

#[test]
fn acks_all_completes_only_once_the_isr_has_the_batch() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    c.pause(3, true);
    let id = c.produce(ACKS_ALL, 2);
    c.advance(200);
    assert_eq!(
        c.answer(id),
        None,
        "broker 3 is in the ISR and has not fetched"
    );
    let leader = c.broker(1).partition(&Cluster::tp()).expect("hosted");
    assert_eq!((leader.log_end_offset, leader.high_watermark), (2, 0));
    assert_eq!(
        c.broker(2)
            .partition(&Cluster::tp())
            .expect("hosted")
            .log_end_offset,
        2
    );
    c.pause(3, false);
    c.advance_until(500, |c| c.answer(id).is_some());
    assert_eq!(c.answer(id), Some((ErrorCode::NONE, 0)));
    assert_eq!(
        c.broker(3)
            .partition(&Cluster::tp())
            .expect("hosted")
            .log_end_offset,
        2
    );
}

#[test]
fn acks_all_times_out_when_the_isr_never_gets_the_batch() {
    let mut c = Cluster::new(&[1, 2], &[]);
    c.pause(2, true);
    let id = c.produce(ACKS_ALL, 1);
    // Broker 2 is dropped from the ISR after the lag limit, which lets the high watermark
    // pass the batch: with min.insync.replicas=1 that is a success.
    c.advance_until(3_000, |c| c.answer(id).is_some());
    assert_eq!(c.answer(id), Some((ErrorCode::NONE, 0)));
    assert_eq!(c.state().isr, vec![1]);
}
