//! Property test: random appends (keyed values and tombstones, plain and idempotent batches,
//! uncompressed and compressed: with a test codec the cleaner opens, or none, so that they stay
//! unread),
//! flushes, reads, cleaning steps and whole rounds, time passing, a disk dying in the middle of
//! a round, and crashes, against a model of every record ever written.
//!
//! After every operation: the log ends where the model does; every record it serves is the one
//! written at that offset (offsets only increase, nothing is ever changed, only compacted
//! away); each key's latest record is still served (a tombstone may be gone, then with every
//! older record of its key); and the idempotent producer's last sequence number survives.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::batch::{
    BatchBuilder, Codecs, Compression, NoCodecs, ReversingCodecs, decode_records_section,
    split_batches,
};
use crate::log::LogConfig;
use crate::storage::{FaultyStorage, MemoryStorage};

const PRODUCER_ID: i64 = 7;

#[derive(Clone, Debug)]
enum Op {
    /// A batch of one to three records; `tombstones` marks which have a null value.
    Put {
        keys: Vec<u8>,
        tombstones: Vec<bool>,
        idempotent: bool,
        compressed: bool,
    },
    Flush,
    /// Starts a round if none runs, then does this many steps.
    Steps(u8),
    /// A whole round, if the log is dirty enough.
    CleanNow,
    Read {
        at: u8,
    },
    Tick {
        ms: u64,
    },
    /// The disk fails after this many more writes, in the middle of a round; the broker
    /// crashes and restarts.
    DiskDies {
        after_writes: u32,
        unsynced_bytes_kept: u64,
    },
    Crash {
        unsynced_bytes_kept: u64,
    },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    let put = (1..4usize).prop_flat_map(|n| {
        (
            proptest::collection::vec(0..8u8, n),
            proptest::collection::vec(proptest::bool::weighted(0.15), n),
            proptest::bool::weighted(0.3),
            proptest::bool::weighted(0.3),
        )
    });
    prop_oneof![
        10 => put.prop_map(|(keys, tombstones, idempotent, compressed)| {
            Op::Put { keys, tombstones, idempotent, compressed }
        }),
        3 => Just(Op::Flush),
        4 => (1..12u8).prop_map(Op::Steps),
        2 => Just(Op::CleanNow),
        2 => any::<u8>().prop_map(|at| Op::Read { at }),
        2 => (0..1500u64).prop_map(|ms| Op::Tick { ms }),
        1 => (0..40u32, 0..400u64).prop_map(|(after_writes, unsynced_bytes_kept)| {
            Op::DiskDies { after_writes, unsynced_bytes_kept }
        }),
        1 => (0..400u64).prop_map(|unsynced_bytes_kept| Op::Crash { unsynced_bytes_kept }),
        1 => Just(Op::Reopen),
    ]
}

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 300,
        segment_ms: Millis(i64::MAX as u64),
        retention_ms: None,
        index_interval_bytes: 100,
        delete: false,
        compact: true,
        delete_retention_ms: Millis(2_000),
        min_cleanable_dirty_ratio: 0.0,
        ..LogConfig::default()
    }
}

/// A step reads about two batches; the map holds about six keys, so rounds often end early.
fn cleaner(codecs: &'static dyn Codecs) -> CleanerConfig {
    CleanerConfig {
        dedupe_buffer_size: 6 * (offset_map::ENTRY_OVERHEAD_BYTES + 2),
        dedupe_buffer_load_factor: 1.0,
        io_buffer_size: 300,
        max_decompressed_batch_bytes: 1 << 16,
        codecs,
    }
}

type TestLog = Log<FaultyStorage<MemoryStorage>>;
type Row = (String, Option<String>);

#[derive(Debug, Default)]
struct Model {
    /// Every record written and not lost in a crash, by offset.
    written: BTreeMap<i64, Row>,
    log_end_offset: i64,
    flushed_offset: i64,
    /// (last offset, last sequence) of each idempotent batch.
    sequences: Vec<(i64, i32)>,
}

impl Model {
    fn cut(&mut self, log_end_offset: i64) {
        self.written.retain(|&offset, _| offset < log_end_offset);
        self.sequences.retain(|&(last, _)| last < log_end_offset);
        self.log_end_offset = log_end_offset;
        self.flushed_offset = log_end_offset;
    }
}

