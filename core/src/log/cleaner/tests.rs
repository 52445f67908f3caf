//! The cleaner's behaviours, one per test: what it keeps, when it runs, and what a crash at
//! any point of a round leaves.

use std::collections::BTreeMap;

use super::*;
use crate::batch::{BatchBuilder, decode_records, split_batches};
use crate::log::LogConfig;
use crate::storage::{FaultyStorage, MemoryStorage};

pub(super) type TestLog = Log<FaultyStorage<MemoryStorage>>;

/// Small segments (about three one-record batches each), a compact-only log, tombstones kept
/// 1 s, and no lag.
pub(super) fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 250,
        segment_ms: Millis(i64::MAX as u64),
        retention_ms: None,
        index_interval_bytes: 0,
        delete: false,
        compact: true,
        delete_retention_ms: Millis(1_000),
        min_cleanable_dirty_ratio: 0.0,
        ..LogConfig::default()
    }
}

pub(super) fn cleaner() -> CleanerConfig {
    CleanerConfig {
        io_buffer_size: 200, // a step reads about one batch
        ..CleanerConfig::default()
    }
}

pub(super) fn open(config: LogConfig) -> TestLog {
    Log::open(FaultyStorage::new(MemoryStorage::new()).unwrap(), config)
        .unwrap()
        .0
}

/// Appends one record per batch; `None` value is a tombstone. Returns its offset.
pub(super) fn put(log: &mut TestLog, key: &str, value: Option<&str>, now: u64) -> i64 {
    let mut builder = BatchBuilder::new();
    builder.push(
        now as i64,
        Some(key.as_bytes()),
        value.map(str::as_bytes),
        &[],
    );
    log.append(&mut builder.build(), 0, Millis(now))
        .unwrap()
        .base_offset
}

/// Every record the log serves from its start: (offset, key, value).
pub(super) fn served(log: &TestLog) -> Vec<(i64, String, Option<String>)> {
    let mut out = Vec::new();
    let mut next = log.log_start_offset();
    while next < log.log_end_offset() {
        let read = log.read(next, 1 << 20).unwrap();
        let batches = split_batches(&read.records).unwrap();
        for (range, summary) in &batches {
            for record in decode_records(&read.records[range.clone()]).unwrap() {
                if record.offset >= next {
                    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
                    out.push((
                        record.offset,
                        text(record.key.unwrap()),
                        record.value.map(text),
                    ));
                }
            }
            next = summary.header.next_offset();
        }
    }
    out
}

