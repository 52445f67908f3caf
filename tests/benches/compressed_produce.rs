//! Produce throughput of compressed batches through `partita serve` (issue 17): since the
//! broker opens every compressed batch at append to count its records (and, on a compacted
//! topic, check their keys), this measures what that costs, against a baseline build that
//! stores compressed batches unread.
//!
//! For each codec, one Produce v9 request (one batch of `RECORDS` JSON-like records,
//! compressed as librdkafka would with the broker's own codecs) is sent `BATCHES` times on one
//! connection with acks=0, then once with acks=1 whose answer ends the run; a run's figure is
//! the uncompressed megabytes per second. At the end every batch must have been appended. `RUNS` runs per build, the builds alternating run by run (the machine
//! is shared and noisy), and the table shows each build's median.
//!
//! ```text
//! cargo build --release -p partita-server
//! PARTITA_BASELINE_BIN=/path/to/old/partita cargo bench -p partita-tests --bench compressed_produce
//! ```
//!
//! Without `PARTITA_BASELINE_BIN` only the current build (`target/release/partita`, or
//! `$PARTITA_BIN`) is measured.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{CreateTopicsRequest, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use partita_core::Millis;
use partita_core::batch::{
    BatchBuilder, Compression, open_records, validate_batch, validate_client_records,
};
use partita_core::log::{APPEND_DECOMPRESSED_MAX_BYTES, Log, LogConfig};
use partita_core::storage::MemoryStorage;
use partita_server::client::KafkaClient;
use partita_server::decompress::NATIVE_CODECS;
use partita_tests::server::{Server, partita_binary};

const RECORDS: usize = 1_000;
const BATCHES: usize = 100;
const RUNS: usize = 5;
const PRODUCE_VERSION: i16 = 9;
const TOPIC: &str = "bench";

/// One batch of JSON-like records: repetitive field names, varying numbers and ids, about
/// 180 bytes each (compresses 3-6x, like typical event payloads).
fn batch(codec: Compression) -> (Vec<u8>, usize) {
    let mut builder = BatchBuilder::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut uncompressed = 0;
    for i in 0..RECORDS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let key = format!("user-{}", seed % 10_000);
        let value = format!(
            r#"{{"event":"page_view","user":"{key}","session":"{seed:016x}","seq":{i},"price":{}.{:02},"path":"/products/{}"}}"#,
            seed % 1000,
            seed % 100,
            seed % 5000
        );
        uncompressed += key.len() + value.len();
        builder.push(
            1_700_000_000_000 + i as i64,
            Some(key.as_bytes()),
            Some(value.as_bytes()),
            &[],
        );
    }
    let bytes = match codec {
        Compression::None => builder.build(),
        codec => builder.build_compressed(codec, &NATIVE_CODECS).unwrap(),
    };
    (bytes, uncompressed)
}

fn request(records: Bytes) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(records)),
                ]),
        ])
}

/// A broker of one build with the bench topic, and a connection to it.
struct Broker {
    server: Server,
    client: KafkaClient,
    /// Batches sent so far.
    produced: usize,
}

impl Broker {
    fn start(binary: &Path) -> Broker {
        let server = Server::start_binary(binary, &["--config", "log.retention.bytes=-1"]);
        let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
        let create = CreateTopicsRequest::default().with_topics(vec![
            CreatableTopic::default()
                .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
                .with_num_partitions(1)
                .with_replication_factor(1),
        ]);
        assert_eq!(client.call(&create, 5).unwrap().topics[0].error_code, 0);
        Broker {
            server,
            client,
            produced: 0,
        }
    }

    /// Sends `count` copies of the batch with acks=0, then one with acks=1 and waits for its
    /// answer (a connection's requests are handled in order, and an acks=1 answer waits for
    /// the flush): seconds taken, the broker's ingest rate, not one round trip per batch.
    fn produce(&mut self, request: &ProduceRequest, count: usize) -> f64 {
        let fire_and_forget = request.clone().with_acks(0);
        let started = Instant::now();
        for _ in 0..count {
            self.client
                .send_only(&fire_and_forget, PRODUCE_VERSION)
                .unwrap();
        }
        let response = self.client.call(request, PRODUCE_VERSION).unwrap();
        let partition = &response.responses[0].partition_responses[0];
        assert_eq!(partition.error_code, 0, "{:?}", partition.error_message);
        let seconds = started.elapsed().as_secs_f64();
        self.produced += count + 1;
        seconds
    }