fn open(storage: FaultyStorage<MemoryStorage>) -> TestLog {
    let mut log = Log::open(storage, config()).unwrap().0;
    // Appends open compressed batches with the log's codecs, as the cleaner does.
    log.set_codecs(&ReversingCodecs);
    log
}

fn crash(log: TestLog, kept: u64) -> TestLog {
    let mut storage = log.into_storage();
    storage.crash(kept).unwrap();
    open(storage)
}

/// (offset, row) of every record served from `from`.
fn served_from(log: &TestLog, from: i64) -> Vec<(i64, Row)> {
    let mut out = Vec::new();
    let mut next = from;
    while next < log.log_end_offset() {
        let read = log.read(next, 1).unwrap();
        let batches = split_batches(&read.records).unwrap();
        assert_eq!(batches.len(), 1, "one batch when over budget");
        let header = batches[0].1.header;
        let section = &read.records[HEADER_BYTES..header.size_bytes()];
        let section = match header.compression().unwrap() {
            Compression::None => section.to_vec(),
            codec => ReversingCodecs.decompress(codec, section, 1 << 16).unwrap(),
        };
        for record in decode_records_section(&header, &section).unwrap() {
            if record.offset >= next {
                let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
                let row = (text(record.key.expect("keyed")), record.value.map(text));
                out.push((record.offset, row));
            }
        }
        next = batches[0].1.header.next_offset();
    }
    out
}

fn check(log: &TestLog, model: &Model) {
    assert_eq!(log.log_end_offset(), model.log_end_offset, "log end");
    let served = served_from(log, log.log_start_offset());
    assert!(
        served.windows(2).all(|w| w[0].0 < w[1].0),
        "offsets only increase"
    );
    for (offset, row) in &served {
        assert_eq!(
            Some(row),
            model.written.get(offset),
            "offset {offset} changed"
        );
    }
    let mut latest: BTreeMap<&str, (i64, &Row)> = BTreeMap::new();
    for (offset, row) in &model.written {
        latest.insert(&row.0, (*offset, row));
    }
    for (key, (offset, row)) in latest {
        let of_key: Vec<_> = served.iter().filter(|(_, r)| r.0 == key).collect();
        match (of_key.last(), &row.1) {
            (Some(&&(last, _)), _) => assert_eq!(last, offset, "key {key}: latest record kept"),
            (None, None) => {} // a tombstone gone with everything older of its key
            (None, Some(_)) => panic!("key {key}: latest value {offset} lost"),
        }
    }
    let last_sequence = log
        .producer_state()
        .get(PRODUCER_ID)
        .and_then(|entry| entry.batches.back())
        .map(|batch| batch.last_sequence);
    assert_eq!(
        last_sequence,
        model.sequences.last().map(|&(_, sequence)| sequence),
        "the producer's last sequence"
    );
}

