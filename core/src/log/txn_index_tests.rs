//! The aborted-transactions index on disk (`.txnindex`, one per segment): it survives a
//! restart untouched, a torn, corrupt or missing one is rebuilt from its segment, retention
//! and DeleteRecords delete it with its segment, truncation cuts it; and a property test
//! compares every lookup with a full scan of the log's batches through appends, aborts,
//! commits, truncations, crashes and damaged index files.

use proptest::prelude::*;

use super::*;
use crate::Millis;
use crate::batch::{BatchBuilder, EndTxnMarker, split_batches};
use crate::storage::{FaultyStorage, MemoryStorage};

type TestLog = Log<FaultyStorage<MemoryStorage>>;

/// About four small batches per segment.
fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 300,
        segment_ms: Millis(i64::MAX as u64),
        retention_ms: None,
        index_interval_bytes: 0,
        ..LogConfig::default()
    }
}

fn open(storage: FaultyStorage<MemoryStorage>) -> (TestLog, RecoveryReport) {
    Log::open(storage, config()).unwrap()
}

fn empty() -> TestLog {
    open(FaultyStorage::new(MemoryStorage::new()).unwrap()).0
}

/// Appends one transactional record from `producer_id` (epoch 0, its next sequence).
fn txn_record(log: &mut TestLog, producer_id: i64) -> Result<i64, AppendError> {
    let sequence = log
        .producer_state()
        .get(producer_id)
        .and_then(|entry| entry.last_sequence())
        .map_or(0, |last| last + 1);
    let mut builder = BatchBuilder::new()
        .idempotent(producer_id, 0, sequence)
        .transactional();
    builder.push(0, None, Some(b"t"), &[]);
    log.append(&mut builder.build(), 0, Millis(0))
        .map(|info| info.base_offset)
}

fn plain_record(log: &mut TestLog) -> i64 {
    let mut builder = BatchBuilder::new();
    builder.push(0, None, Some(b"p"), &[]);
    log.append(&mut builder.build(), 0, Millis(0))
        .unwrap()
        .base_offset
}

fn end_txn(log: &mut TestLog, producer_id: i64, commit: bool) -> Result<i64, AppendError> {
    let marker = EndTxnMarker {
        producer_id,
        producer_epoch: 0,
        coordinator_epoch: 0,
        commit,
    };
    log.append_marker(&marker, 0, Millis(0))
        .map(|info| info.base_offset)
}

/// One aborted transaction of `producer_id` with two records around a plain one; its first
/// offset and its marker's.
fn aborted_txn(log: &mut TestLog, producer_id: i64) -> (i64, i64) {
    let first = txn_record(log, producer_id).unwrap();
    plain_record(log);
    txn_record(log, producer_id).unwrap();
    (first, end_txn(log, producer_id, false).unwrap())
}

/// The `.txnindex` files in storage.
fn txn_index_files(log: &TestLog) -> Vec<String> {
    let files = log.storage().list().unwrap();
    files
        .into_iter()
        .filter(|f| f.ends_with(".txnindex"))
        .collect()
}

/// The aborted transactions a full scan of the log's batches finds (the reference the
/// indexes must agree with): per producer, the first batch of its open transaction; an abort
/// marker closing one makes an entry whose last stable offset is the first offset of the
/// oldest other transaction still open, or the marker's next offset.
fn full_scan(log: &TestLog) -> Vec<AbortedTxn> {
    let mut open = std::collections::BTreeMap::new();
    let mut aborted = Vec::new();
    // The scan needs every batch: the tests using it never move the log start.
    let mut offset = log.log_start_offset();
    assert_eq!(offset, log.segments[0].base_offset);
    while offset < log.log_end_offset() {
        let records = log.read(offset, 1 << 20).unwrap().records;
        for (range, summary) in split_batches(&records).unwrap() {
            let header = summary.header;
            offset = header.next_offset();
            if !header.is_control() {
                if header.is_transactional() {
                    open.entry(header.producer_id).or_insert(header.base_offset);
                }
                continue;
            }
            let marker = EndTxnMarker::from_batch(&records[range]).unwrap();
            let Some(first) = open.remove(&header.producer_id) else {
                continue;
            };
            if !marker.commit {
                let next = header.next_offset();
                aborted.push(AbortedTxn {
                    producer_id: header.producer_id,
                    first_offset: first,
                    last_offset: header.base_offset,
                    last_stable_offset: open.values().copied().min().unwrap_or(next).min(next),
                });
            }
        }
    }
    aborted
}

