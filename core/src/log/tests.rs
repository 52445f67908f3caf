//! The log's behaviours, one per test, on the in-memory and fault-injecting backends.

use super::*;
use crate::batch::{BatchBuilder, TimestampType, decode_records, split_batches};
use crate::storage::{FaultyStorage, MemoryStorage};
use crate::{ErrorCode, Millis};

/// Small segments and an index entry per batch, so a few batches exercise everything.
fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 400,
        segment_ms: Millis(1_000_000),
        retention_ms: None,
        retention_bytes: None,
        index_interval_bytes: 0,
        max_message_bytes: 10_000,
        ..LogConfig::default()
    }
}

fn empty_log() -> Log<MemoryStorage> {
    Log::open(MemoryStorage::new(), config()).unwrap().0
}

/// A batch of one record per value, all with `timestamp`.
fn batch(values: &[&str], timestamp: i64) -> Vec<u8> {
    let mut builder = BatchBuilder::new();
    for value in values {
        builder.push(timestamp, None, Some(value.as_bytes()), &[]);
    }
    builder.build()
}

fn idempotent_batch(epoch: i16, sequence: i32, values: &[&str]) -> Vec<u8> {
    let mut builder = BatchBuilder::new().idempotent(42, epoch, sequence);
    for value in values {
        builder.push(0, None, Some(value.as_bytes()), &[]);
    }
    builder.build()
}

fn append(log: &mut Log<impl Storage>, values: &[&str], timestamp: i64) -> (i64, i64) {
    let info = log
        .append(&mut batch(values, timestamp), 0, Millis(timestamp as u64))
        .unwrap();
    (info.base_offset, info.last_offset)
}

/// The values of every record in a read's batches.
fn values(records: &[u8]) -> Vec<String> {
    split_batches(records)
        .unwrap()
        .iter()
        .flat_map(|(range, _)| decode_records(&records[range.clone()]).unwrap())
        .map(|record| String::from_utf8(record.value.unwrap()).unwrap())
        .collect()
}

fn batch_offsets(records: &[u8]) -> Vec<(i64, i64)> {
    let batches = split_batches(records).unwrap();
    batches
        .iter()
        .map(|(_, s)| (s.header.base_offset, s.header.last_offset()))
        .collect()
}

fn read_all(log: &Log<impl Storage>) -> Vec<String> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let read = log.read(offset, usize::MAX).unwrap();
        assert!(!read.records.is_empty(), "no batch at {offset}");
        let batches = split_batches(&read.records).unwrap();
        for (range, summary) in &batches {
            for record in decode_records(&read.records[range.clone()]).unwrap() {
                if record.offset >= offset {
                    out.push(String::from_utf8(record.value.unwrap()).unwrap());
                }
            }
            offset = summary.header.next_offset();
        }
    }
    out
}

#[test]
fn appends_get_consecutive_offsets_and_the_leader_epoch() {
    let mut log = empty_log();
    assert_eq!(append(&mut log, &["a", "b"], 1), (0, 1));
    let mut bytes = batch(&["c"], 2);
    let info = log.append(&mut bytes, 7, Millis(2)).unwrap();
    assert_eq!(
        (info.base_offset, info.last_offset, info.duplicate),
        (2, 2, false)
    );
    assert_eq!(log.log_end_offset(), 3);
    let read = log.read(2, 1000).unwrap();
    assert_eq!(read.records, bytes, "stored exactly as stamped in place");
    let header = split_batches(&read.records).unwrap()[0].1.header;
    assert_eq!(header.partition_leader_epoch, 7);
}

#[test]
fn reads_outside_the_log_are_out_of_range() {
    let mut log = empty_log();
    append(&mut log, &["a"], 1);
    assert_eq!(
        log.read(1, 100).unwrap().records,
        Vec::<u8>::new(),
        "at the log end: nothing yet"
    );
    let check = |offset| {
        let err = log.read(offset, 100).unwrap_err();
        assert_eq!(err.code(), ErrorCode::OFFSET_OUT_OF_RANGE, "{offset}");
    };
    check(2);
    check(-1);
}

