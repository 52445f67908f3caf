//! Property test: random appends, reads, flushes, truncations, DeleteRecords, retention runs,
//! failed and torn writes, and crashes, against a model of what the log must hold.

use proptest::prelude::*;

use super::*;
use crate::batch::{BatchBuilder, decode_records, split_batches};
use crate::storage::{FaultyStorage, MemoryStorage};
use crate::{ErrorCode, Millis};

#[derive(Clone, Debug)]
enum Op {
    /// A batch whose records are `skew_ms` older than now (clients' clocks and lingering).
    Append {
        records: usize,
        value_bytes: usize,
        skew_ms: u64,
    },
    /// ListOffsets by a timestamp around now.
    FindTimestamp {
        at: u8,
    },
    Read {
        at: u8,
        max_bytes: usize,
    },
    Flush,
    Truncate {
        at: u8,
    },
    DeleteRecords {
        at: u8,
    },
    Retention,
    FailedAppend {
        torn_bytes: Option<usize>,
    },
    Crash {
        unsynced_bytes_kept: u64,
    },
    Reopen,
    Tick {
        ms: u64,
    },
    /// A batch from the idempotent producer: a new one, or a resend of its last one.
    Idempotent {
        records: usize,
        resend: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (1..4usize, 0..120usize, 0..3000u64)
            .prop_map(|(records, value_bytes, skew_ms)| Op::Append { records, value_bytes, skew_ms }),
        2 => any::<u8>().prop_map(|at| Op::FindTimestamp { at }),
        4 => (any::<u8>(), 1..600usize).prop_map(|(at, max_bytes)| Op::Read { at, max_bytes }),
        2 => Just(Op::Flush),
        1 => any::<u8>().prop_map(|at| Op::Truncate { at }),
        1 => any::<u8>().prop_map(|at| Op::DeleteRecords { at }),
        1 => Just(Op::Retention),
        1 => proptest::option::of(0..200usize).prop_map(|torn_bytes| Op::FailedAppend { torn_bytes }),
        1 => (0..300u64).prop_map(|unsynced_bytes_kept| Op::Crash { unsynced_bytes_kept }),
        1 => Just(Op::Reopen),
        2 => (0..4000u64).prop_map(|ms| Op::Tick { ms }),
        4 => (1..4usize, any::<bool>()).prop_map(|(records, resend)| Op::Idempotent { records, resend }),
    ]
}

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 512,
        segment_ms: Millis(5_000),
        retention_ms: Some(Millis(20_000)),
        retention_bytes: Some(2_000),
        index_interval_bytes: 100,
        max_message_bytes: 10_000,
        ..LogConfig::default()
    }
}

/// A batch as the model remembers it.
#[derive(Clone, Debug)]
struct ModelBatch {
    base_offset: i64,
    values: Vec<String>,
    /// Epoch and sequence range, for the idempotent producer's batches.
    producer: Option<(i16, i32, i32)>,
    /// The timestamp of every record in the batch.
    timestamp: i64,
}

impl ModelBatch {
    fn next_offset(&self) -> i64 {
        self.base_offset + self.values.len() as i64
    }
}

/// What the log must hold: every batch ever kept (also those below the log start, which
/// truncation boundaries depend on), the offsets, and what is known durable.
#[derive(Debug, Default)]
struct Model {
    batches: Vec<ModelBatch>,
    log_start_offset: i64,
    log_end_offset: i64,
    flushed_offset: i64,
}

impl Model {
    /// The records at or above `offset`, in order.
    fn values_from(&self, offset: i64) -> Vec<(i64, String)> {
        let records = self.batches.iter().flat_map(|batch| {
            batch
                .values
                .iter()
                .enumerate()
                .map(move |(i, v)| (batch.base_offset + i as i64, v.clone()))
        });
        records
            .filter(|&(o, _)| o >= offset.max(self.log_start_offset))
            .collect()
    }

    /// Keeps only batches ending at or below `log_end_offset`.
    fn cut(&mut self, log_end_offset: i64) {
        self.batches
            .retain(|batch| batch.next_offset() <= log_end_offset);
        self.log_end_offset = log_end_offset;
    }