/// Checks every lookup against the full scan, and each segment's file against its length.
fn check(log: &TestLog) {
    let all = full_scan(log);
    let end = log.log_end_offset();
    let mut bounds: Vec<i64> = vec![0, end, end + 1];
    for txn in &all {
        bounds.extend([txn.first_offset, txn.last_offset, txn.last_offset + 1]);
    }
    for &start in &bounds {
        for &upper in &bounds {
            let expected: Vec<AbortedTxn> = all
                .iter()
                .filter(|t| t.last_offset >= start.max(log.log_start_offset()))
                .filter(|t| t.first_offset < upper)
                .copied()
                .collect();
            assert_eq!(
                log.aborted_transactions(start, upper).unwrap(),
                expected,
                "[{start}, {upper})"
            );
        }
    }
    let files = txn_index_files(log);
    for segment in &log.segments {
        let file = segment.txn_index_file();
        let len = if files.contains(&file) {
            log.storage().len(&file).unwrap()
        } else {
            0
        };
        assert_eq!(len, segment.txn_index_bytes, "{file}");
    }
    for file in files {
        assert!(
            log.segments.iter().any(|s| s.txn_index_file() == file),
            "{file} has no segment"
        );
    }
}

#[test]
fn indexes_survive_a_restart_untouched() {
    let mut log = empty();
    for producer in 1..=6 {
        aborted_txn(&mut log, producer);
    }
    log.flush().unwrap();
    let files = txn_index_files(&log);
    assert!(files.len() > 1, "aborts in several segments: {files:?}");
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| log.storage().read(f, 0, 1 << 20).unwrap())
        .collect();
    let aborted = log.aborted_transactions(0, i64::MAX).unwrap();
    assert_eq!(aborted.len(), 6);
    let (log, report) = open(log.into_storage());
    assert_eq!(report.rebuilt_txn_indexes, Vec::<String>::new());
    assert_eq!(txn_index_files(&log), files);
    let after: Vec<Vec<u8>> = files
        .iter()
        .map(|f| log.storage().read(f, 0, 1 << 20).unwrap())
        .collect();
    assert_eq!(after, before);
    assert_eq!(log.aborted_transactions(0, i64::MAX).unwrap(), aborted);
    check(&log);
}

#[test]
fn a_torn_corrupt_or_missing_index_is_rebuilt_from_its_segment() {
    let mut log = empty();
    for producer in 1..=6 {
        aborted_txn(&mut log, producer);
    }
    log.flush().unwrap();
    let aborted = log.aborted_transactions(0, i64::MAX).unwrap();
    let files = txn_index_files(&log);
    assert!(files.len() >= 3, "{files:?}");
    let mut storage = log.into_storage();
    // Torn mid-entry, an entry of an unknown version, and gone.
    storage.truncate(&files[0], 20).unwrap();
    let len = storage.len(&files[1]).unwrap();
    storage.truncate(&files[1], 0).unwrap();
    storage
        .append(&files[1], &vec![0xff; len as usize])
        .unwrap();
    storage.delete(&files[2]).unwrap();
    let (log, report) = open(storage);
    let rebuilt: Vec<&str> = report
        .rebuilt_txn_indexes
        .iter()
        .map(|line| line.split(':').next().unwrap())
        .collect();
    assert_eq!(rebuilt, [&files[0], &files[1], &files[2]]);
    assert_eq!(txn_index_files(&log), files);
    assert_eq!(log.aborted_transactions(0, i64::MAX).unwrap(), aborted);
    check(&log);
    // What was rebuilt is synced with the rest: a crash right after keeps it.
    let mut storage = log.into_storage();
    storage.crash(0).unwrap();
    let (log, report) = open(storage);
    assert!(report.rebuilt_txn_indexes.is_empty());
    assert_eq!(log.aborted_transactions(0, i64::MAX).unwrap(), aborted);
}

#[test]
fn an_index_without_its_segment_is_deleted_on_open() {
    let mut log = empty();
    aborted_txn(&mut log, 1);
    log.flush().unwrap();
    let mut storage = log.into_storage();
    let orphan = segment::file_name(1_000, segment::TXN_INDEX_SUFFIX);
    storage.append(&orphan, &[0; 34]).unwrap();
    let (log, report) = open(storage);
    assert!(report.deleted_files.contains(&orphan));
    assert!(!txn_index_files(&log).contains(&orphan));
}

#[test]
fn retention_and_delete_records_delete_the_indexes_with_their_segments() {
    let mut log = empty();
    let mut markers = Vec::new();
    for producer in 1..=6 {
        markers.push(aborted_txn(&mut log, producer).1);
    }
    plain_record(&mut log);
    log.flush().unwrap();
    let files = txn_index_files(&log);
    // DeleteRecords past the third abort: the segments wholly below go, index and all.
    let start = markers[2] + 1;
    log.delete_records_before(start).unwrap();
    let kept = txn_index_files(&log);
    assert!(kept.len() < files.len(), "{kept:?} of {files:?}");
    for file in &files {
        let segment_kept = log.segments.iter().any(|s| &s.txn_index_file() == file);
        assert_eq!(kept.contains(file), segment_kept, "{file}");
    }
    let left = log.aborted_transactions(0, i64::MAX).unwrap();
    assert_eq!(left.len(), 3);
    assert!(left.iter().all(|t| t.last_offset >= start));
    // Retention by size: all but the active segment.
    log.set_config(LogConfig {
        retention_bytes: Some(0),
        ..config()
    });
    log.apply_retention(Millis(0)).unwrap();
    assert_eq!(log.segments.len(), 1);
    assert!(txn_index_files(&log).is_empty());
    assert!(log.aborted_transactions(0, i64::MAX).unwrap().is_empty());
    let (log, report) = open(log.into_storage());
    assert!(report.rebuilt_txn_indexes.is_empty());
    assert!(txn_index_files(&log).is_empty());
}