#[test]
fn reads_return_whole_batches_and_at_least_one() {
    let mut log = empty_log();
    append(&mut log, &["a", "b", "c"], 1);
    append(&mut log, &["d"], 1);
    append(&mut log, &["e"], 1);
    assert_eq!(
        batch_offsets(&log.read(1, 1).unwrap().records),
        [(0, 2)],
        "one batch over budget"
    );
    assert_eq!(
        batch_offsets(&log.read(3, 1000).unwrap().records),
        [(3, 3), (4, 4)]
    );
    let one_batch = log.read(3, 1).unwrap().records.len();
    assert_eq!(
        batch_offsets(&log.read(3, one_batch + 1).unwrap().records),
        [(3, 3)]
    );
    assert_eq!(
        values(&log.read(1, 1000).unwrap().records),
        ["a", "b", "c", "d", "e"]
    );
}

#[test]
fn bounded_reads_stop_below_the_bound() {
    let mut log = empty_log();
    append(&mut log, &["a"], 1);
    append(&mut log, &["b"], 1);
    assert_eq!(
        batch_offsets(&log.read_bounded(0, 1000, 1).unwrap().records),
        [(0, 0)]
    );
    assert_eq!(
        log.read_bounded(1, 1000, 1).unwrap().records,
        Vec::<u8>::new()
    );
}

#[test]
fn segments_roll_by_size_and_reads_cross_them() {
    let mut log = empty_log();
    for i in 0..10 {
        append(&mut log, &[&format!("value {i:02}")], 1);
    }
    let segments = log.segments();
    assert!(segments.len() >= 2, "{segments:?}");
    assert!(
        segments
            .iter()
            .all(|s| s.size_bytes <= config().segment_bytes)
    );
    let files = log.storage().list().unwrap();
    assert!(files.contains(&"00000000000000000000.log".to_string()));
    assert!(files.contains(&format!("{:020}.timeindex", segments[1].base_offset)));
    let expect: Vec<String> = (0..10).map(|i| format!("value {i:02}")).collect();
    assert_eq!(read_all(&log), expect);
}

#[test]
fn segments_roll_by_age() {
    let mut log = Log::open(
        MemoryStorage::new(),
        LogConfig {
            segment_ms: Millis(100),
            ..config()
        },
    )
    .unwrap()
    .0;
    append(&mut log, &["a"], 1000);
    append(&mut log, &["b"], 1050);
    assert_eq!(log.segments().len(), 1);
    append(&mut log, &["c"], 1100);
    assert_eq!(
        log.segments()
            .iter()
            .map(|s| s.base_offset)
            .collect::<Vec<_>>(),
        [0, 2]
    );
}

#[test]
fn invalid_batches_are_refused_and_the_log_goes_on() {
    let mut log = empty_log();
    let check = |log: &mut Log<MemoryStorage>, mut bytes: Vec<u8>, expect: ErrorCode| {
        assert_eq!(
            log.append(&mut bytes, 0, Millis(1)).unwrap_err().code(),
            expect
        );
    };
    let mut corrupt = batch(&["a"], 1);
    *corrupt.last_mut().unwrap() ^= 1;
    check(&mut log, corrupt, ErrorCode::CORRUPT_MESSAGE);
    let mut two = batch(&["a"], 1);
    two.extend(batch(&["b"], 1));
    check(&mut log, two, ErrorCode::INVALID_RECORD);
    check(&mut log, Vec::new(), ErrorCode::INVALID_RECORD);
    let big = "x".repeat(500);
    check(
        &mut log,
        batch(&[&big], 1),
        ErrorCode::RECORD_LIST_TOO_LARGE,
    );
    log.set_config(LogConfig {
        max_message_bytes: 50,
        ..config()
    });
    check(&mut log, batch(&["a"], 1), ErrorCode::MESSAGE_TOO_LARGE);
    log.set_config(config());
    assert_eq!(append(&mut log, &["ok"], 1), (0, 0));
}

