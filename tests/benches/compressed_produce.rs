//! Produce throughput of compressed batches through `partita serve` (issue 17): since the
//! broker opens every compressed batch at append to count its records (and, on a compacted
//! topic, check their keys), this measures what that costs, against a baseline build that
//! stores compressed batches unread.
//!
//! For each codec, one Produce v9 request (acks=1, one batch of `RECORDS` JSON-like records,
//! compressed as librdkafka would with the broker's own codecs) is sent `BATCHES` times in a
//! row on one connection, each answered before the next; a run's figure is the uncompressed
//! megabytes per second. `RUNS` runs per build, the builds alternating run by run (the machine
//! is shared and noisy), and the table shows each build's median.
//!
//! ```text
//! cargo build --release -p partita-server
//! PARTITA_BASELINE_BIN=/path/to/old/partita cargo bench -p partita-tests --bench compressed_produce
//! ```
//!
//! Without `PARTITA_BASELINE_BIN` only the current build (`target/release/partita`, or
//! `$PARTITA_BIN`) is measured.

use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{CreateTopicsRequest, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use partita_core::batch::{BatchBuilder, Compression};
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
}

impl Broker {
    fn start(binary: &PathBuf) -> Broker {
        let server = Server::start_binary(binary, &["--config", "log.retention.bytes=-1"]);
        let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
        let create = CreateTopicsRequest::default().with_topics(vec![
            CreatableTopic::default()
                .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
                .with_num_partitions(1)
                .with_replication_factor(1),
        ]);
        assert_eq!(client.call(&create, 5).unwrap().topics[0].error_code, 0);
        Broker { server, client }
    }

    /// Sends `request` `count` times; seconds taken.
    fn produce(&mut self, request: &ProduceRequest, count: usize) -> f64 {
        let started = Instant::now();
        for _ in 0..count {
            let response = self.client.call(request, PRODUCE_VERSION).unwrap();
            let partition = &response.responses[0].partition_responses[0];
            assert_eq!(partition.error_code, 0, "{:?}", partition.error_message);
        }
        started.elapsed().as_secs_f64()
    }

    fn stop(self) {
        let dir = self.server.data_dir.clone();
        self.server.stop();
        let _ = std::fs::remove_dir_all(dir);
    }
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
        for broker in brokers {
            broker.stop();
        }
        let medians: Vec<f64> = mb_per_s.iter_mut().map(|f| median(f)).collect();
        rows.push((codec, bytes.len(), uncompressed, medians));
    }
    println!(
        "\nproduce, acks=1, one batch of {RECORDS} records per request, {BATCHES} requests per run, median of {RUNS} runs (uncompressed MB/s)\n"
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
    for (codec, bytes, uncompressed, medians) in rows {
        let mut line = format!(
            "| {codec:?} | {:.0} ({:.0}) |",
            bytes as f64 / 1024.0,
            uncompressed as f64 / 1024.0
        );
        for m in &medians {
            line.push_str(&format!(" {m:.1} |"));
        }
        if medians.len() == 2 {
            line.push_str(&format!(" {:.2} |", medians[1] / medians[0]));
        }
        println!("{line}");
    }
}
