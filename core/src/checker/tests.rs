//! The checker on small hand-written histories: each anomaly kind, and a clean history.

use super::*;
use crate::Millis;

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("t", p)
}

fn ack(value: &str, p: i32, offset: i64) -> Op {
    Op::Ack {
        producer: "p".into(),
        value: value.into(),
        tp: tp(p),
        offset,
        at: Millis(1),
    }
}

fn poll(consumer: &str, p: i32, offset: i64, value: &str) -> Op {
    Op::Poll {
        consumer: consumer.into(),
        tp: tp(p),
        offset,
        value: value.into(),
        at: Millis(2),
    }
}

fn final_read(p: i32, records: &[(i64, &str)]) -> FinalRead {
    FinalRead {
        tp: tp(p),
        records: records.iter().map(|(o, v)| (*o, v.to_string())).collect(),
        readable: true,
    }
}

fn kinds(history: &History) -> Vec<&'static str> {
    check(history, &[]).iter().map(|a| a.kind.name()).collect()
}

#[test]
fn a_clean_history_has_no_anomalies() {
    let history = History {
        ops: vec![
            ack("a", 0, 0),
            ack("b", 0, 1),
            poll("c", 0, 0, "a"),
            poll("c", 0, 1, "b"),
        ],
        final_reads: vec![final_read(0, &[(0, "a"), (1, "b")])],
    };
    assert!(kinds(&history).is_empty());
}

#[test]
fn an_acknowledged_value_missing_after_recovery_is_a_lost_write() {
    let history = History {
        ops: vec![ack("a", 0, 0), ack("b", 0, 1)],
        final_reads: vec![final_read(0, &[(0, "a")])],
    };
    assert_eq!(kinds(&history), ["lost-write"]);
}

#[test]
fn an_unreadable_partition_is_not_judged() {
    let mut read = final_read(0, &[]);
    read.readable = false;
    let history = History {
        ops: vec![ack("a", 0, 0)],
        final_reads: vec![read],
    };
    assert!(kinds(&history).is_empty());
}

#[test]
fn one_value_at_two_offsets_is_a_duplicate() {
    let history = History {
        ops: vec![ack("a", 0, 0)],
        final_reads: vec![final_read(0, &[(0, "a"), (1, "a")])],
    };
    assert_eq!(kinds(&history), ["duplicate"]);
}

#[test]
fn polls_going_back_or_skipping_records_are_anomalies() {
    let log = final_read(0, &[(0, "a"), (1, "b"), (2, "c")]);
    let back = History {
        ops: vec![poll("c", 0, 1, "b"), poll("c", 0, 0, "a")],
        final_reads: vec![log.clone()],
    };
    assert_eq!(kinds(&back), ["nonmonotonic-poll"]);
    let skip = History {
        ops: vec![poll("c", 0, 0, "a"), poll("c", 0, 2, "c")],
        final_reads: vec![log.clone()],
    };
    assert_eq!(kinds(&skip), ["poll-skip"]);
    // A new assignment starts over: re-reading from a committed offset is fine.
    let reassigned = History {
        ops: vec![
            poll("c", 0, 1, "b"),
            Op::Assign {
                consumer: "c".into(),
                partitions: vec![tp(0)],
                at: Millis(3),
            },
            poll("c", 0, 0, "a"),
        ],
        final_reads: vec![log],
    };
    assert!(kinds(&reassigned).is_empty());
}

#[test]
fn one_offset_with_two_values_is_inconsistent() {
    let history = History {
        ops: vec![poll("c", 0, 0, "x")],
        final_reads: vec![final_read(0, &[(0, "a")])],
    };
    assert_eq!(kinds(&history), ["inconsistent-offsets"]);
}

#[test]
fn invariant_violations_are_reported() {
    let anomalies = check(&History::default(), &["hw 3 > leo 2".to_string()]);
    assert_eq!(anomalies.len(), 1);
    assert_eq!(anomalies[0].kind, AnomalyKind::Invariant);
}