#[test]
fn idempotent_resends_get_their_original_offsets() {
    let mut log = empty_log();
    append(&mut log, &["other"], 1);
    let first = log
        .append(&mut idempotent_batch(0, 0, &["a", "b"]), 0, Millis(1))
        .unwrap();
    let resend = log
        .append(&mut idempotent_batch(0, 0, &["a", "b"]), 0, Millis(1))
        .unwrap();
    assert_eq!(
        (resend.base_offset, resend.last_offset, resend.duplicate),
        (1, 2, true)
    );
    assert_eq!(first.base_offset, 1);
    assert_eq!(log.log_end_offset(), 3, "not appended twice");
    let gap = log
        .append(&mut idempotent_batch(0, 5, &["c"]), 0, Millis(1))
        .unwrap_err();
    assert_eq!(gap.code(), ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    log.append(&mut idempotent_batch(1, 0, &["c"]), 0, Millis(1))
        .unwrap();
    let zombie = log
        .append(&mut idempotent_batch(0, 2, &["d"]), 0, Millis(1))
        .unwrap_err();
    assert_eq!(zombie.code(), ErrorCode::INVALID_PRODUCER_EPOCH);
}

#[test]
fn producer_state_survives_a_restart() {
    let mut log = empty_log();
    log.append(&mut idempotent_batch(0, 0, &["a"]), 0, Millis(1))
        .unwrap();
    log.flush().unwrap();
    let (mut log, _) = Log::open(log.into_storage(), config()).unwrap();
    let resend = log
        .append(&mut idempotent_batch(0, 0, &["a"]), 0, Millis(1))
        .unwrap();
    assert!(resend.duplicate);
    assert_eq!(log.log_end_offset(), 1);
}

#[test]
fn timestamps_answer_list_offsets() {
    let mut log = empty_log();
    let mut builder = BatchBuilder::new();
    builder
        .push(100, None, Some(b"a"), &[])
        .push(300, None, Some(b"b"), &[])
        .push(200, None, Some(b"c"), &[]);
    log.append(&mut builder.build(), 0, Millis(300)).unwrap();
    for timestamp in [400, 500] {
        append(&mut log, &["d"], timestamp);
    }
    let check = |timestamp, expect: Option<(i64, i64)>| {
        let found = log.offset_for_timestamp(timestamp).unwrap();
        assert_eq!(
            found.map(|f| (f.offset, f.timestamp)),
            expect,
            "{timestamp}"
        );
    };
    check(0, Some((0, 100)));
    check(150, Some((1, 300)));
    check(300, Some((1, 300)));
    check(301, Some((3, 400)));
    check(450, Some((4, 500)));
    check(501, None);
    assert_eq!(
        log.max_timestamp(),
        Some(TimestampOffset {
            offset: 4,
            timestamp: 500
        })
    );
    assert_eq!(empty_log().max_timestamp(), None);
}

#[test]
fn truncation_removes_whole_batches_from_the_end() {
    let mut log = empty_log();
    for i in 0..8 {
        append(&mut log, &[&format!("{i}a"), &format!("{i}b")], 1);
    }
    assert!(log.segments().len() > 1);
    assert_eq!(log.truncate_to(20), Ok(16), "beyond the end: nothing to do");
    assert_eq!(
        log.truncate_to(9),
        Ok(8),
        "inside a batch: the whole batch goes"
    );
    assert_eq!(
        read_all(&log),
        ["0a", "0b", "1a", "1b", "2a", "2b", "3a", "3b"]
    );
    assert_eq!(append(&mut log, &["new"], 1), (8, 8));
    assert_eq!(log.truncate_to(0), Ok(0));
    assert_eq!(log.segments().len(), 1);
    assert_eq!(append(&mut log, &["again"], 1), (0, 0));
    let (log, report) = Log::open(log.into_storage(), config()).unwrap();
    assert_eq!(report.truncated, None);
    assert_eq!(read_all(&log), ["again"]);
}

#[test]
fn truncation_forgets_truncated_producer_batches() {
    let mut log = empty_log();
    log.append(&mut idempotent_batch(0, 0, &["a"]), 0, Millis(1))
        .unwrap();
    log.append(&mut idempotent_batch(0, 1, &["b"]), 0, Millis(1))
        .unwrap();
    log.truncate_to(1).unwrap();
    let resent = log
        .append(&mut idempotent_batch(0, 1, &["b"]), 0, Millis(1))
        .unwrap();
    assert!(
        !resent.duplicate,
        "the truncated batch must be written again"
    );
}

#[test]
fn delete_records_moves_the_log_start() {
    let mut log = empty_log();
    for i in 0..10 {
        append(&mut log, &[&format!("value {i}")], 1);
    }
    let segments_before = log.segments().len();
    assert_eq!(log.delete_records_before(5), Ok(5));
    assert_eq!(
        log.read(4, 100).unwrap_err().code(),
        ErrorCode::OFFSET_OUT_OF_RANGE
    );
    assert_eq!(read_all(&log).first().map(String::as_str), Some("value 5"));
    assert!(
        log.segments().len() < segments_before,
        "segments below the start are deleted"
    );
    assert_eq!(log.delete_records_before(3), Ok(5), "never backwards");
    assert_eq!(
        log.delete_records_before(11).unwrap_err().code(),
        ErrorCode::OFFSET_OUT_OF_RANGE
    );
    let (log, report) = Log::open(log.into_storage(), config()).unwrap();
    assert_eq!(
        (report.log_start_offset, log.log_start_offset()),
        (5, 5),
        "checkpointed"
    );
}

#[test]
fn retention_by_time_deletes_old_segments_and_may_empty_the_log() {
    let config = LogConfig {
        retention_ms: Some(Millis(1000)),
        ..config()
    };
    let mut log = Log::open(MemoryStorage::new(), config).unwrap().0;
    for i in 0..6 {
        append(&mut log, &[&format!("value {i:03}")], 100 * i);
    }
    let report = log.apply_retention(Millis(1450)).unwrap();
    assert!(!report.deleted_segments.is_empty());
    assert!(log.log_start_offset() > 0);
    assert!(read_all(&log).contains(&"value 005".to_string()));
    let report = log.apply_retention(Millis(100_000)).unwrap();
    assert_eq!(report.log_start_offset, 6);
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (6, 6));
    assert_eq!(
        append(&mut log, &["next"], 100_000),
        (6, 6),
        "offsets continue"
    );
    let (log, _) = Log::open(log.into_storage(), config).unwrap();
    assert_eq!(log.log_start_offset(), 6);
}