#[test]
fn truncation_cuts_the_index_and_deletes_later_ones() {
    // Segments of about nine batches: the first two aborts share one.
    let big = LogConfig {
        segment_bytes: 700,
        ..config()
    };
    let (mut log, _) = Log::open(FaultyStorage::new(MemoryStorage::new()).unwrap(), big).unwrap();
    let first = aborted_txn(&mut log, 1);
    let second_first = txn_record(&mut log, 2).unwrap();
    let second = end_txn(&mut log, 2, false).unwrap();
    assert_eq!(log.segments.len(), 1, "both aborts in the first segment");
    for producer in 3..=6 {
        aborted_txn(&mut log, producer);
    }
    log.flush().unwrap();
    let segment = log
        .segments
        .iter()
        .find(|s| s.base_offset <= second && second < s.next_offset)
        .unwrap()
        .clone();
    let file = segment.txn_index_file();
    assert_eq!(log.storage().len(&file).unwrap(), 2 * 34);
    log.truncate_to(second).unwrap();
    assert_eq!(log.storage().len(&file).unwrap(), 34);
    assert_eq!(log.log_end_offset(), second);
    // Every index file left belongs to a segment, and the cut one lost the second abort.
    check(&log);
    let aborted = log.aborted_transactions(0, i64::MAX).unwrap();
    assert_eq!(aborted.len(), 1);
    assert_eq!((aborted[0].first_offset, aborted[0].last_offset), first);
    // The second transaction is open again.
    assert_eq!(log.last_stable_offset(log.log_end_offset()), second_first);
    let (log, report) = open(log.into_storage());
    assert!(report.rebuilt_txn_indexes.is_empty(), "{report:?}");
    check(&log);
}

#[derive(Clone, Debug)]
enum Op {
    /// A transactional record from one of three producers.
    Txn(i64),
    Plain,
    Commit(i64),
    Abort(i64),
    Flush,
    Truncate(u8),
    Crash(u64),
    /// Damages one `.txnindex` file (torn, wrong bytes or deleted) and reopens.
    Damage {
        file: u8,
        how: u8,
    },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1..4i64).prop_map(Op::Txn),
        2 => Just(Op::Plain),
        2 => (1..4i64).prop_map(Op::Commit),
        3 => (1..4i64).prop_map(Op::Abort),
        2 => Just(Op::Flush),
        1 => any::<u8>().prop_map(Op::Truncate),
        1 => (0..200u64).prop_map(Op::Crash),
        1 => (any::<u8>(), 0..3u8).prop_map(|(file, how)| Op::Damage { file, how }),
        1 => Just(Op::Reopen),
    ]
}

fn apply(log: TestLog, op: &Op) -> TestLog {
    let mut log = log;
    match *op {
        // A producer whose sequence the log forgot after a crash may be refused: the run
        // goes on.
        Op::Txn(producer) => {
            let _ = txn_record(&mut log, producer);
        }
        Op::Plain => {
            plain_record(&mut log);
        }
        Op::Commit(producer) => {
            let _ = end_txn(&mut log, producer, true);
        }
        Op::Abort(producer) => {
            let _ = end_txn(&mut log, producer, false);
        }
        Op::Flush => log.flush().unwrap(),
        Op::Truncate(at) => {
            let (start, end) = (log.log_start_offset(), log.log_end_offset());
            let offset = start + i64::from(at) % (end - start + 1);
            log.truncate_to(offset).unwrap();
        }
        Op::Crash(kept) => {
            let mut storage = log.into_storage();
            storage.crash(kept).unwrap();
            log = open(storage).0;
        }
        Op::Damage { file, how } => {
            let files = txn_index_files(&log);
            let mut storage = log.into_storage();
            if !files.is_empty() {
                let file = &files[usize::from(file) % files.len()];
                let len = storage.len(file).unwrap();
                match how {
                    0 => storage.truncate(file, len / 2).unwrap(),
                    1 => {
                        storage.truncate(file, 0).unwrap();
                        storage.append(file, &vec![7; len as usize]).unwrap();
                    }
                    _ => storage.delete(file).unwrap(),
                }
            }
            log = open(storage).0;
        }
        Op::Reopen => log = open(log.into_storage()).0,
    }
    log
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every lookup answers what a full scan of the log finds, whatever happened before.
    #[test]
    fn lookups_agree_with_a_full_scan(ops in proptest::collection::vec(op(), 1..80)) {
        let mut log = empty();
        for op in &ops {
            log = apply(log, op);
            check(&log);
        }
    }
}
