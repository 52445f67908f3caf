//! Hostile clients against one live broker (issue 17): frames whose counts and lengths lie,
//! truncated varints, deep nesting, oversize strings and compressed bombs. Each lying frame is
//! refused (the connection closed, a log line), the broker goes on serving everyone else, every
//! acknowledged record stays intact, and its peak resident memory stays under a stated bound.

use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{CreateTopicsRequest, FetchRequest, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use partita_core::batch::{BatchBuilder, decode_records};
use partita_server::client::KafkaClient;
use partita_server::kafka::guard::hostile::{Poison, poisoned_request};
use partita_server::kafka::guard::{REQUESTS, header_version};
use partita_tests::server::Server;

/// Lying frames sent per kind.
const FRAMES_PER_KIND: usize = 2_000;
/// The broker's peak resident memory (VmHWM) must stay under this. An idle broker peaks near
/// 30 MiB; a single lying frame honoured by the codec asks for up to 154 GB.
const PEAK_RSS_BOUND_KIB: u64 = 256 * 1024;

const PRODUCE_VERSION: i16 = 9;
const FETCH_VERSION: i16 = 12;

/// The issue's frame: Metadata v1 whose topics count is 2^31-1, 20 bytes with its length.
const ISSUE_17_FRAME: [u8; 16] = [
    0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x02, 0x78, 0x78, 0x7f, 0xff, 0xff, 0xff,
];

fn topic(name: &'static str) -> TopicName {
    TopicName(StrBytes::from_static_str(name))
}

fn create_topic(client: &mut KafkaClient, name: &'static str) {
    let create = CreateTopicsRequest::default().with_topics(vec![
        CreatableTopic::default()
            .with_name(topic(name))
            .with_num_partitions(1)
            .with_replication_factor(1),
    ]);
    assert_eq!(client.call(&create, 5).unwrap().topics[0].error_code, 0);
}

fn produce_request(name: &'static str, records: Bytes) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(5_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(topic(name))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(records)),
                ]),
        ])
}

/// Produces one record to orders-0; returns its offset once acknowledged.
fn produce(client: &mut KafkaClient, value: &str) -> i64 {
    let mut builder = BatchBuilder::new();
    builder.push(1_700_000_000_000, None, Some(value.as_bytes()), &[]);
    let request = produce_request("orders", builder.build().into());
    let response = client.call(&request, PRODUCE_VERSION).unwrap();
    let partition = &response.responses[0].partition_responses[0];
    assert_eq!(partition.error_code, 0, "producing {value}");
    partition.base_offset
}

