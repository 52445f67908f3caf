//! Replays every committed fuzz input (`fuzz/corpus/TARGET/` seeds and `fuzz/regressions/TARGET/`
//! findings) through the fuzz targets' bodies (`partita_tests::fuzz`) in the normal test suite,
//! so a finding stays fixed without cargo-fuzz. `write_seeds` (ignored) regenerates the
//! synthetic seeds; real clients' requests are captured by `scripts/fuzz.sh --capture`.

use std::path::{Path, PathBuf};

use bytes::BytesMut;
use kafka_protocol::messages::{ApiKey, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::Encodable;
use partita_core::Millis;
use partita_core::batch::{BatchBuilder, Header};
use partita_core::log::{Log, LogConfig};
use partita_core::storage::{MemoryStorage, Storage};
use partita_server::kafka::guard::REQUESTS;
use partita_server::kafka::guard::hostile::{Poison, poisoned_request};
use partita_tests::fuzz::{TARGETS, committed_inputs};
use partita_tests::workspace_root;

#[test]
fn every_committed_fuzz_input_runs_clean() {
    for (target, run) in TARGETS {
        let files = committed_inputs(target);
        assert!(!files.is_empty(), "no seeds for {target}: run write_seeds");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            eprintln!("{target}: {}", file.display());
            run(&data);
        }
    }
}