fn latest(records: &[(i64, String, Option<String>)]) -> BTreeMap<String, Option<String>> {
    records
        .iter()
        .map(|(_, key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Ten values over three keys, flushed; the active segment holds only the last.
fn ten_values(log: &mut TestLog) {
    for i in 0..10 {
        put(
            log,
            &format!("k{}", i % 3),
            Some(&format!("v{i}")),
            1_000 + i,
        );
    }
    log.flush().unwrap();
}

#[test]
fn keeps_the_latest_value_of_each_key_at_its_offset() {
    let mut log = open(config());
    ten_values(&mut log);
    let before = served(&log);
    let size_before = log.size_bytes();
    let end = log.log_end_offset();
    let stats = log.clean_now(Millis(5_000), end, &cleaner()).unwrap();
    let stats = stats.expect("dirty enough");
    assert_eq!(stats.first_dirty_offset, 0);
    let active_base = log.segments().last().unwrap().base_offset;
    assert_eq!(
        stats.end_offset, active_base,
        "everything below the active segment"
    );
    let after = served(&log);
    // Each key's latest record among the cleaned ones, then the active segment as it was.
    let cleaned: Vec<_> = before.iter().filter(|r| r.0 < active_base).collect();
    let mut expect: Vec<_> = cleaned
        .iter()
        .filter(|r| !cleaned.iter().any(|later| later.1 == r.1 && later.0 > r.0))
        .map(|r| (*r).clone())
        .collect();
    expect.extend(before.iter().filter(|r| r.0 >= active_base).cloned());
    assert_eq!(after, expect);
    assert_eq!(latest(&after), latest(&before));
    assert!(after.len() < before.len());
    assert!(log.size_bytes() < size_before);
    assert_eq!(log.log_end_offset(), end, "offsets never change");
    // What a restart finds is the same, and the checkpoint survives it.
    let (log, report) = Log::open(log.into_storage(), config()).unwrap();
    assert_eq!(report.truncated, None);
    assert_eq!(served(&log), after);
    assert_eq!(log.first_dirty_offset(), active_base);
}

#[test]
fn only_dirty_logs_are_cleaned_and_only_below_the_bound() {
    let mut log = open(LogConfig {
        min_cleanable_dirty_ratio: 0.5,
        ..config()
    });
    ten_values(&mut log);
    // Nothing may be cleaned at or above the bound (the high watermark), and only whole
    // segments: below the first segment's end there is nothing to clean.
    assert_eq!(log.cleanable_range(Millis(5_000), 1), None);
    let range = log.cleanable_range(Millis(5_000), 4).unwrap();
    assert_eq!(range.first_uncleanable_offset, 3);
    let end = log.log_end_offset();
    let range = log.cleanable_range(Millis(5_000), end).unwrap();
    assert_eq!(range.clean_bytes, 0);
    assert!((range.dirty_ratio() - 1.0).abs() < 1e-9);
    assert!(
        log.clean_now(Millis(5_000), end, &cleaner())
            .unwrap()
            .is_some()
    );
    // Now clean: not dirty enough until as many new bytes arrive.
    let range = log.cleanable_range(Millis(5_000), end).unwrap();
    assert_eq!(range.cleanable_bytes, 0);
    assert!(!range.should_clean());
    assert_eq!(log.clean_now(Millis(5_000), end, &cleaner()), Ok(None));
    // A log without `compact` is never cleaned.
    let mut plain = open(LogConfig {
        compact: false,
        delete: true,
        ..config()
    });
    let mut builder = BatchBuilder::new();
    builder.push(0, None, Some(b"x"), &[]);
    plain.append(&mut builder.build(), 0, Millis(0)).unwrap();
    assert_eq!(plain.cleanable_range(Millis(0), 1), None);
}

#[test]
fn compaction_lags_hold_back_young_segments_and_force_old_ones() {
    let mut log = open(LogConfig {
        min_compaction_lag_ms: Millis(500),
        ..config()
    });
    ten_values(&mut log); // timestamps 1000..1009
    let end = log.log_end_offset();
    assert_eq!(
        log.cleanable_range(Millis(1_200), end),
        None,
        "every segment is younger than 500 ms"
    );
    let range = log.cleanable_range(Millis(1_600), end).unwrap();
    assert_eq!(
        range.first_uncleanable_offset,
        log.segments().last().unwrap().base_offset
    );
    // max.compaction.lag.ms makes a log cleanable whatever its dirty ratio.
    log.set_config(LogConfig {
        min_cleanable_dirty_ratio: 1.0,
        max_compaction_lag_ms: Millis(2_000),
        ..config()
    });
    let range = log.cleanable_range(Millis(2_500), end).unwrap();
    assert!(!range.should_clean(), "not past the max lag yet");
    let range = log.cleanable_range(Millis(3_100), end).unwrap();
    assert!(range.compaction_delay_ms > 0);
    assert!(range.should_clean());
}

#[test]
fn tombstones_stay_for_delete_retention_ms_after_the_cleaning_that_kept_them() {
    let mut log = open(config());
    put(&mut log, "gone", Some("old"), 1_000);
    put(&mut log, "kept", Some("v"), 1_000);
    put(&mut log, "gone", None, 1_000);
    for i in 0..4 {
        put(&mut log, "filler", Some(&format!("f{i}")), 1_000);
    }
    log.flush().unwrap();
    let end = log.log_end_offset();
    log.clean_now(Millis(10_000), end, &cleaner())
        .unwrap()
        .unwrap();
    let keys = |log: &TestLog| latest(&served(log));
    assert_eq!(keys(&log)["gone"], None, "the tombstone is still read");
    assert!(served(&log).iter().all(|r| r.2.as_deref() != Some("old")));
    // Horizon: 10 000 + 1 000. A cleaning before it keeps the tombstone, after it removes it
    // (new dirty data makes the log worth cleaning again).
    for (now, still_there) in [(10_900, true), (11_000, false)] {
        put(&mut log, "filler", Some("more"), now);
        put(&mut log, "filler", Some("again"), now);
        put(&mut log, "filler", Some("more"), now);
        put(&mut log, "filler", Some("again"), now);
        log.flush().unwrap();
        let end = log.log_end_offset();
        log.clean_now(Millis(now), end, &cleaner())
            .unwrap()
            .unwrap();
        assert_eq!(keys(&log).contains_key("gone"), still_there, "at {now}");
    }
    assert_eq!(keys(&log)["kept"].as_deref(), Some("v"));
}

#[test]
fn producer_sequences_survive_compaction() {
    let mut log = open(config());
    for sequence in 0..6 {
        let mut builder = BatchBuilder::new().idempotent(5, 0, sequence);
        builder.push(
            1_000,
            Some(b"k"),
            Some(format!("v{sequence}").as_bytes()),
            &[],
        );
        log.append(&mut builder.build(), 0, Millis(1_000)).unwrap();
    }
    put(&mut log, "other", Some("x"), 1_000);
    put(&mut log, "other", Some("y"), 1_000);
    log.flush().unwrap();
    let end = log.log_end_offset();
    log.clean_now(Millis(2_000), end, &cleaner())
        .unwrap()
        .unwrap();
    let (mut log, _) = Log::open(log.into_storage(), config()).unwrap();
    // The producer's next batch is in sequence, its last one still a duplicate.
    let mut resend = BatchBuilder::new().idempotent(5, 0, 5);
    resend.push(1_000, Some(b"k"), Some(b"v5"), &[]);
    assert!(
        log.append(&mut resend.build(), 0, Millis(3_000))
            .unwrap()
            .duplicate
    );
    let mut next = BatchBuilder::new().idempotent(5, 0, 6);
    next.push(1_000, Some(b"k"), Some(b"v6"), &[]);
    assert!(
        !log.append(&mut next.build(), 0, Millis(3_000))
            .unwrap()
            .duplicate
    );
}

#[test]
fn a_crash_at_any_write_of_a_round_loses_nothing() {
    let mut clean_run = open(config());
    ten_values(&mut clean_run);
    let before = served(&clean_run);
    let end = clean_run.log_end_offset();
    clean_run
        .clean_now(Millis(5_000), end, &cleaner())
        .unwrap()
        .unwrap();
    let cleaned = served(&clean_run);
    let mut crash_points = 0;
    for writes in 0.. {
        let mut log = open(config());
        ten_values(&mut log);
        let Log { storage, .. } = &mut log;
        storage.fail_writes_after(writes);
        let finished = log.clean_now(Millis(5_000), end, &cleaner()).is_ok();
        for kept in [0, 7, 1 << 20] {
            let mut storage = clone_storage(&log);
            storage.crash(kept).unwrap();
            let (reopened, _) = Log::open(storage, config()).unwrap();
            let got = served(&reopened);
            assert_eq!(reopened.log_end_offset(), end, "after {writes} writes");
            assert_eq!(latest(&got), latest(&before), "after {writes} writes");
            // Every record served is one that was written, at its own offset.
            assert!(
                got.iter().all(|r| before.contains(r)),
                "after {writes} writes"
            );
            if finished {
                assert_eq!(got, cleaned);
            }
        }
        if finished {
            break;
        }
        crash_points += 1;
    }
    assert!(crash_points > 10, "{crash_points} crash points");
}

/// A copy of the log's storage as a crash would find it (durable lengths included).
fn clone_storage(log: &TestLog) -> FaultyStorage<MemoryStorage> {
    log.storage().clone()
}

#[test]
fn a_round_in_steps_survives_appends_and_restarts_after_retention() {
    let mut log = open(config());
    ten_values(&mut log);
    let end = log.log_end_offset();
    let range = log.cleanable_range(Millis(5_000), end).unwrap();
    log.begin_cleaning(&range, Millis(5_000), &cleaner())
        .unwrap();
    assert_eq!(log.clean_step(&cleaner()), Ok(CleanerStep::Working));
    // Appends go on while the round runs; they are not part of it.
    for i in 0..5 {
        put(&mut log, "late", Some(&format!("l{i}")), 2_000);
    }
    let mut steps = 1;
    let stats = loop {
        steps += 1;
        match log.clean_step(&cleaner()).unwrap() {
            CleanerStep::Working => {}
            CleanerStep::Done(stats) => break stats,
            CleanerStep::Idle => panic!("the round vanished"),
        }
    };
    assert!(steps > 5, "bounded steps: {steps}");
    assert_eq!(stats.end_offset, range.first_uncleanable_offset);
    assert_eq!(latest(&served(&log))["late"].as_deref(), Some("l4"));
    // A DeleteRecords in the middle of a round aborts it and removes its file.
    log.flush().unwrap();
    let end = log.log_end_offset();
    let range = log.cleanable_range(Millis(5_000), end).unwrap();
    log.begin_cleaning(&range, Millis(5_000), &cleaner())
        .unwrap();
    while log
        .storage()
        .list()
        .unwrap()
        .iter()
        .all(|f| !f.ends_with(".cleaned"))
    {
        assert_eq!(log.clean_step(&cleaner()), Ok(CleanerStep::Working));
    }
    let first_segment_end = log.segments()[0].next_offset;
    log.delete_records_before(first_segment_end).unwrap();
    assert!(!log.is_cleaning());
    assert!(
        log.storage()
            .list()
            .unwrap()
            .iter()
            .all(|f| !f.ends_with(".cleaned"))
    );
}

/// Once every record of many small segments was superseded, those segments hold only the
/// empty headers the cleaner keeps (each group's last batch). A fetch from the log start must
/// still reach a record: a consumer that gets batch after batch with nothing to deliver takes
/// it for a message too large to fetch (librdkafka doubles its fetch size and, after ten such
/// answers, fails with MSG_SIZE_TOO_LARGE; seen by the cleaner stress test).
#[test]
fn a_read_goes_past_segments_left_with_empty_batches_only() {
    let mut log = open(config());
    for i in 0..30 {
        put(&mut log, "a", Some(&format!("v{i}")), 1_000 + i);
    }
    log.flush().unwrap();
    let end = log.log_end_offset();
    log.clean_now(Millis(5_000), end, &cleaner()).unwrap();
    assert!(log.segments().len() > 3, "{:?}", log.segments().len());
    let read = log.read(log.log_start_offset(), 1 << 20).unwrap();
    let batches = split_batches(&read.records).unwrap();
    assert!(
        batches.iter().any(|(_, s)| s.header.record_count > 0),
        "a read from the start serves a record, not only {} empty batches",
        batches.len()
    );
    let served = served(&log);
    assert_eq!(served.last().unwrap().2.as_deref(), Some("v29"));
    assert!(served.windows(2).all(|w| w[0].0 < w[1].0));
    // Bounded as before: a read ending below the high watermark stops there.
    let bounded = log.read_bounded(0, 1 << 20, end - 1).unwrap();
    let last = split_batches(&bounded.records).unwrap();
    assert!(last.iter().all(|(_, s)| s.header.last_offset() < end - 1));
}
