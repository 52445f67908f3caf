//! The cleaner and transactions: records of aborted transactions never hide a committed
//! value (Kafka's `LogCleaner` leaves them out of the offset map and removes them).

use super::tests::{TestLog, cleaner, config, open, put, served};
use crate::Millis;
use crate::batch::{BatchBuilder, EndTxnMarker};
use crate::storage::Storage;

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
    assert_eq!(
        log.aborted_transactions(0, log.log_end_offset())
            .unwrap()
            .len(),
        1
    );
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

/// Aborted transactions of four producers spread over several segments, then filler: the
/// log's end.
fn aborts_in_several_segments(log: &mut TestLog) -> i64 {
    for producer in 1..=4 {
        txn_put(log, producer, 0, &format!("a{producer}"), "aborted");
        put(log, &format!("p{producer}"), Some("plain"), 1_000);
        end_txn(log, producer, false);
    }
    filler(log);
    log.log_end_offset()
}

/// The `.txnindex` files and their lengths.
fn txn_indexes(log: &TestLog) -> Vec<(String, u64)> {
    let storage = log.storage();
    let files = storage.list().unwrap();
    files
        .into_iter()
        .filter(|f| f.contains(".txnindex"))
        .map(|f| (f.clone(), storage.len(&f).unwrap()))
        .collect()
}

/// Larger segments than `config`'s, so that a round groups several of its segments.
fn larger_segments(log: &mut TestLog) {
    log.set_config(crate::log::LogConfig {
        segment_bytes: 1_000,
        ..config()
    });
    for _ in 0..3 {
        filler(log);
    }
}

#[test]
fn cleaning_merges_the_indexes_of_the_segments_it_replaces() {
    let mut log = open(config());
    let end = aborts_in_several_segments(&mut log);
    let aborted = log.aborted_transactions(0, end).unwrap();
    assert_eq!(aborted.len(), 4);
    let before = txn_indexes(&log).len();
    assert!(before > 1, "{:?}", txn_indexes(&log));
    log.clean_now(Millis(5_000), end, &cleaner())
        .unwrap()
        .expect("dirty enough");
    assert_eq!(log.aborted_transactions(0, end).unwrap(), aborted);
    // With larger segments, a round groups the cleaned ones: their indexes merge into the
    // index of the segment replacing them.
    larger_segments(&mut log);
    let end = log.log_end_offset();
    let stats = log
        .clean_now(Millis(6_000), end, &cleaner())
        .unwrap()
        .expect("dirty enough");
    let indexes = txn_indexes(&log);
    assert!(indexes.len() < before, "{indexes:?}");
    let total: u64 = indexes.iter().map(|(_, len)| len).sum();
    assert_eq!(total, 4 * 34, "{indexes:?}");
    for (file, _) in &indexes {
        let base = &file[..20];
        assert!(
            stats
                .segments_written
                .iter()
                .any(|b| format!("{b:020}") == base),
            "{file} of a cleaned segment: {stats:?}"
        );
    }
    assert_eq!(log.aborted_transactions(0, end).unwrap(), aborted);
    let (reopened, report) = crate::log::Log::open(log.into_storage(), config()).unwrap();
    assert!(report.rebuilt_txn_indexes.is_empty(), "{report:?}");
    assert_eq!(reopened.aborted_transactions(0, end).unwrap(), aborted);
}

/// A log whose next round merges segments with aborts; its end.
fn ready_to_merge(log: &mut TestLog) -> i64 {
    let end = aborts_in_several_segments(log);
    log.clean_now(Millis(5_000), end, &cleaner()).unwrap();
    larger_segments(log);
    log.log_end_offset()
}

#[test]
fn a_crash_at_any_write_of_a_round_keeps_every_abort_indexed() {
    let mut expected_log = open(config());
    let end = ready_to_merge(&mut expected_log);
    let aborted = expected_log.aborted_transactions(0, end).unwrap();
    let mut crash_points = 0;
    for writes in 0.. {
        let mut log = open(config());
        ready_to_merge(&mut log);
        let crate::log::Log { storage, .. } = &mut log;
        storage.fail_writes_after(writes);
        let finished = log.clean_now(Millis(6_000), end, &cleaner()).is_ok();
        for kept in [0, 20, 1 << 20] {
            let mut storage = log.storage().clone();
            storage.crash(kept).unwrap();
            let (reopened, _) = crate::log::Log::open(storage, config()).unwrap();
            assert_eq!(
                reopened.aborted_transactions(0, end).unwrap(),
                aborted,
                "after {writes} writes"
            );
            // No merged index is left behind, and no index outlives its segment.
            for (file, len) in txn_indexes(&reopened) {
                assert!(file.ends_with(".txnindex"), "{file} after {writes} writes");
                let segment = reopened
                    .segments
                    .iter()
                    .find(|s| s.txn_index_file() == file)
                    .unwrap_or_else(|| panic!("{file} has no segment after {writes} writes"));
                assert_eq!(segment.txn_index_bytes, len);
            }
        }
        if finished {
            let merged = txn_indexes(&log);
            assert!(merged.iter().any(|(_, len)| *len > 34), "{merged:?}");
            break;
        }
        crash_points += 1;
    }
    assert!(crash_points > 10, "{crash_points} crash points");
}
