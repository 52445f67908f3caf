//! An idempotent producer's retry across a leader change: whichever replica leads when the
//! retry comes, having the batch in its log means recognising it (the original offsets, nothing
//! appended), however that replica got there: by replication, by reopening its log after a
//! crash, or by truncating a divergent tail and fetching again. Kafka's replicas keep their
//! producer state from the batches they replicate for the same reason
//! (`UnifiedLog.appendAsFollower` updates the `ProducerStateManager`).

use crate::ErrorCode;
use crate::batch::BatchBuilder;
use crate::broker::produce::ACKS_ALL;
use crate::controller::BrokerId;

use super::cluster::Cluster;
use super::invariants::{batches, values};

const PRODUCER: i64 = 7;

/// Writes two batches of producer 7 (sequences 0..=1 and 2..=3) with acks=all through the
/// current leader; returns the second one's bytes, values and offset.
fn two_batches(c: &mut Cluster) -> (Vec<u8>, Vec<String>, i64) {
    let leader = c.leader();
    let (first, values) = c.fresh_batch(BatchBuilder::new().idempotent(PRODUCER, 0, 0), 2);
    let id = c.send_batch(leader, ACKS_ALL, first, values);
    c.advance(100);
    assert_eq!(c.answer(id), Some((ErrorCode::NONE, 0)));
    let (second, values) = c.fresh_batch(BatchBuilder::new().idempotent(PRODUCER, 0, 2), 2);
    let id = c.send_batch(leader, ACKS_ALL, second.clone(), values.clone());
    c.advance(100);
    assert_eq!(c.answer(id), Some((ErrorCode::NONE, 2)));
    (second, values, 2)
}

/// The client did not hear the answer and sends the same bytes again, to `to`: it must be
/// answered with the original offset, and every value must be in `to`'s log once.
fn retry_is_recognised(c: &mut Cluster, to: BrokerId, batch: Vec<u8>, sent: Vec<String>, at: i64) {
    let end_before = c
        .broker(to)
        .partition(&Cluster::tp())
        .expect("hosted")
        .log_end_offset;
    let id = c.send_batch(to, ACKS_ALL, batch, sent.clone());
    c.advance(100);
    assert_eq!(
        c.answer(id),
        Some((ErrorCode::NONE, at)),
        "the original offset"
    );
    let log = batches(&c.broker(to).partitions[&Cluster::tp()].log);
    let all: Vec<String> = log.values().flat_map(|b| values(b)).collect();
    for value in &sent {
        assert_eq!(
            all.iter().filter(|v| *v == value).count(),
            1,
            "{value} once: {all:?}"
        );
    }
    let p = c.broker(to).partition(&Cluster::tp()).expect("hosted");
    assert_eq!(p.log_end_offset, end_before, "nothing appended");
}

/// Two batches written on three replicas, then `before_failover` (on the followers), then
/// the leader (1) crashes: the new leader must recognise a retry of the second batch.
fn retry_recognised_after_failover(before_failover: impl Fn(&mut Cluster)) {
    let mut c = Cluster::new(&[1, 2, 3], &[("min.insync.replicas", "2")]);
    let (batch, sent, at) = two_batches(&mut c);
    before_failover(&mut c);
    c.sync(1);
    c.crash(1);
    let leader = c.leader();
    assert_ne!(leader, 1);
    retry_is_recognised(&mut c, leader, batch, sent, at);
}

#[test]
fn a_follower_that_replicated_the_batch_recognises_its_retry_once_it_leads() {
    retry_recognised_after_failover(|_| {});
}

#[test]
fn a_replica_that_reopened_its_log_recognises_the_retry_once_it_leads() {
    retry_recognised_after_failover(|c| {
        for id in [2, 3] {
            c.sync(id);
            c.crash(id);
            c.start(id);
            c.advance(300);
        }
    });
}

#[test]
fn a_replica_that_truncated_a_divergent_tail_recognises_the_retry_once_it_leads() {
    let mut c = Cluster::new(&[1, 2, 3], &[("min.insync.replicas", "2")]);
    let (batch, sent, at) = two_batches(&mut c);
    // Broker 1 leads on alone for a moment (acks=1, followers stalled), keeps that tail on
    // disk and crashes; the new leader writes elsewhere at those offsets; broker 1 returns,
    // cuts its tail (rebuilding its producer state) and fetches the new leader's.
    c.pause(2, true);
    c.pause(3, true);
    let (tail, values) = c.fresh_batch(BatchBuilder::new().idempotent(PRODUCER, 0, 4), 1);
    c.send_batch(1, 1, tail, values);
    c.sync(1);
    c.crash(1);
    c.pause(2, false);
    c.pause(3, false);
    c.produce(ACKS_ALL, 3);
    c.advance(100);
    c.start(1);
    c.advance(300);
    let new_leader = c.leader();
    assert_eq!(
        batches(&c.broker(1).partitions[&Cluster::tp()].log),
        batches(&c.broker(new_leader).partitions[&Cluster::tp()].log),
        "broker 1 truncated and caught up"
    );
    // Now broker 1 leads again, with the log it rebuilt.
    for id in [2, 3] {
        c.sync(id);
        c.crash(id);
        if c.leader() == 1 {
            break;
        }
    }
    assert_eq!(c.leader(), 1);
    retry_is_recognised(&mut c, 1, batch, sent, at);
}
