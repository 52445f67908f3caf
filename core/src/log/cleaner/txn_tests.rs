//! The cleaner and transactions: records of aborted transactions never hide a committed
//! value (Kafka's `LogCleaner` leaves them out of the offset map and removes them).

use super::tests::{TestLog, cleaner, config, open, put, served};
use crate::Millis;
use crate::batch::{BatchBuilder, EndTxnMarker};

/// Appends one transactional record `key=value` from `producer_id` (epoch 0); its offset.
fn txn_put(log: &mut TestLog, producer_id: i64, seq: i32, key: &str, value: &str) -> i64 {
    let mut builder = BatchBuilder::new()
        .idempotent(producer_id, 0, seq)
        .transactional();
    builder.push(1_000, Some(key.as_bytes()), Some(value.as_bytes()), &[]);
    log.append(&mut builder.build(), 0, Millis(1_000))
        .unwrap()
        .base_offset
}

fn end_txn(log: &mut TestLog, producer_id: i64, commit: bool) -> i64 {
    let marker = EndTxnMarker {
        producer_id,
        producer_epoch: 0,
        coordinator_epoch: 0,
        commit,
    };
    log.append_marker(&marker, 0, Millis(1_000))
        .unwrap()
        .base_offset
}

/// The records of `key` the log serves, by offset.
fn values_of(log: &TestLog, key: &str) -> Vec<(i64, Option<String>)> {
    served(log)
        .into_iter()
        .filter(|(_, k, _)| k == key)
        .map(|(offset, _, value)| (offset, value))
        .collect()
}

/// Enough other records to push everything before into inactive segments.
fn filler(log: &mut TestLog) {
    for i in 0..6 {
        put(log, &format!("f{i}"), Some("x"), 1_000);
    }
    log.flush().unwrap();
}

#[test]
fn an_aborted_value_never_hides_the_committed_one() {
    let mut log = open(config());
    let v1 = put(&mut log, "k", Some("v1"), 1_000);
    // A committed transaction's value of another key, then an aborted one of `k`.
    let c = txn_put(&mut log, 7, 0, "c", "committed");
    end_txn(&mut log, 7, true);
    let v2 = txn_put(&mut log, 8, 0, "k", "v2");
    end_txn(&mut log, 8, false);
    filler(&mut log);
    assert_eq!(log.aborted_transactions(0, log.log_end_offset()).len(), 1);
    let end = log.log_end_offset();
    log.clean_now(Millis(5_000), end, &cleaner())
        .unwrap()
        .expect("dirty enough");
    // The committed value stays; the aborted record is gone (its producer's batch header
    // may stay empty, for its sequence numbers).
    assert_eq!(values_of(&log, "k"), [(v1, Some("v1".into()))]);
    assert!(v2 > v1);
    assert_eq!(values_of(&log, "c"), [(c, Some("committed".into()))]);
    // A second round (the committed value now clean) keeps it too.
    filler(&mut log);
    let end = log.log_end_offset();
    log.clean_now(Millis(6_000), end, &cleaner()).unwrap();
    assert_eq!(values_of(&log, "k"), [(v1, Some("v1".into()))]);
    // A restart rebuilds the producer state from what is left (the aborted batch at most as
    // an empty header before its marker) and serves the same.
    let before = served(&log);
    let (log, report) = crate::log::Log::open(log.into_storage(), config()).unwrap();
    assert_eq!(report.truncated, None);
    assert_eq!(served(&log), before);
    assert_eq!(
        log.last_stable_offset(log.log_end_offset()),
        log.log_end_offset()
    );
}
