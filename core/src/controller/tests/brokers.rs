//! Broker lifecycle: heartbeats, session expiry, restarts, controller failover.

use super::{Harness, render};
use crate::config::BrokerConfig;
use crate::controller::*;
use crate::{ErrorCode, Millis};

#[test]
fn missed_heartbeats_fence_a_broker_after_the_session_timeout() {
    let mut h = Harness::new(&[1, 2], &[("broker.session.timeout.ms", "9000")]);
    h.create("t", 1, 2, &[]);
    assert_eq!(h.controller.next_deadline(), Some(Millis(9_000)));
    h.heartbeat(Millis(2_000), 1);
    h.heartbeat(Millis(2_000), 2);
    h.heartbeat(Millis(4_000), 1);
    assert_eq!(h.controller.next_deadline(), Some(Millis(11_000)));
    assert_eq!(h.tick(Millis(10_999)), vec![]);
    h.heartbeat(Millis(10_000), 1);
    let records = h.tick(Millis(11_000));
    assert_eq!(
        render(&records),
        "FenceBroker 2\nPartitionChange p0 leader=Some(1) isr=Some([1])"
    );
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=1/1");
    assert_eq!(h.controller.next_deadline(), Some(Millis(19_000)));
    assert!(!h.controller.image().is_live(2));
}

#[test]
fn a_late_heartbeat_unfences_the_broker() {
    let mut h = Harness::new(&[1], &[]);
    h.tick(Millis(9_000));
    assert!(!h.controller.image().is_live(1));
    let records = h.heartbeat(Millis(9_500), 1);
    assert_eq!(render(&records), "UnfenceBroker 1");
    assert!(h.controller.image().is_live(1));
    h.check_replay();
}

#[test]
fn restarting_a_live_broker_fences_its_previous_life() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    let old_epoch = h.controller.image().broker(2).unwrap().broker_epoch;
    let records = h
        .controller
        .register_broker(Millis(1_000), 2, "127.0.0.1", 9092)
        .unwrap();
    let records = h.record(records);
    let new_epoch = h.controller.image().broker(2).unwrap().broker_epoch;
    assert_eq!(
        render(&records),
        format!(
            "FenceBroker 2\nPartitionChange p0 leader=Some(1) isr=Some([1])\nRegisterBroker 2 epoch={new_epoch}"
        )
    );
    let stale = h
        .controller
        .broker_heartbeat(Millis(1_000), 2, old_epoch)
        .unwrap_err();
    assert_eq!(stale.code(), ErrorCode::STALE_BROKER_EPOCH);
    assert_eq!(
        h.controller
            .broker_heartbeat(Millis(1_000), 9, 0)
            .unwrap_err()
            .code(),
        ErrorCode::BROKER_NOT_AVAILABLE
    );
    assert_eq!(
        h.controller
            .register_broker(Millis(1_000), -1, "h", 1)
            .unwrap_err()
            .code(),
        ErrorCode::INVALID_REQUEST
    );
    h.heartbeat(Millis(1_000), 2);
    h.check("t", "t-0 replicas=[2, 1] isr=[1] leader=1 epochs=1/1");
}

#[test]
fn a_controller_taking_over_gives_every_broker_a_fresh_session() {
    let mut h = Harness::new(&[1, 2], &[]);
    h.create("t", 1, 2, &[]);
    let mut successor = Controller::new(BrokerConfig::default(), 42);
    for record in &h.log {
        successor.replay(record);
    }
    // It has heard from nobody yet: sessions start at its first tick.
    assert_eq!(successor.next_deadline(), Some(Millis(300_000)));
    assert_eq!(successor.tick(Millis(50_000)), vec![]);
    assert_eq!(successor.next_deadline(), Some(Millis(59_000)));
    let epoch = successor.image().broker(1).unwrap().broker_epoch;
    successor
        .broker_heartbeat(Millis(55_000), 1, epoch)
        .unwrap();
    let records = successor.tick(Millis(59_000));
    assert_eq!(
        render(&records),
        "FenceBroker 2\nPartitionChange p0 leader=Some(1) isr=Some([1])"
    );
}
