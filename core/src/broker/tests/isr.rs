//! A follower that stops keeping up leaves the ISR, through the controller, and rejoins.

use crate::ErrorCode;
use crate::broker::ALTER_PARTITION_BACKOFF_MS;
use crate::broker::produce::ACKS_ALL;

use super::cluster::{Cluster, LAG_MAX_MS};

#[test]
fn a_slow_follower_leaves_the_isr_and_rejoins_once_caught_up() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    c.pause(3, true);
    c.produce(1, 3);
    c.advance(LAG_MAX_MS / 2);
    assert_eq!(
        c.state().isr,
        vec![1, 2, 3],
        "not out before replica.lag.time.max.ms"
    );
    c.advance(LAG_MAX_MS);
    assert_eq!(
        c.state().isr,
        vec![1, 2],
        "out after replica.lag.time.max.ms"
    );
    let snapshot = c.broker(1).partition(&Cluster::tp()).expect("hosted");
    assert_eq!(
        (snapshot.isr.clone(), snapshot.high_watermark),
        (vec![1, 2], 3),
        "the leader applied it"
    );
    let acked = c.produce(ACKS_ALL, 1);
    assert_eq!(
        c.answer(acked),
        Some((ErrorCode::NONE, 3)),
        "acks=all no longer waits for broker 3"
    );
    c.pause(3, false);
    c.advance(200);
    assert_eq!(
        c.state().isr,
        vec![1, 2, 3],
        "caught up to the high watermark: back in"
    );
    assert_eq!(
        c.broker(3)
            .partition(&Cluster::tp())
            .expect("hosted")
            .log_end_offset,
        4
    );
    assert_eq!(
        c.alter_partitions,
        (2, 0),
        "one shrink and one expand, both accepted"
    );
}

#[test]
fn a_follower_that_keeps_fetching_under_load_stays_in_the_isr() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    for _ in 0..40 {
        c.produce(1, 1);
        c.advance(LAG_MAX_MS / 10);
    }
    assert_eq!(c.state().isr, vec![1, 2, 3]);
    assert_eq!(c.alter_partitions, (0, 0));
}

#[test]
fn a_fenced_follower_is_refused_re_entry_and_the_leader_backs_off() {
    let mut c = Cluster::new(&[1, 2, 3], &[]);
    // Broker 3 keeps replicating but the controller no longer hears it: fenced, out of the ISR.
    c.cut_from_controller(3);
    c.advance_until(12_000, |c| c.state().isr == vec![1, 2]);
    c.produce(1, 1);
    // Caught up, broker 3 is proposed for the ISR again and again; the controller refuses a
    // fenced broker, and the leader asks at most once per backoff.
    let refused_before = c.alter_partitions.1;
    c.advance(ALTER_PARTITION_BACKOFF_MS.0 * 4);
    let refused = c.alter_partitions.1 - refused_before;
    assert!(
        (3..=5).contains(&refused),
        "{refused} refusals in four backoffs"
    );
    assert_eq!(c.state().isr, vec![1, 2]);
    assert_eq!(
        c.broker(3)
            .partition(&Cluster::tp())
            .expect("hosted")
            .log_end_offset,
        1
    );
    c.reconnect(3);
    c.advance(ALTER_PARTITION_BACKOFF_MS.0 + 200);
    assert_eq!(c.state().isr, vec![1, 2, 3]);
}