    /// Checks that every batch sent was appended (a refused one takes no offsets), then stops.
    fn check(&mut self, request: &ProduceRequest) {
        let response = self.client.call(request, PRODUCE_VERSION).unwrap();
        let partition = &response.responses[0].partition_responses[0];
        assert_eq!(partition.error_code, 0, "{:?}", partition.error_message);
        assert_eq!(partition.base_offset, (self.produced * RECORDS) as i64);
    }

    fn stop(self) {
        let dir = self.server.data_dir.clone();
        self.server.stop();
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Appends per run in the core's table.
const CORE_APPENDS: usize = 200;

/// The core's share, without sockets or the engine: microseconds per batch for `Log::append`
/// (in memory, the codecs lent) and for opening the batch alone (decompressing it and counting
/// its records, what the append now adds), medians of `RUNS` runs.
fn core_append_micros(batch: &[u8]) -> (f64, f64) {
    let (mut append, mut open) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let (mut log, _) = Log::open(MemoryStorage::new(), LogConfig::default()).unwrap();
        log.set_codecs(&NATIVE_CODECS);
        let started = Instant::now();
        for _ in 0..CORE_APPENDS {
            let mut copy = batch.to_vec();
            log.append(&mut copy, 0, Millis(1)).unwrap();
        }
        append.push(started.elapsed().as_secs_f64() * 1e6 / CORE_APPENDS as f64);
        let header = validate_batch(batch).unwrap().header;
        let started = Instant::now();
        for _ in 0..CORE_APPENDS {
            let section = open_records(
                batch,
                &header,
                &NATIVE_CODECS,
                APPEND_DECOMPRESSED_MAX_BYTES,
            )
            .unwrap();
            validate_client_records(&header, &section).unwrap();
        }
        open.push(started.elapsed().as_secs_f64() * 1e6 / CORE_APPENDS as f64);
    }
    (median(&mut append), median(&mut open))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut builds = Vec::new();
    if let Some(baseline) = std::env::var_os("PARTITA_BASELINE_BIN") {
        builds.push(("baseline", PathBuf::from(baseline)));
    }
    builds.push(("current", partita_binary()));
    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    let mut rows = Vec::new();
    for codec in codecs {
        let (bytes, uncompressed) = batch(codec);
        let request = request(Bytes::from(bytes.clone()));
        let mut brokers: Vec<Broker> = builds.iter().map(|(_, bin)| Broker::start(bin)).collect();
        for broker in &mut brokers {
            broker.produce(&request, 10); // warm up: segment files, page cache, connections
        }
        let mut mb_per_s = vec![Vec::new(); brokers.len()];
        for _ in 0..RUNS {
            for (broker, figures) in brokers.iter_mut().zip(&mut mb_per_s) {
                let seconds = broker.produce(&request, BATCHES);
                figures.push((uncompressed * BATCHES) as f64 / 1e6 / seconds);
            }
        }
        for mut broker in brokers {
            broker.check(&request);
            broker.stop();
        }
        let medians: Vec<f64> = mb_per_s.iter_mut().map(|f| median(f)).collect();
        let core = core_append_micros(&bytes);
        rows.push((codec, bytes.len(), uncompressed, medians, core));
    }
    println!(
        "\nproduce, one batch of {RECORDS} records per request, {BATCHES} requests with acks=0 and one with acks=1 per run, median of {RUNS} runs (uncompressed MB/s)\n"
    );
    let names: Vec<&str> = builds.iter().map(|(name, _)| *name).collect();
    let mut header = "| codec | batch KiB (uncompressed) |".to_string();
    for name in &names {
        header.push_str(&format!(" {name} MB/s |"));
    }
    if names.len() == 2 {
        header.push_str(" current / baseline |");
    }
    println!("{header}");
    println!(
        "|{}",
        "---|".repeat(2 + names.len() + usize::from(names.len() == 2))
    );
    for (codec, bytes, uncompressed, medians, _) in &rows {
        let mut line = format!(
            "| {codec:?} | {:.0} ({:.0}) |",
            *bytes as f64 / 1024.0,
            *uncompressed as f64 / 1024.0
        );
        for m in medians {
            line.push_str(&format!(" {m:.1} |"));
        }
        if medians.len() == 2 {
            line.push_str(&format!(" {:.2} |", medians[1] / medians[0]));
        }
        println!("{line}");
    }
    println!(
        "\ncurrent build's core: Log::append in memory, {CORE_APPENDS} appends per run, median of {RUNS} runs\n"
    );
    println!(
        "| codec | append µs/batch | opening alone µs/batch (decompress + count) | opening share of append |"
    );
    println!("|---|---|---|---|");
    for (codec, _, _, _, (append, open)) in &rows {
        println!(
            "| {codec:?} | {append:.0} | {open:.0} | {:.0}% |",
            100.0 * open / append
        );
    }
}