#[test]
fn retention_by_size_keeps_the_log_within_bounds() {
    let config = LogConfig {
        retention_bytes: Some(500),
        ..config()
    };
    let mut log = Log::open(MemoryStorage::new(), config).unwrap().0;
    for i in 0..20 {
        append(&mut log, &[&format!("value {i:03}")], 1);
    }
    let before = log.size_bytes();
    log.apply_retention(Millis(1)).unwrap();
    assert!(log.size_bytes() < before);
    let active = log.segments().last().unwrap().size_bytes;
    assert!(log.size_bytes() <= 500 + active, "{}", log.size_bytes());
    assert_eq!(
        log.read(0, 100).unwrap_err().code(),
        ErrorCode::OFFSET_OUT_OF_RANGE
    );
}

#[test]
fn retention_never_deletes_a_compact_only_log_by_time_or_size() {
    // Issue 20: `cleanup.policy=compact` with a short retention.ms lost every record.
    let compact_only = LogConfig {
        retention_ms: Some(Millis(1000)),
        retention_bytes: Some(100),
        segment_bytes: 200,
        delete: false,
        compact: true,
        ..config()
    };
    let mut log = Log::open(MemoryStorage::new(), compact_only).unwrap().0;
    for i in 0..10 {
        let mut builder = BatchBuilder::new();
        let value = format!("value {i:03}");
        builder.push(100 * i, Some(b"key"), Some(value.as_bytes()), &[]);
        log.append(&mut builder.build(), 0, Millis(100 * i as u64))
            .unwrap();
    }
    assert!(log.segments().len() > 2);
    let report = log.apply_retention(Millis(1_000_000)).unwrap();
    assert_eq!(report.deleted_segments, Vec::<i64>::new());
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 10));
    assert_eq!(read_all(&log).len(), 10);

    // A log start moved by DeleteRecords still removes the segments below it.
    log.delete_records_before(5).unwrap();
    let report = log.apply_retention(Millis(1_000_000)).unwrap();
    assert_eq!(report.log_start_offset, 5);
    assert!(log.segments()[0].next_offset > 5);

    // `compact,delete` keeps both behaviours: time retention deletes again.
    log.set_config(LogConfig {
        delete: true,
        ..compact_only
    });
    let report = log.apply_retention(Millis(1_000_000)).unwrap();
    assert!(!report.deleted_segments.is_empty());
    assert_eq!(log.log_start_offset(), 10);
}