/// The requests real clients sent in the test suites (captured by `scripts/fuzz.sh --capture`:
/// confluent-kafka, kafka-python, kcat, KafkaJS) all pass the guard.
#[test]
fn the_guard_accepts_every_captured_client_request() {
    let captured: Vec<PathBuf> = committed_inputs("request")
        .into_iter()
        .filter(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("client-")
        })
        .collect();
    assert!(
        captured.len() > 100,
        "only {} captured requests",
        captured.len()
    );
    for file in captured {
        let frame = std::fs::read(&file).unwrap();
        if let Err(refusal) = partita_server::kafka::guard::check_request(&frame) {
            panic!("{}: {refusal}", file.display());
        }
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn response_seed(api: ApiKey, version: i16, body: &ResponseKind) -> Option<Vec<u8>> {
    let mut frame = (api as i16).to_be_bytes().to_vec();
    frame.extend_from_slice(&version.to_be_bytes());
    let mut buf = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(3)
        .encode(&mut buf, api.response_header_version(version))
        .ok()?;
    body.encode(&mut buf, version).ok()?;
    frame.extend_from_slice(&buf);
    Some(frame)
}

/// Writes the synthetic seeds: hostile requests (one per poison per API, at the highest
/// version), empty responses of every API, record batches, SASL tokens, config lines and the
/// files of a small real log.
#[test]
#[ignore = "regenerates fuzz/corpus; run by hand"]
fn write_seeds() {
    let corpus = workspace_root().join("fuzz/corpus");
    for message in REQUESTS {
        let version = message.versions.1;
        for poison in Poison::ALL {
            if let Some(frame) = poisoned_request(message, version, poison, 1) {
                write(
                    &corpus.join("request"),
                    &format!("hostile-{}-v{version}-{poison:?}.bin", message.api_key),
                    &frame,
                );
            }
        }
    }
    macro_rules! responses {
        ($($key:ident => $ty:ident),* $(,)?) => {
            $(
                for version in [0i16, 3, 7, 12] {
                    let body = ResponseKind::$key(kafka_protocol::messages::$ty::default());
                    if let Some(seed) = response_seed(ApiKey::$key, version, &body) {
                        if partita_server::kafka::guard::response_schema(
                            ApiKey::$key as i16, version).is_some() {
                            write(&corpus.join("response"),
                                  &format!("{}-v{version}.bin", stringify!($key)), &seed);
                        }
                    }
                }
            )*
        };
    }
    responses!(
        Produce => ProduceResponse, Fetch => FetchResponse, ListOffsets => ListOffsetsResponse,
        Metadata => MetadataResponse, OffsetCommit => OffsetCommitResponse,
        OffsetFetch => OffsetFetchResponse, FindCoordinator => FindCoordinatorResponse,
        JoinGroup => JoinGroupResponse, SyncGroup => SyncGroupResponse,
        DescribeGroups => DescribeGroupsResponse, ListGroups => ListGroupsResponse,
        ApiVersions => ApiVersionsResponse, CreateTopics => CreateTopicsResponse,
        DescribeConfigs => DescribeConfigsResponse, SaslHandshake => SaslHandshakeResponse,
    );

    let mut builder = BatchBuilder::new();
    builder.push(
        1_700_000_000_000,
        Some(b"k"),
        Some(b"v"),
        &[Header {
            key: "h".into(),
            value: Some(b"x".to_vec()),
        }],
    );
    builder.push(1_700_000_000_001, None, Some(b"second"), &[]);
    let two = builder.build();
    write(&corpus.join("batch"), "two-records.bin", &two);
    let mut idempotent = BatchBuilder::new().idempotent(7, 0, 0);
    idempotent.push(1, None, None, &[]);
    write(&corpus.join("batch"), "idempotent.bin", &idempotent.build());

    for (name, token) in [
        ("valid-v1", &b"\x01PLAIN\xff\0alice\0secret"[..]),
        ("valid-v0", b"\x00PLAIN\xff\0alice\0secret"),
        ("wrong-password", b"\x01PLAIN\xffalice\0alice\0guess"),
        ("other-mechanism", b"\x01SCRAM-SHA-256\xffn,,n=alice,r=abc"),
    ] {
        write(&corpus.join("sasl"), name, token);
    }
    write(
        &corpus.join("config"),
        "broker.txt",
        b"num.partitions=3\nlog.retention.ms=60000\ngroup.max.size=10\nconnections.max.idle.ms=5000\nqueued.max.request.bytes=-1\n",
    );
    write(
        &corpus.join("config"),
        "topic.txt",
        b"cleanup.policy=compact\nmax.message.bytes=1000\nretention.bytes=-1\n",
    );

    // A real log's files, laid out as log_recovery splits its input.
    let mut log = Log::open(MemoryStorage::new(), LogConfig::default())
        .unwrap()
        .0;
    for i in 0..3 {
        let mut b = BatchBuilder::new();
        b.push(
            1_700_000_000_000 + i,
            None,
            Some(format!("record {i}").as_bytes()),
            &[],
        );
        log.append(&mut b.build(), 0, Millis(10)).unwrap();
    }
    log.flush().unwrap();
    let storage = log.into_storage();
    let file = |name: &str| storage.read(name, 0, 1 << 20).unwrap_or_default();
    let mut seed = Vec::new();
    for name in [
        "00000000000000000000.log",
        "00000000000000000000.index",
        "00000000000000000000.timeindex",
    ] {
        let bytes = file(name);
        seed.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        seed.extend_from_slice(&bytes);
    }
    seed.extend_from_slice(&file("log-start-offset.checkpoint"));
    write(&corpus.join("log_recovery"), "three-batches.bin", &seed);
}

/// Writes the `peer` target's seeds (`fuzz/corpus/peer/`): connections to node 1 of a
/// three-node cluster, each a hello and one or more frames, from the real traffic of an
/// in-memory cluster (`partita_tests::fuzz::peer::cluster_traffic`: the Raft election and
/// replication of the metadata log, registrations, heartbeats, metadata pushes, a topic's
/// replica fetches) and, for the messages that traffic lacks, frames the encoder makes of
/// hand-built messages.
#[test]
#[ignore = "regenerates fuzz/corpus/peer; run by hand"]
fn write_peer_seeds() {
    use partita_core::node::PeerMessage;
    use partita_server::peer::codec;
    use std::collections::BTreeMap;

    const PER_KIND: usize = 3;
    let dir = workspace_root().join("fuzz/corpus/peer");
    let _ = std::fs::remove_dir_all(&dir);
    let mut traffic = partita_tests::fuzz::peer::cluster_traffic();
    for message in partita_server::peer::control::sample_messages() {
        traffic.push((2, message));
    }
    let kind = |message: &PeerMessage| {
        let summary = message.summary();
        let end = summary.find([',', ')']).unwrap_or(summary.len());
        summary[..end].replace(['(', '='], "-")
    };
    let max = partita_tests::fuzz::smoke::MAX_LEN;
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut conversations: BTreeMap<i32, Vec<u8>> = BTreeMap::new();
    for (from, message) in &traffic {
        let frame = codec::encode(message).unwrap();
        let hello = codec::hello(*from);
        let conversation = conversations.entry(*from).or_insert_with(|| hello.clone());
        if conversation.len() + frame.len() <= max {
            conversation.extend_from_slice(&frame);
        }
        let kind = kind(message);
        let seen = per_kind.entry(kind.clone()).or_default();
        if *seen == PER_KIND || hello.len() + frame.len() > max {
            continue;
        }
        *seen += 1;
        let mut seed = hello;
        seed.extend_from_slice(&frame);
        write(&dir, &format!("from{from}-{kind}-{seen}.bin"), &seed);
    }
    for (from, conversation) in conversations {
        write(&dir, &format!("from{from}-conversation.bin"), &conversation);
    }
    eprintln!("{per_kind:#?}");
}