    /// What the producer state must answer to a batch (epoch, first and last sequence),
    /// derived from the batches in the model alone: the last five of the newest epoch still
    /// at or above the log start (Kafka's rules, see `producer_state`).
    fn expected_verdict(
        &self,
        epoch: i16,
        first: i32,
        last: i32,
    ) -> Result<Option<(i64, i64)>, ErrorCode> {
        let ours: Vec<(i16, i32, i32, i64, i64)> = self
            .batches
            .iter()
            .filter_map(|b| {
                b.producer
                    .map(|(e, f, l)| (e, f, l, b.base_offset, b.next_offset() - 1))
            })
            .collect();
        let Some(&(known_epoch, ..)) = ours.last() else {
            return Ok(None);
        };
        let same_epoch: Vec<_> = ours
            .iter()
            .rev()
            .take_while(|b| b.0 == known_epoch)
            .take(5)
            .collect();
        let cached: Vec<_> = same_epoch
            .into_iter()
            .rev()
            .filter(|b| b.4 >= self.log_start_offset)
            .collect();
        if cached.is_empty() {
            return Ok(None);
        }
        if epoch < known_epoch {
            return Err(ErrorCode::INVALID_PRODUCER_EPOCH);
        }
        if epoch > known_epoch {
            return if first == 0 {
                Ok(None)
            } else {
                Err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER)
            };
        }
        if let Some(b) = cached.iter().find(|b| b.1 == first && b.2 == last) {
            return Ok(Some((b.3, b.4)));
        }
        let previous = cached.last().expect("not empty").2;
        if first == previous + 1 {
            Ok(None)
        } else {
            Err(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER)
        }
    }

    /// An offset spread over [start - 1, end + 1] by a random byte.
    fn pick(&self, at: u8) -> i64 {
        let span = self.log_end_offset - self.log_start_offset + 3;
        self.log_start_offset - 1 + i64::from(at) % span
    }
}

type TestLog = Log<FaultyStorage<MemoryStorage>>;

fn reopen(log: TestLog, crash: Option<u64>) -> TestLog {
    let mut storage = log.into_storage();
    if let Some(kept) = crash {
        storage.crash(kept).unwrap();
    }
    Log::open(storage, config()).unwrap().0
}

/// Every record the log serves from `offset`, read batch by batch to the end.
fn log_values_from(log: &TestLog, offset: i64) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut next = offset;
    while next < log.log_end_offset() {
        let read = log.read(next, 1).unwrap();
        let batches = split_batches(&read.records).unwrap();
        assert_eq!(batches.len(), 1, "one batch when over budget");
        for record in decode_records(&read.records).unwrap() {
            if record.offset >= next {
                out.push((
                    record.offset,
                    String::from_utf8(record.value.unwrap()).unwrap(),
                ));
            }
        }
        next = batches[0].1.header.next_offset();
    }
    out
}

fn check_same(log: &TestLog, model: &Model) {
    assert_eq!(log.log_start_offset(), model.log_start_offset, "log start");
    assert_eq!(log.log_end_offset(), model.log_end_offset, "log end");
    assert_eq!(
        log_values_from(log, model.log_start_offset),
        model.values_from(model.log_start_offset)
    );
}