/// Runs `ops` with a cleaner that has `codecs`; returns how many rounds finished.
fn run(ops: Vec<Op>, codecs: &'static dyn Codecs) -> usize {
    let mut log = open(FaultyStorage::new(MemoryStorage::new()).unwrap());
    let mut model = Model::default();
    let mut now = Millis(10_000);
    let mut rounds = 0;
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Put {
                keys,
                tombstones,
                idempotent,
                compressed,
            } => {
                let next_sequence = log
                    .producer_state()
                    .get(PRODUCER_ID)
                    .and_then(|entry| entry.batches.back())
                    .map_or(0, |batch| batch.last_sequence + 1);
                let mut builder = if idempotent {
                    BatchBuilder::new().idempotent(PRODUCER_ID, 0, next_sequence)
                } else {
                    BatchBuilder::new()
                };
                let rows: Vec<Row> = keys
                    .iter()
                    .zip(&tombstones)
                    .enumerate()
                    .map(|(i, (key, &tombstone))| {
                        let value = (!tombstone).then(|| format!("{step}.{i}"));
                        (format!("k{key}"), value)
                    })
                    .collect();
                for (key, value) in &rows {
                    builder.push(
                        now.0 as i64,
                        Some(key.as_bytes()),
                        value.as_deref().map(str::as_bytes),
                        &[],
                    );
                }
                let mut batch = if compressed {
                    builder
                        .build_compressed(Compression::Zstd, &ReversingCodecs)
                        .unwrap()
                } else {
                    builder.build()
                };
                let info = log.append(&mut batch, 0, now).unwrap();
                assert!(!info.duplicate);
                assert_eq!(info.base_offset, model.log_end_offset);
                for (i, row) in rows.into_iter().enumerate() {
                    model.written.insert(info.base_offset + i as i64, row);
                }
                model.log_end_offset = info.last_offset + 1;
                if idempotent {
                    let last = next_sequence + (info.last_offset - info.base_offset) as i32;
                    model.sequences.push((info.last_offset, last));
                }
            }
            Op::Flush => {
                log.flush().unwrap();
                model.flushed_offset = model.log_end_offset;
            }
            Op::Steps(steps) => {
                if !log.is_cleaning() {
                    let bound = log.log_end_offset();
                    if let Some(range) = log.cleanable_range(now, bound) {
                        log.begin_cleaning(&range, now, &cleaner(codecs)).unwrap();
                    }
                }
                for _ in 0..steps {
                    if let CleanerStep::Done(_) = log.clean_step(&cleaner(codecs)).unwrap() {
                        rounds += 1;
                    }
                }
            }
            Op::CleanNow => {
                let bound = log.log_end_offset();
                if log
                    .clean_now(now, bound, &cleaner(codecs))
                    .unwrap()
                    .is_some()
                {
                    rounds += 1;
                }
            }
            Op::Read { at } => {
                let span = model.log_end_offset - log.log_start_offset() + 1;
                let from = log.log_start_offset() + i64::from(at) % span;
                let served = served_from(&log, from);
                let all = served_from(&log, log.log_start_offset());
                let expect: Vec<_> = all.into_iter().filter(|(o, _)| *o >= from).collect();
                assert_eq!(served, expect, "reading from {from}");
            }
            Op::Tick { ms } => now = now.plus(Millis(ms)),
            Op::DiskDies {
                after_writes,
                unsynced_bytes_kept,
            } => {
                {
                    let Log { storage, .. } = &mut log;
                    storage.fail_writes_after(after_writes);
                }
                let bound = log.log_end_offset();
                // A round from the start, so the failure lands inside one.
                if let Some(range) = log.cleanable_range(now, bound)
                    && log.begin_cleaning(&range, now, &cleaner(codecs)).is_ok()
                {
                    while let Ok(CleanerStep::Working) = log.clean_step(&cleaner(codecs)) {}
                }
                log = crash(log, unsynced_bytes_kept);
                let log_end = log.log_end_offset();
                assert!(log_end >= model.flushed_offset, "flushed data survives");
                model.cut(log_end);
            }
            Op::Crash {
                unsynced_bytes_kept,
            } => {
                log = crash(log, unsynced_bytes_kept);
                let log_end = log.log_end_offset();
                assert!(log_end >= model.flushed_offset, "flushed data survives");
                model.cut(log_end);
            }
            Op::Reopen => {
                let storage = log.into_storage();
                log = open(storage);
                model.flushed_offset = model.log_end_offset;
            }
        }
        check(&log, &model);
    }
    rounds
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn compaction_matches_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        run(ops, &ReversingCodecs);
    }

    #[test]
    fn compaction_without_codecs_keeps_compressed_batches(
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        run(ops, &NoCodecs);
    }
}

#[test]
fn the_model_test_cleans_for_real() {
    // A fixed sequence that must finish rounds, so the property test is not vacuous.
    let mut ops = Vec::new();
    for round in 0..4u8 {
        for i in 0..12u8 {
            ops.push(Op::Put {
                keys: vec![i % 4, (i + round) % 5],
                tombstones: vec![i % 7 == 0, false],
                idempotent: i % 3 == 0,
                compressed: i % 2 == 0,
            });
        }
        ops.push(Op::Flush);
        ops.push(Op::Steps(200));
        ops.push(Op::Tick { ms: 1_500 });
    }
    assert!(run(ops.clone(), &ReversingCodecs) >= 3);
    assert!(run(ops, &NoCodecs) >= 3);
}
