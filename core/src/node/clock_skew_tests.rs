//! A node whose wall clock jumps (what `partita chaos --faults clock` does to a real node):
//! forward an hour, then back by two minutes while the cluster runs. The core takes all its
//! time from that clock, so every deadline it set moves with it: nothing may panic, the node
//! must keep heartbeating to the controller and ticking its Raft voter, and acks=all writes
//! must go on being acknowledged.

use super::txn_cluster_tests::Trio;
use super::*;
use crate::batch::BatchBuilder;
use crate::broker::{ACKS_ALL, ProducePartition, ProduceRequest};

/// One acks=all batch to `tp`'s leader, retried (as a producer does) until acknowledged.
fn produce_acknowledged(trio: &mut Trio, tp: &TopicPartition, value: &str) {
    for _ in 0..50 {
        let mut builder = BatchBuilder::new();
        builder.push(0, None, Some(value.as_bytes()), &[]);
        let produce = ProduceRequest {
            acks: ACKS_ALL,
            timeout_ms: Millis(5_000),
            partitions: vec![ProducePartition {
                tp: tp.clone(),
                records: builder.build(),
            }],
        };
        let leader = trio.leader(tp);
        let Response::Produce(answer) = trio.call(leader, Request::Produce(produce)) else {
            panic!("not a produce answer");
        };
        if answer.partitions[0].error == ErrorCode::NONE {
            return;
        }
        for _ in 0..50 {
            trio.step();
        }
    }
    panic!("{value} never acknowledged");
}

fn run_ms(trio: &mut Trio, ms: u64) {
    let end = trio.clock(1).plus(Millis(ms));
    while trio.clock(1) < end {
        trio.step();
    }
}

fn live_everywhere(trio: &mut Trio) -> bool {
    (1..=3).all(|id| trio.node(id).image().live_brokers() == [1, 2, 3])
}

#[test]
fn a_node_whose_clock_jumps_ahead_then_steps_back_stays_live_and_nothing_panics() {
    // A real wall clock (December 2026), so that two minutes back is a real time too.
    let mut trio = Trio::new_at(Millis(1_796_083_200_000));
    trio.create_topic("t", vec![vec![2, 1, 3], vec![1, 2, 3]]);
    let led_by_2 = TopicPartition::new("t", 0);
    let led_by_1 = TopicPartition::new("t", 1);
    produce_acknowledged(&mut trio, &led_by_2, "before");

    // An hour ahead: every deadline node 2 holds is past at once.
    trio.skew_ms[1] = 3_600_000;
    run_ms(&mut trio, 5_000);
    produce_acknowledged(&mut trio, &led_by_2, "ahead");
    produce_acknowledged(&mut trio, &led_by_1, "ahead");

    // Back to two minutes behind, while running: an hour and two minutes backward. Node 2's
    // deadlines are now an hour away; it must not wait for them (it would be fenced after the
    // broker session timeout and its Raft voter would fall silent).
    trio.skew_ms[1] = -120_000;
    run_ms(&mut trio, 30_000);
    assert!(
        live_everywhere(&mut trio),
        "node 2 was fenced: it stopped heartbeating when its clock stepped back"
    );
    produce_acknowledged(&mut trio, &led_by_2, "behind");
    produce_acknowledged(&mut trio, &led_by_1, "behind");

    // Healed: the real time again (two minutes forward).
    trio.skew_ms[1] = 0;
    run_ms(&mut trio, 5_000);
    produce_acknowledged(&mut trio, &led_by_2, "healed");
    produce_acknowledged(&mut trio, &led_by_1, "healed");
    assert!(live_everywhere(&mut trio));
}
