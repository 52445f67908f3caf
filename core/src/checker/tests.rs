//! The checker on small hand-written histories: each anomaly kind, and a clean history.

use std::collections::BTreeMap;

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
        read_committed: false,
    }
}

fn final_read(p: i32, records: &[(i64, &str)]) -> FinalRead {
    FinalRead {
        tp: tp(p),
        records: records.iter().map(|(o, v)| (*o, v.to_string())).collect(),
        readable: true,
        keys: BTreeMap::new(),
        compaction: None,
        aborted: Default::default(),
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

// Compaction: what the log cleaner may remove, and what it may not.

fn send(value: &str, key: &str, tombstone: bool, at: u64) -> Op {
    Op::Send {
        producer: "p".into(),
        value: value.into(),
        key: Some(key.into()),
        at: Millis(at),
        tombstone,
        txn: None,
        source: None,
    }
}

/// A compacted partition's read at `read_at` with `delete.retention.ms` = 1000; `records`
/// are (offset, key, value), "" for a tombstone.
fn compacted_read(records: &[(i64, &str, &str)], read_at: u64) -> FinalRead {
    FinalRead {
        tp: tp(0),
        records: records
            .iter()
            .map(|(o, _, v)| (*o, v.to_string()))
            .collect(),
        readable: true,
        keys: records
            .iter()
            .map(|(o, k, _)| (*o, k.to_string()))
            .collect(),
        compaction: Some(Compaction {
            delete_retention_ms: Millis(1_000),
            read_at: Millis(read_at),
        }),
        aborted: Default::default(),
    }
}

#[test]
fn a_record_superseded_by_a_surviving_later_record_of_its_key_is_not_lost() {
    let history = History {
        ops: vec![
            send("a", "k", false, 0),
            ack("a", 0, 0),
            send("b", "k", false, 0),
            ack("b", 0, 1),
        ],
        final_reads: vec![compacted_read(&[(1, "k", "b")], 100)],
    };
    assert!(kinds(&history).is_empty());
}

#[test]
fn a_missing_record_whose_key_has_no_later_survivor_is_lost_on_a_compacted_topic() {
    // "a" (key k) is gone, and only another key's record survives: the cleaner had no reason
    // to remove it.
    let history = History {
        ops: vec![
            send("a", "k", false, 0),
            ack("a", 0, 0),
            send("c", "j", false, 0),
            ack("c", 0, 1),
        ],
        final_reads: vec![compacted_read(&[(1, "j", "c")], 100)],
    };
    let anomalies = check(&history, &[]);
    assert_eq!(anomalies.len(), 1);
    assert_eq!(anomalies[0].kind, AnomalyKind::LostWrite);
    assert_eq!(anomalies[0].value.as_deref(), Some("a"));
    // An earlier record of the key surviving does not excuse a later one missing either.
    let history = History {
        ops: vec![
            send("a", "k", false, 0),
            ack("a", 0, 0),
            send("b", "k", false, 0),
            ack("b", 0, 1),
        ],
        final_reads: vec![compacted_read(&[(0, "k", "a")], 100)],
    };
    assert_eq!(kinds(&history), ["lost-write"]);
}

#[test]
fn on_a_topic_without_compaction_a_superseded_record_missing_is_lost() {
    let mut read = compacted_read(&[(1, "k", "b")], 100);
    read.compaction = None;
    let history = History {
        ops: vec![
            send("a", "k", false, 0),
            ack("a", 0, 0),
            send("b", "k", false, 0),
            ack("b", 0, 1),
        ],
        final_reads: vec![read],
    };
    assert_eq!(kinds(&history), ["lost-write"]);
}

#[test]
fn a_tombstone_and_what_it_deleted_may_go_only_after_delete_retention_ms() {
    let ops = vec![
        send("a", "k", false, 0),
        ack("a", 0, 0),
        send("t", "k", true, 10),
        ack("t", 0, 1),
    ];
    // Read 1010 ms after the tombstone was sent: both may be gone.
    let late = History {
        ops: ops.clone(),
        final_reads: vec![compacted_read(&[], 1_010)],
    };
    assert!(kinds(&late).is_empty());
    // Read 500 ms after: the tombstone had to be there, so both missing are lost writes.
    let early = History {
        ops: ops.clone(),
        final_reads: vec![compacted_read(&[], 510)],
    };
    assert_eq!(kinds(&early), ["lost-write", "lost-write"]);
    // With the tombstone still there, the value it deleted may be gone at any time.
    let kept = History {
        ops,
        final_reads: vec![compacted_read(&[(1, "k", "")], 510)],
    };
    assert!(kinds(&kept).is_empty());
}

#[test]
fn tombstones_of_two_keys_are_not_duplicates_but_a_tombstone_at_a_value_offset_is_inconsistent() {
    let history = History {
        ops: vec![
            send("t1", "k", true, 0),
            ack("t1", 0, 0),
            send("t2", "j", true, 0),
            ack("t2", 0, 1),
        ],
        final_reads: vec![compacted_read(&[(0, "k", ""), (1, "j", "")], 10)],
    };
    assert!(kinds(&history).is_empty());
    let history = History {
        ops: vec![poll("c", 0, 0, "x")],
        final_reads: vec![compacted_read(&[(0, "k", "")], 10)],
    };
    assert_eq!(kinds(&history), ["inconsistent-offsets"]);
}