#[test]
fn recovery_cuts_a_torn_tail_and_reports_it() {
    let mut storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
    storage.append("00000000000000000000.log", &[]).unwrap();
    let (mut log, _) = Log::open(storage, config()).unwrap();
    append(&mut log, &["a"], 1);
    log.flush().unwrap();
    append(&mut log, &["b"], 1);
    let mut storage = log.into_storage();
    storage.crash(30).unwrap();
    let (log, report) = Log::open(storage, config()).unwrap();
    let cut = report.truncated.expect("a torn batch was cut");
    assert_eq!(
        (cut.file.as_str(), cut.bytes_dropped),
        ("00000000000000000000.log", 30)
    );
    assert_eq!(read_all(&log), ["a"]);
    assert_eq!((log.log_end_offset(), log.flushed_offset()), (1, 1));
}

#[test]
fn recovery_cuts_at_a_corrupt_batch_and_drops_later_segments() {
    let mut log = empty_log();
    for i in 0..10 {
        append(&mut log, &[&format!("value {i}")], 1);
    }
    let mut storage = log.into_storage();
    let file = "00000000000000000000.log";
    let mut bytes = storage.read(file, 0, usize::MAX).unwrap();
    let second = split_batches(&bytes).unwrap()[1].0.clone();
    bytes[second.end - 1] ^= 0xff;
    storage.truncate(file, 0).unwrap();
    storage.append(file, &bytes).unwrap();
    let (log, report) = Log::open(storage, config()).unwrap();
    let cut = report.truncated.unwrap();
    assert!(cut.reason.contains("CRC"), "{}", cut.reason);
    assert_eq!(cut.position, second.start as u64);
    assert!(!report.deleted_files.is_empty());
    assert_eq!(read_all(&log), ["value 0"]);
    assert_eq!(log.segments().len(), 1);
}

#[test]
fn only_flushed_writes_survive_a_crash() {
    let storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
    let (mut log, _) = Log::open(storage, config()).unwrap();
    for i in 0..6 {
        append(&mut log, &[&format!("value {i}")], 1);
        if i == 3 {
            log.flush().unwrap();
        }
    }
    assert_eq!((log.flushed_offset(), log.log_end_offset()), (4, 6));
    let mut storage = log.into_storage();
    storage.crash(0).unwrap();
    let (log, _) = Log::open(storage, config()).unwrap();
    assert_eq!(read_all(&log), ["value 0", "value 1", "value 2", "value 3"]);
}