fn run(ops: Vec<Op>) {
    let storage = FaultyStorage::new(MemoryStorage::new()).unwrap();
    let mut log: TestLog = Log::open(storage, config()).unwrap().0;
    let mut model = Model::default();
    let mut now = Millis(10_000);
    // The idempotent producer: its epoch, next sequence, and last batch sent.
    let (mut epoch, mut next_sequence) = (0i16, 0i32);
    let mut last_sent: Option<(i16, i32, Vec<String>)> = None;
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Append {
                records,
                value_bytes,
                skew_ms,
            } => {
                let timestamp = now.0 as i64 - skew_ms as i64;
                let values: Vec<String> = (0..records)
                    .map(|i| format!("{step}.{i}:{}", "x".repeat(value_bytes)))
                    .collect();
                let mut builder = BatchBuilder::new();
                for value in &values {
                    builder.push(timestamp, None, Some(value.as_bytes()), &[]);
                }
                let info = log.append(&mut builder.build(), 1, now).unwrap();
                assert_eq!(info.base_offset, model.log_end_offset);
                model.batches.push(ModelBatch {
                    base_offset: info.base_offset,
                    values,
                    producer: None,
                    timestamp,
                });
                model.log_end_offset = info.last_offset + 1;
            }
            Op::Read { at, max_bytes } => {
                let offset = model.pick(at);
                match log.read(offset, max_bytes) {
                    Err(err) => {
                        assert_eq!(err.code(), ErrorCode::OFFSET_OUT_OF_RANGE);
                        assert!(offset < model.log_start_offset || offset > model.log_end_offset);
                    }
                    Ok(read) => {
                        let batches = split_batches(&read.records).unwrap();
                        if offset == model.log_end_offset {
                            assert!(batches.is_empty());
                            continue;
                        }
                        let first = batches
                            .first()
                            .expect("at least one batch below the log end")
                            .1
                            .header;
                        assert!(first.base_offset <= offset && offset <= first.last_offset());
                        assert!(batches.len() == 1 || read.records.len() <= max_bytes);
                        let served: Vec<(i64, String)> = decode_records_of(&read.records)
                            .into_iter()
                            .filter(|&(o, _)| o >= offset)
                            .collect();
                        let expect = model.values_from(offset);
                        assert_eq!(served[..], expect[..served.len()]);
                    }
                }
            }
            Op::Flush => {
                log.flush().unwrap();
                model.flushed_offset = model.log_end_offset;
            }
            Op::Truncate { at } => {
                let offset = model.pick(at).max(0);
                let log_end = log.truncate_to(offset).unwrap();
                if offset < model.log_start_offset {
                    model.batches.clear();
                    model.log_start_offset = offset;
                    model.log_end_offset = offset;
                } else if offset < model.log_end_offset {
                    // Whole batches go: the log ends where the batch holding `offset` began.
                    let holder = model.batches.iter().find(|b| b.next_offset() > offset);
                    model.cut(holder.expect("offset below the log end").base_offset);
                    model.log_start_offset = model.log_start_offset.min(model.log_end_offset);
                }
                assert_eq!(log_end, model.log_end_offset);
                model.flushed_offset = model.flushed_offset.min(model.log_end_offset);
            }
            Op::DeleteRecords { at } => {
                let offset = model.pick(at);
                match log.delete_records_before(offset) {
                    Ok(start) => {
                        model.log_start_offset = model.log_start_offset.max(offset);
                        assert_eq!(start, model.log_start_offset);
                    }
                    Err(err) => {
                        assert_eq!(err.code(), ErrorCode::OFFSET_OUT_OF_RANGE);
                        assert!(offset > model.log_end_offset || offset < 0);
                    }
                }
            }
            Op::Retention => {
                let report = log.apply_retention(now).unwrap();
                assert!(report.log_start_offset >= model.log_start_offset);
                assert!(
                    log.size_bytes() <= 2_000 + config().segment_bytes
                        || report.deleted_segments.is_empty()
                );
                model.log_start_offset = report.log_start_offset;
            }
            Op::FailedAppend { torn_bytes } => {
                {
                    let Log { storage, .. } = &mut log;
                    match torn_bytes {
                        Some(kept) => storage.tear_next_append(kept),
                        None => storage.fail_next_writes(1),
                    }
                }
                let mut bytes = BatchBuilder::new();
                bytes.push(now.0 as i64, None, Some(b"doomed"), &[]);
                let err = log.append(&mut bytes.build(), 1, now).unwrap_err();
                assert_eq!(err.code(), ErrorCode::KAFKA_STORAGE_ERROR);
                log = reopen(log, None);
                // A torn write may have written the whole batch before failing: then it is
                // in the log, as in Kafka, where an error does not prove nothing was written.
                if log.log_end_offset() == model.log_end_offset + 1 {
                    let values = vec!["doomed".to_string()];
                    model.batches.push(ModelBatch {
                        base_offset: model.log_end_offset,
                        values,
                        producer: None,
                        timestamp: now.0 as i64,
                    });
                    model.log_end_offset += 1;
                }
                model.flushed_offset = model.log_end_offset;
            }
            Op::Crash {
                unsynced_bytes_kept,
            } => {
                log = reopen(log, Some(unsynced_bytes_kept));
                let log_end = log.log_end_offset();
                assert!(
                    log_end >= model.flushed_offset,
                    "flushed data survives: {log_end} < {}",
                    model.flushed_offset
                );
                assert!(log_end <= model.log_end_offset.max(model.log_start_offset));
                assert_eq!(
                    log.log_start_offset(),
                    model
                        .log_start_offset
                        .min(log_end.max(model.log_start_offset))
                );
                model.cut(log_end);
                if model
                    .batches
                    .last()
                    .is_some_and(|batch| batch.next_offset() < log_end)
                {
                    // Data up to the checkpointed log start was lost: the log restarted
                    // empty at the log start.
                    model.batches.clear();
                }
                model.flushed_offset = log_end;
            }
            Op::Reopen => {
                log = reopen(log, None);
                model.flushed_offset = model.log_end_offset;
            }
            Op::Tick { ms } => now = now.plus(Millis(ms)),
            Op::FindTimestamp { at } => {
                let target = now.0 as i64 - 4_000 + i64::from(at) * 20;
                let expect = model
                    .batches
                    .iter()
                    .flat_map(|b| (b.base_offset..b.next_offset()).map(move |o| (o, b.timestamp)))
                    .find(|&(offset, timestamp)| {
                        offset >= model.log_start_offset && timestamp >= target
                    });
                let found = log.offset_for_timestamp(target).unwrap();
                assert_eq!(
                    found.map(|f| (f.offset, f.timestamp)),
                    expect,
                    "timestamp {target}"
                );
            }
            Op::Idempotent { records, resend } => {
                let (batch_epoch, first, values) = match (&last_sent, resend) {
                    (Some(sent), true) => sent.clone(),
                    _ => {
                        let values = (0..records)
                            .map(|i| format!("{step}.{i}:idempotent"))
                            .collect();
                        (epoch, next_sequence, values)
                    }
                };
                let last = first + values.len() as i32 - 1;
                let mut builder = BatchBuilder::new().idempotent(7, batch_epoch, first);
                for value in &values {
                    builder.push(now.0 as i64, None, Some(value.as_bytes()), &[]);
                }
                let expect = model.expected_verdict(batch_epoch, first, last);
                let result = log.append(&mut builder.build(), 1, now);
                match (result, expect) {
                    (Ok(info), Ok(Some(original))) => {
                        assert!(info.duplicate);
                        assert_eq!((info.base_offset, info.last_offset), original);
                    }
                    (Ok(info), Ok(None)) => {
                        assert!(!info.duplicate);
                        assert_eq!(info.base_offset, model.log_end_offset);
                        let producer = Some((batch_epoch, first, last));
                        model.batches.push(ModelBatch {
                            base_offset: info.base_offset,
                            values: values.clone(),
                            producer,
                            timestamp: now.0 as i64,
                        });
                        model.log_end_offset = info.last_offset + 1;
                        if !resend || last_sent.is_none() {
                            next_sequence = last + 1;
                        }
                    }
                    (Err(err), Err(code)) => {
                        assert_eq!(err.code(), code);
                        // As the Java client: bump the epoch and start over at sequence 0.
                        epoch += 1;
                        next_sequence = 0;
                    }
                    (got, expect) => panic!("append gave {got:?}, the model expects {expect:?}"),
                }
                if !resend || last_sent.is_none() {
                    last_sent = Some((batch_epoch, first, values));
                }
            }
        }
        assert!(log.flushed_offset() >= model.flushed_offset);
        check_same(&log, &model);
    }
}

fn decode_records_of(records: &[u8]) -> Vec<(i64, String)> {
    let batches = split_batches(records).unwrap();
    batches
        .iter()
        .flat_map(|(range, _)| decode_records(&records[range.clone()]).unwrap())
        .map(|record| {
            (
                record.offset,
                String::from_utf8(record.value.unwrap()).unwrap(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn log_matches_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops);
    }
}