/// Every record of orders-0 from offset 0, as (offset, value).
fn fetch_all(client: &mut KafkaClient) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    loop {
        let request = FetchRequest::default()
            .with_max_wait_ms(0)
            .with_max_bytes(1 << 20)
            .with_topics(vec![
                FetchTopic::default()
                    .with_topic(topic("orders"))
                    .with_partitions(vec![
                        FetchPartition::default()
                            .with_partition(0)
                            .with_fetch_offset(out.len() as i64)
                            .with_partition_max_bytes(1 << 20),
                    ]),
            ]);
        let response = client.call(&request, FETCH_VERSION).unwrap();
        let partition = &response.responses[0].partitions[0];
        assert_eq!(partition.error_code, 0);
        let records = partition.records.clone().unwrap_or_default();
        let before = out.len();
        for (range, _) in partita_core::batch::split_batches(&records).unwrap() {
            for record in decode_records(&records[range]).unwrap() {
                if record.offset >= out.len() as i64 {
                    let value = String::from_utf8(record.value.unwrap()).unwrap();
                    out.push((record.offset, value));
                }
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// A produce of one zstd batch whose single record decompresses to 64 MiB of zeros.
fn compressed_bomb() -> ProduceRequest {
    let record = Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: 0,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset: 0,
        sequence: -1,
        timestamp: 1_700_000_000_000,
        key: None,
        value: Some(Bytes::from(vec![0u8; 64 << 20])),
        headers: Default::default(),
    };
    let mut batch = bytes::BytesMut::new();
    RecordBatchEncoder::encode(
        &mut batch,
        &[record],
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::Zstd,
        },
    )
    .unwrap();
    produce_request("bombs", batch.freeze())
}

/// Sends one frame on a fresh connection and asserts the broker closes it without an answer.
fn assert_refused(server: &Server, frame: &[u8], what: &str) {
    let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
    connection.send_frame(frame).unwrap();
    match connection.receive_frame() {
        Ok(None) | Err(_) => {}
        Ok(Some(answer)) => panic!("{what}: answered {answer:02x?} instead of closing"),
    }
}

/// VmHWM (peak resident set) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/PID/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_issue_17_frame_is_refused_with_a_log_line_and_the_broker_serves_on() {
    let server = Server::start();
    assert_refused(&server, &ISSUE_17_FRAME, "issue 17 frame");
    let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
    create_topic(&mut client, "orders");
    assert_eq!(produce(&mut client, "after"), 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    let logged = loop {
        let lines = server.log_lines();
        if let Some(line) = lines
            .iter()
            .find(|l| l.contains("refused MetadataRequest v1"))
        {
            break line.clone();
        }
        assert!(Instant::now() < deadline, "no refusal logged: {lines:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        logged.contains("Topics: count 2147483647 is larger than the 0 bytes left"),
        "{logged}"
    );
}

#[test]
fn thousands_of_lying_frames_leave_the_broker_serving_with_every_record_intact() {
    let started = Instant::now();
    let server = Server::start();
    let mut client = KafkaClient::connect(&server.kafka_addr).unwrap();
    create_topic(&mut client, "orders");
    create_topic(&mut client, "bombs");
    let mut acknowledged = Vec::new();
    let mut next_value = 0;
    let mut produce_one = |client: &mut KafkaClient, acknowledged: &mut Vec<(i64, String)>| {
        let value = format!("record-{next_value}");
        next_value += 1;
        let offset = produce(client, &value);
        acknowledged.push((offset, value));
    };
    produce_one(&mut client, &mut acknowledged);

    // Every (API, version) the broker speaks, cycled through for each kind of lie.
    let targets: Vec<_> = REQUESTS
        .iter()
        .flat_map(|m| (m.versions.0..=m.versions.1).map(move |v| (*m, v)))
        .collect();
    let mut sent = Vec::new();
    for poison in Poison::ALL {
        let frames: Vec<Vec<u8>> = targets
            .iter()
            .filter_map(|(m, v)| poisoned_request(m, *v, poison, 7))
            .collect();
        assert!(!frames.is_empty(), "{poison:?} applies somewhere");
        for (i, frame) in frames.iter().cycle().take(FRAMES_PER_KIND).enumerate() {
            assert_refused(&server, frame, &format!("{poison:?} #{i}"));
            if i % 500 == 0 {
                produce_one(&mut client, &mut acknowledged);
            }
        }
        sent.push((format!("{poison:?}"), FRAMES_PER_KIND, frames.len()));
    }
    // Frames cut anywhere: every prefix of a real request's body, and random bytes after a
    // valid header (a deterministic xorshift, so a failure replays).
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut garbage_sent = 0;
    while garbage_sent < FRAMES_PER_KIND {
        let (message, version) = targets[random() as usize % targets.len()];
        let header_len = if header_version(message, version) == 2 {
            18
        } else {
            17
        };
        let mut frame =
            poisoned_request(message, version, Poison::HugeCount, 1).unwrap_or_default();
        frame.truncate(header_len.min(frame.len()));
        if frame.len() < header_len {
            continue;
        }
        for _ in 0..random() % 64 {
            frame.push(random() as u8);
        }
        // Random bytes may form a valid request; those are answered, the rest refused.
        let mut connection = KafkaClient::connect(&server.kafka_addr).unwrap();
        connection.send_frame(&frame).unwrap();
        let _ = connection.receive_frame();
        garbage_sent += 1;
    }
    sent.push(("random bodies".into(), garbage_sent, targets.len()));

    // Compressed bombs: valid batches whose records inflate past the bound the broker opens
    // them with at append (64 MiB): each is refused with MESSAGE_TOO_LARGE, nothing stored.
    let bomb = compressed_bomb();
    let bomb_bytes = bomb.topic_data[0].partition_data[0]
        .records
        .as_ref()
        .map_or(0, Bytes::len);
    let mut bombs = KafkaClient::connect(&server.kafka_addr).unwrap();
    for _ in 0..FRAMES_PER_KIND / 4 {
        let answer = bombs.call(&bomb, PRODUCE_VERSION).unwrap();
        let partition = &answer.responses[0].partition_responses[0];
        assert_eq!(
            partition.error_code,
            partita_core::ErrorCode::MESSAGE_TOO_LARGE.code(),
            "{:?}",
            partition.error_message
        );
    }
    sent.push((
        "zstd bombs (64 MiB each)".into(),
        FRAMES_PER_KIND / 4,
        bomb_bytes,
    ));

    produce_one(&mut client, &mut acknowledged);
    // A fresh client produces and fetches; every acknowledged record is there, in order.
    let mut fresh = KafkaClient::connect(&server.kafka_addr).unwrap();
    produce_one(&mut fresh, &mut acknowledged);
    assert_eq!(fetch_all(&mut fresh), acknowledged);

    let peak = peak_rss_kib(server.pid());
    eprintln!("kind, frames sent, distinct frames (or bytes)");
    for (kind, count, distinct) in &sent {
        eprintln!("{kind}, {count}, {distinct}");
    }
    eprintln!("broker peak RSS (VmHWM): {peak} KiB; bound {PEAK_RSS_BOUND_KIB} KiB");
    assert!(
        peak < PEAK_RSS_BOUND_KIB,
        "peak RSS {peak} KiB over {PEAK_RSS_BOUND_KIB} KiB"
    );
    eprintln!("took {:?}", started.elapsed());
    assert!(server.stop(), "the broker exits cleanly after all that");
}