#[test]
fn a_failed_write_stops_the_log_until_reopened() {
    let storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
    let (mut log, _) = Log::open(storage, config()).unwrap();
    append(&mut log, &["a"], 1);
    log.flush().unwrap();
    let Log { storage, .. } = &mut log;
    storage.tear_next_append(10);
    let err = log.append(&mut batch(&["b"], 1), 0, Millis(1)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::KAFKA_STORAGE_ERROR);
    assert_eq!(
        log.read(0, 100).unwrap_err().code(),
        ErrorCode::KAFKA_STORAGE_ERROR
    );
    let (mut log, report) = Log::open(log.into_storage(), config()).unwrap();
    assert_eq!(report.truncated.map(|t| t.bytes_dropped), Some(10));
    assert_eq!(append(&mut log, &["b"], 1), (1, 1));
    assert_eq!(read_all(&log), ["a", "b"]);
}

#[test]
fn replicated_batches_keep_their_offsets_and_must_continue_the_log() {
    let mut leader = empty_log();
    append(&mut leader, &["a", "b"], 1);
    append(&mut leader, &["c"], 1);
    let fetched = leader.read(0, 10_000).unwrap().records;
    let mut follower = empty_log();
    assert_eq!(follower.append_replicated(&fetched, Millis(1)), Ok(3));
    assert_eq!(follower.read(0, 10_000).unwrap().records, fetched);
    let err = follower.append_replicated(&fetched, Millis(1)).unwrap_err();
    assert_eq!(
        err,
        AppendError::UnexpectedOffset {
            expected: 3,
            got: 0
        }
    );
}

#[test]
fn replicated_batches_may_skip_offsets_a_cleaner_removed() {
    let mut leader = empty_log();
    for i in 0..8 {
        append(&mut leader, &[&format!("value {i:03}")], 1);
    }
    let mut fetched = Vec::new();
    while (fetched.len() as u64) < leader.size_bytes() {
        let next = split_batches(&fetched)
            .unwrap()
            .last()
            .map_or(0, |(_, s)| s.header.next_offset());
        fetched.extend(leader.read(next, 10_000).unwrap().records);
    }
    let batches = split_batches(&fetched).unwrap();
    // Offsets 2..=4 compacted away on the leader: the follower gets 0, 1, 5, 6, 7.
    let mut compacted = Vec::new();
    for (range, summary) in &batches {
        if !(2..=4).contains(&summary.header.base_offset) {
            compacted.extend_from_slice(&fetched[range.clone()]);
        }
    }
    // Two batches per segment: the batch at 5 starts a new segment, at the log end (2).
    let small = LogConfig {
        segment_bytes: 160,
        ..config()
    };
    let storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
    let mut follower = Log::open(storage, small).unwrap().0;
    assert_eq!(follower.append_replicated(&compacted, Millis(1)), Ok(8));
    let bases: Vec<i64> = follower.segments().iter().map(|s| s.base_offset).collect();
    assert_eq!(bases[..2], [0, 2], "rolled at the log end across the gap");
    follower.flush().unwrap();
    let (follower, report) = Log::open(follower.into_storage(), small).unwrap();
    assert_eq!(report.truncated, None, "a gap is not a lost tail");
    assert_eq!(follower.log_end_offset(), 8);
    let read = follower.read(3, 10_000).unwrap().records;
    assert_eq!(split_batches(&read).unwrap()[0].1.header.base_offset, 5);
}

