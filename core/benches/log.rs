//! Append and read 16 KiB batches through the partition log on the in-memory backend, beside
//! a plain memcpy of the same bytes (the target: within 2x of memcpy).
//!
//! The on-disk half of issue 3's benchmark (the server's file backend against a plain
//! sequential file write) belongs with that backend in `native-server`, since the core has no
//! file IO; it is not here.
//!
//! Run: `cargo bench -p partita-core --bench log`. Kept short: small samples, 2 s each.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use partita_core::Millis;
use partita_core::batch::BatchBuilder;
use partita_core::log::{Log, LogConfig};
use partita_core::storage::MemoryStorage;

const BATCH_BYTES_TARGET: usize = 16 * 1024;
/// Appends per fresh log, so memory stays bounded (64 MiB) however many iterations run.
const BATCHES_PER_LOG: u64 = 4096;

/// A batch of 16 records of about 1 KiB each: 16 KiB with the record and batch headers.
fn batch_16k() -> Vec<u8> {
    let value = vec![b'x'; BATCH_BYTES_TARGET / 16 - 24];
    let mut builder = BatchBuilder::new();
    for i in 0..16 {
        builder.push(1_700_000_000_000 + i, Some(b"key"), Some(&value), &[]);
    }
    builder.build()
}

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 64 * 1024 * 1024,
        retention_ms: None,
        ..LogConfig::default()
    }
}

fn appends(c: &mut Criterion) {
    let batch = batch_16k();
    let mut group = c.benchmark_group("16KiB batches, in memory");
    group.throughput(Throughput::Bytes(batch.len() as u64));

    group.bench_function("memcpy (baseline)", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut remaining = iters;
            while remaining > 0 {
                let count = remaining.min(BATCHES_PER_LOG);
                let mut target: Vec<u8> = Vec::with_capacity(batch.len() * count as usize);
                let start = Instant::now();
                for _ in 0..count {
                    target.extend_from_slice(black_box(&batch));
                }
                elapsed += start.elapsed();
                black_box(&target);
                remaining -= count;
            }
            elapsed
        })
    });

    group.bench_function("log append", |b| {
        let mut bytes = batch.clone();
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut remaining = iters;
            while remaining > 0 {
                let count = remaining.min(BATCHES_PER_LOG);
                let (mut log, _) = Log::open(MemoryStorage::new(), config()).unwrap();
                let start = Instant::now();
                for _ in 0..count {
                    black_box(log.append(&mut bytes, 0, Millis(0)).unwrap());
                }
                elapsed += start.elapsed();
                remaining -= count;
            }
            elapsed
        })
    });

    let (mut log, _) = Log::open(MemoryStorage::new(), config()).unwrap();
    let mut bytes = batch.clone();
    for _ in 0..1024 {
        log.append(&mut bytes, 0, Millis(0)).unwrap();
    }
    let records_per_batch = 16;
    let log_bytes: Vec<u8> = (0..1024).flat_map(|_| batch.iter().copied()).collect();

    group.bench_function("memcpy out (baseline)", |b| {
        let mut i = 0;
        b.iter(|| {
            let start = (i % 1024) * batch.len();
            i += 1;
            black_box(log_bytes[start..start + batch.len()].to_vec())
        })
    });

    group.bench_function("log read", |b| {
        let mut i = 0;
        b.iter(|| {
            let offset = (i % 1024) * records_per_batch;
            i += 1;
            black_box(log.read(offset, batch.len()).unwrap())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = appends
}
criterion_main!(benches);
