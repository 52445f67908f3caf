//! min.insync.replicas: checked before the append and again when the high watermark passes.

use crate::ErrorCode;
use crate::broker::produce::ACKS_ALL;

use super::cluster::{Cluster, LAG_MAX_MS};

#[test]
fn two_replicas_down_rejects_acks_all_and_loses_nothing_acknowledged() {
    let mut c = Cluster::new(&[1, 2, 3], &[("min.insync.replicas", "2")]);
    let before = c.produce(ACKS_ALL, 2);
    c.advance(100);
    assert_eq!(c.answer(before), Some((ErrorCode::NONE, 0)));
    c.crash(2);
    let one_down = c.produce(ACKS_ALL, 1);
    c.advance(100);
    assert_eq!(
        c.answer(one_down),
        Some((ErrorCode::NONE, 2)),
        "two in sync is enough"
    );
    c.crash(3);
    assert_eq!(c.state().isr, vec![1]);
    let rejected = c.produce(ACKS_ALL, 1);
    assert_eq!(
        c.answer(rejected).map(|(e, _)| e),
        Some(ErrorCode::NOT_ENOUGH_REPLICAS)
    );
    assert_eq!(
        c.broker(1)
            .partition(&Cluster::tp())
            .expect("hosted")
            .log_end_offset,
        3,
        "not appended"
    );
    let acks_1 = c.produce(1, 1);
    assert_eq!(
        c.answer(acks_1),
        Some((ErrorCode::NONE, 3)),
        "acks=1 does not care"
    );
    c.start(2);
    c.advance(300);
    assert_eq!(c.state().isr, vec![1, 2]);
    let again = c.produce(ACKS_ALL, 1);
    c.advance(100);
    assert_eq!(c.answer(again), Some((ErrorCode::NONE, 4)));
}

#[test]
fn an_isr_that_shrinks_while_waiting_answers_not_enough_replicas_after_append() {
    let mut c = Cluster::new(&[1, 2, 3], &[("min.insync.replicas", "2")]);
    c.pause(2, true);
    c.pause(3, true);
    let waiting = c.produce(ACKS_ALL, 1);
    assert_eq!(
        c.answer(waiting),
        None,
        "appended: the ISR had three members"
    );
    c.advance_until(LAG_MAX_MS * 3, |c| c.answer(waiting).is_some());
    assert_eq!(
        c.answer(waiting).map(|(e, _)| e),
        Some(ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND)
    );
    assert_eq!(c.state().isr, vec![1]);
}