#[test]
fn a_log_append_time_topic_stamps_batches_with_the_brokers_clock() {
    let config = LogConfig {
        log_append_time: true,
        ..config()
    };
    let mut log = Log::open(MemoryStorage::new(), config).unwrap().0;
    let info = log
        .append(&mut batch(&["a", "b"], 1_000), 0, Millis(77_000))
        .unwrap();
    assert_eq!(info.log_append_time, Some(Millis(77_000)));
    let read = log.read(0, 10_000).unwrap();
    let [(_, summary)] = &split_batches(&read.records).unwrap()[..] else {
        panic!("one batch");
    };
    assert_eq!(
        summary.header.timestamp_type(),
        TimestampType::LogAppendTime
    );
    assert_eq!(summary.header.max_timestamp, 77_000);
    assert_eq!(
        values(&read.records),
        ["a", "b"],
        "the records are untouched"
    );
    // The time index follows the append time: a lookup by the producer's time finds nothing
    // older than it, one by the append time finds the batch.
    assert_eq!(
        log.offset_for_timestamp(77_000).unwrap().map(|t| t.offset),
        Some(0)
    );

    // A create-time topic keeps the producer's timestamp.
    let mut plain = empty_log();
    let info = plain
        .append(&mut batch(&["a"], 1_000), 0, Millis(77_000))
        .unwrap();
    assert_eq!(info.log_append_time, None);
    let read = plain.read(0, 10_000).unwrap();
    let header = &split_batches(&read.records).unwrap()[0].1.header;
    assert_eq!(
        (header.timestamp_type(), header.max_timestamp),
        (TimestampType::CreateTime, 1_000)
    );
}

/// A log-start checkpoint at the end of the offset space (a fuzz finding: 8 bytes of
/// `i64::MAX`) restarts the log there, as any checkpoint beyond the recovered end does; the
/// log then refuses appends whose offsets would pass `i64::MAX` with a clear error instead of
/// overflowing, and stays readable and reopenable.
#[test]
fn a_log_at_the_end_of_the_offset_space_refuses_appends_without_overflowing() {
    let mut storage = MemoryStorage::new();
    checkpoint::write(&mut storage, i64::MAX).unwrap();
    let (mut log, report) = Log::open(storage, config()).unwrap();
    assert_eq!(report.log_end_offset, i64::MAX);
    assert_eq!(
        (log.log_start_offset(), log.log_end_offset()),
        (i64::MAX, i64::MAX)
    );
    let err = log.append(&mut batch(&["a"], 1), 0, Millis(1)).unwrap_err();
    assert_eq!(
        err,
        AppendError::OffsetOverflow {
            log_end_offset: i64::MAX,
            records: 1
        }
    );
    assert_eq!(err.code(), ErrorCode::UNKNOWN_SERVER_ERROR);
    assert!(log.read(i64::MAX, 100).unwrap().records.is_empty());
    log.flush().unwrap();
    let (reopened, _) = Log::open(log.into_storage(), config()).unwrap();
    assert_eq!(reopened.log_end_offset(), i64::MAX);
}

/// The last offsets of the space can still be handed out: a log two offsets short of the
/// end takes a batch of two (its next offset is `i64::MAX`), refuses even one more record,
/// and recovers those batches after a reopen.
#[test]
fn the_last_offsets_before_i64_max_are_assigned_and_recovered() {
    let mut storage = MemoryStorage::new();
    checkpoint::write(&mut storage, i64::MAX - 2).unwrap();
    let (mut log, _) = Log::open(storage, config()).unwrap();
    let err = log
        .append(&mut batch(&["a", "b", "c"], 1), 0, Millis(1))
        .unwrap_err();
    assert_eq!(
        err,
        AppendError::OffsetOverflow {
            log_end_offset: i64::MAX - 2,
            records: 3
        }
    );
    assert_eq!(
        append(&mut log, &["a", "b"], 1),
        (i64::MAX - 2, i64::MAX - 1)
    );
    assert_eq!(log.log_end_offset(), i64::MAX);
    assert!(matches!(
        log.append(&mut batch(&["c"], 1), 0, Millis(1)),
        Err(AppendError::OffsetOverflow { .. })
    ));
    log.flush().unwrap();
    let (reopened, report) = Log::open(log.into_storage(), config()).unwrap();
    assert_eq!(report.truncated, None);
    assert_eq!(reopened.log_end_offset(), i64::MAX);
    assert_eq!(read_all(&reopened), ["a", "b"]);
}
