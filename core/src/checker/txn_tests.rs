//! The transaction anomalies on small histories written in the history file format: each
//! anomaly, and the clean cases next to it.

use super::jsonl::parse;
use super::{AnomalyKind, check};

/// Three transactions of one producer over `t-0` and `t-1`: T1 (a1, a2) committed, T2 (b1)
/// aborted, T3 (c1) committed; markers at `t-0` offsets 1 and 3 (not records). A
/// read_committed consumer reads everything committed.
const CLEAN: &str = r#"
{"type":"send","producer":"p","value":"a1","txn":"T1"}
{"type":"send","producer":"p","value":"a2","txn":"T1"}
{"type":"ack","producer":"p","value":"a1","topic":"t","partition":0,"offset":0}
{"type":"ack","producer":"p","value":"a2","topic":"t","partition":1,"offset":0}
{"type":"txn","producer":"p","txn":"T1","outcome":"commit"}
{"type":"send","producer":"p","value":"b1","txn":"T2"}
{"type":"ack","producer":"p","value":"b1","topic":"t","partition":0,"offset":2}
{"type":"txn","producer":"p","txn":"T2","outcome":"abort"}
{"type":"send","producer":"p","value":"c1","txn":"T3"}
{"type":"ack","producer":"p","value":"c1","topic":"t","partition":0,"offset":4}
{"type":"txn","producer":"p","txn":"T3","outcome":"commit"}
{"type":"assign","consumer":"c","partitions":[{"topic":"t","partition":0},{"topic":"t","partition":1}]}
{"type":"poll","consumer":"c","topic":"t","partition":0,"offset":0,"value":"a1","read_committed":true}
{"type":"poll","consumer":"c","topic":"t","partition":1,"offset":0,"value":"a2","read_committed":true}
#B1
{"type":"poll","consumer":"c","topic":"t","partition":0,"offset":4,"value":"c1","read_committed":true}
{"type":"final","topic":"t","partition":0,"records":[[0,"a1"],[2,"b1"],[4,"c1"]],"aborted":[2]}
{"type":"final","topic":"t","partition":1,"records":[[0,"a2"]]}
"#;

fn kinds(text: &str) -> Vec<AnomalyKind> {
    let history = parse(text).expect("a valid history");
    check(&history, &[]).into_iter().map(|a| a.kind).collect()
}

#[test]
fn committed_transactions_read_committed_are_clean() {
    // Passing over the aborted b1 at offset 2 is no poll-skip for read_committed.
    assert_eq!(kinds(CLEAN), vec![]);
}

#[test]
fn a_read_committed_poll_of_an_aborted_record_is_an_aborted_read() {
    let b1 = r#"{"type":"poll","consumer":"c","topic":"t","partition":0,"offset":2,"value":"b1","read_committed":true}"#;
    assert_eq!(
        kinds(&CLEAN.replace("#B1", b1)),
        vec![AnomalyKind::AbortedRead]
    );
    // Known aborted only from the log (the producer never said): still an aborted read.
    let unsaid = CLEAN.replace("#B1", b1).replace(
        r#"{"type":"txn","producer":"p","txn":"T2","outcome":"abort"}"#,
        "",
    );
    assert_eq!(kinds(&unsaid), vec![AnomalyKind::AbortedRead]);
}

