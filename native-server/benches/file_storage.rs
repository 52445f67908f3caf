//! The partition log on real files against a plain sequential file write of the same bytes
//! (issue target: within 1.5x). Each iteration writes 4 MiB as 256 batches of 16 KiB into a
//! fresh directory, without sync (the page cache, Kafka's default), then once with a final
//! sync of everything.

use std::io::Write;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use partita_core::Millis;
use partita_core::batch::BatchBuilder;
use partita_core::log::{Log, LogConfig};
use partita_server::storage::FileStorage;

const BATCH_BYTES: usize = 16 * 1024;
const BATCHES: usize = 256;

fn batch() -> Vec<u8> {
    let mut builder = BatchBuilder::new();
    let value = vec![b'x'; BATCH_BYTES - 100];
    builder.push(1_700_000_000_000, None, Some(&value), &[]);
    builder.build()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("partita-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bench(c: &mut Criterion) {
    let batch = batch();
    let mut group = c.benchmark_group("write 4 MiB in 16 KiB batches");
    group
        .sample_size(20)
        .throughput(Throughput::Bytes((batch.len() * BATCHES) as u64));
    for sync in [false, true] {
        let suffix = if sync { " + sync" } else { "" };
        group.bench_function(format!("plain file write{suffix}"), |b| {
            b.iter_batched(
                || scratch("plain"),
                |dir| {
                    let mut file = std::fs::File::create(dir.join("data")).unwrap();
                    for _ in 0..BATCHES {
                        file.write_all(&batch).unwrap();
                    }
                    if sync {
                        file.sync_data().unwrap();
                    }
                },
                criterion::BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("partition log on files{suffix}"), |b| {
            b.iter_batched(
                || {
                    let (log, _) = Log::open(
                        FileStorage::open(scratch("log")).unwrap(),
                        LogConfig::default(),
                    )
                    .unwrap();
                    (log, batch.clone())
                },
                |(mut log, mut bytes)| {
                    for _ in 0..BATCHES {
                        log.append(&mut bytes, 0, Millis(1_700_000_000_000))
                            .unwrap();
                    }
                    if sync {
                        log.flush().unwrap();
                    }
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