#[test]
fn a_read_uncommitted_consumer_may_see_aborted_records() {
    let b1 = r#"{"type":"poll","consumer":"c","topic":"t","partition":0,"offset":2,"value":"b1"}"#;
    let text = CLEAN
        .replace("#B1", b1)
        .replace(r#","read_committed":true"#, "");
    assert_eq!(kinds(&text), vec![]);
}

#[test]
fn reading_past_a_committed_transactions_record_without_it_is_a_partial_read() {
    // T4 (d1) commits later on t-1; the consumer reads d1 at t-1 offset 2 but never saw a2,
    // though it saw a1 of the same transaction.
    let later = r#"
{"type":"send","producer":"p","value":"d1","txn":"T4"}
{"type":"ack","producer":"p","value":"d1","topic":"t","partition":1,"offset":2}
{"type":"txn","producer":"p","txn":"T4","outcome":"commit"}
{"type":"poll","consumer":"c","topic":"t","partition":1,"offset":2,"value":"d1","read_committed":true}
{"type":"final","topic":"t","partition":1,"records":[[2,"d1"]]}
"#;
    let whole = format!("{CLEAN}{later}");
    assert_eq!(kinds(&whole), vec![]);
    let a2 = r#"{"type":"poll","consumer":"c","topic":"t","partition":1,"offset":0,"value":"a2","read_committed":true}"#;
    let partial = whole.replace(a2, "");
    // Without a2 the consumer's first poll of t-1 is d1 at offset 2: it may have picked t-1
    // up there (a rebalance, a committed offset past a2), which is no partial read.
    assert_eq!(kinds(&partial), vec![]);
}

/// T5 (e1 on t-0, e2 on t-1) commits between T4 (d1) and T6 (f1) on t-1.
const LATER: &str = r#"
{"type":"send","producer":"p","value":"d1","txn":"T4"}
{"type":"ack","producer":"p","value":"d1","topic":"t","partition":1,"offset":2}
{"type":"txn","producer":"p","txn":"T4","outcome":"commit"}
{"type":"send","producer":"p","value":"e1","txn":"T5"}
{"type":"send","producer":"p","value":"e2","txn":"T5"}
{"type":"ack","producer":"p","value":"e1","topic":"t","partition":0,"offset":6}
{"type":"ack","producer":"p","value":"e2","topic":"t","partition":1,"offset":4}
{"type":"txn","producer":"p","txn":"T5","outcome":"commit"}
{"type":"send","producer":"p","value":"f1","txn":"T6"}
{"type":"ack","producer":"p","value":"f1","topic":"t","partition":1,"offset":6}
{"type":"txn","producer":"p","txn":"T6","outcome":"commit"}
{"type":"poll","consumer":"c","topic":"t","partition":1,"offset":2,"value":"d1","read_committed":true}
{"type":"poll","consumer":"c","topic":"t","partition":0,"offset":6,"value":"e1","read_committed":true}
#E2
{"type":"poll","consumer":"c","topic":"t","partition":1,"offset":6,"value":"f1","read_committed":true}
#C2
{"type":"final","topic":"t","partition":0,"records":[[0,"a1"],[2,"b1"],[4,"c1"],[6,"e1"]],"aborted":[2]}
{"type":"final","topic":"t","partition":1,"records":[[0,"a2"],[2,"d1"],[4,"e2"],[6,"f1"]]}
"#;

#[test]
fn only_a_record_between_the_lowest_and_highest_offsets_polled_is_partially_read() {
    let e2 = r#"{"type":"poll","consumer":"c","topic":"t","partition":1,"offset":4,"value":"e2","read_committed":true}"#;
    let whole = format!("{CLEAN}{}", LATER.replace("#E2", e2).replace("#C2", ""));
    assert_eq!(kinds(&whole), vec![]);
    // c polled t-1 at 0, 2 and 6 but not e2 at 4, having seen e1 of T5: a partial read (and
    // a poll-skip from 2 to 6).
    let partial = format!("{CLEAN}{}", LATER.replace("#E2", "").replace("#C2", ""));
    assert_eq!(
        kinds(&partial),
        vec![AnomalyKind::PollSkip, AnomalyKind::PartialRead]
    );
    // c2 picked t-1 up at f1 (offset 6, past e2, read by c) after a rebalance: clean.
    let c2 = r#"
{"type":"poll","consumer":"c2","topic":"t","partition":0,"offset":6,"value":"e1","read_committed":true}
{"type":"poll","consumer":"c2","topic":"t","partition":1,"offset":6,"value":"f1","read_committed":true}"#;
    let rebalanced = format!("{CLEAN}{}", LATER.replace("#E2", e2).replace("#C2", c2));
    assert_eq!(kinds(&rebalanced), vec![]);
}

#[test]
fn a_committed_record_missing_or_aborted_after_the_run_is_lost() {
    let missing = CLEAN.replace(r#"[[0,"a2"]]"#, "[]");
    let found = kinds(&missing);
    assert!(found.contains(&AnomalyKind::TxnLostWrite), "{found:?}");
    // Inside an aborted transaction in the log: lost too (and its read an aborted read).
    let aborted = CLEAN.replace(r#"[[0,"a2"]]}"#, r#"[[0,"a2"]],"aborted":[0]}"#);
    let found = kinds(&aborted);
    assert!(found.contains(&AnomalyKind::TxnLostWrite), "{found:?}");
    assert!(found.contains(&AnomalyKind::AbortedRead), "{found:?}");
    // A transaction whose outcome is unknown is not judged.
    let unknown = missing.replace(
        r#""txn":"T1","outcome":"commit""#,
        r#""txn":"T1","outcome":"unknown""#,
    );
    let found = kinds(&unknown);
    assert!(!found.contains(&AnomalyKind::TxnLostWrite), "{found:?}");
}

/// A consume-transform-produce output: o1 and o2 were both made from input a1; o2's
/// transaction (before a crash) was aborted.
const CTP: &str = r#"
{"type":"send","producer":"ctp#1","value":"o1","txn":"U1","source":"a1"}
{"type":"ack","producer":"ctp#1","value":"o1","topic":"out","partition":0,"offset":0}
{"type":"txn","producer":"ctp#1","txn":"U1","outcome":"abort"}
{"type":"send","producer":"ctp#2","value":"o2","txn":"U2","source":"a1"}
{"type":"ack","producer":"ctp#2","value":"o2","topic":"out","partition":0,"offset":2}
{"type":"txn","producer":"ctp#2","txn":"U2","outcome":"commit"}
{"type":"final","topic":"out","partition":0,"records":[[0,"o1"],[2,"o2"]],"aborted":[0]}
"#;

#[test]
fn an_input_output_twice_only_once_visibly_is_no_duplicate() {
    assert_eq!(kinds(CTP), vec![]);
}

#[test]
fn an_input_output_twice_visibly_is_a_ctp_duplicate() {
    // At-least-once: both outputs outside transactions, both visible.
    let text = CTP
        .replace(
            r#"{"type":"txn","producer":"ctp#1","txn":"U1","outcome":"abort"}"#,
            "",
        )
        .replace(
            r#"{"type":"txn","producer":"ctp#2","txn":"U2","outcome":"commit"}"#,
            "",
        )
        .replace(r#","aborted":[0]"#, "")
        .replace(r#","txn":"U1""#, "")
        .replace(r#","txn":"U2""#, "");
    let history = parse(&text).unwrap();
    let anomalies = check(&history, &[]);
    assert_eq!(anomalies.len(), 1, "{anomalies:?}");
    assert_eq!(anomalies[0].kind, AnomalyKind::CtpDuplicate);
    assert_eq!(anomalies[0].value.as_deref(), Some("a1"));
}

#[test]
fn old_histories_without_transactions_still_read() {
    let text = r#"{"type":"send","producer":"p","value":"v"}
{"type":"poll","consumer":"c","topic":"t","partition":0,"offset":0,"value":"v"}
{"type":"final","topic":"t","partition":0,"records":[[0,"v"]]}"#;
    assert_eq!(kinds(text), vec![]);
    let bad = r#"{"type":"txn","producer":"p","txn":"T","outcome":"maybe"}"#;
    assert!(parse(bad).is_err());
}
