//! Golden bytes: the core's `BatchBuilder` writes, byte for byte, the record batch librdkafka
//! (confluent-kafka) writes for the same records. The batch is captured from a real produce to
//! `partita serve`, straight from the partition's `.log` file on disk.

use partita_core::batch::{BatchBuilder, Header, assign_offsets};
use partita_tests::python::run_python;
use partita_tests::server::Server;

const TIMESTAMP_MS: i64 = 1_700_000_000_123;

#[test]
fn the_core_builds_the_batch_librdkafka_builds() {
    let server = Server::start();
    // One batch of three records, uncompressed, not idempotent, with a key, a null key, a
    // header and an empty value: the fields a batch encoder can get wrong.
    let script = format!(
        r#"
from confluent_kafka import Producer
p = Producer({{"bootstrap.servers": "{addr}", "linger.ms": 200, "enable.idempotence": False, "compression.type": "none"}})
p.produce("golden", key=b"user:42", value=b'{{"id": 1001}}', timestamp={TIMESTAMP_MS}, partition=0)
p.produce("golden", key=None, value=b"no key", timestamp={TIMESTAMP_MS} + 5, partition=0, headers=[("trace", b"abc")])
p.produce("golden", key=b"k", value=b"", timestamp={TIMESTAMP_MS} + 7, partition=0)
assert p.flush(30) == 0
"#,
        addr = server.kafka_addr
    );
    run_python(&script);

    let captured =
        std::fs::read(server.data_dir.join("golden-0/00000000000000000000.log")).unwrap();

    let mut builder = BatchBuilder::new();
    builder.push(
        TIMESTAMP_MS,
        Some(b"user:42"),
        Some(br#"{"id": 1001}"#),
        &[],
    );
    builder.push(
        TIMESTAMP_MS + 5,
        None,
        Some(b"no key"),
        &[Header {
            key: "trace".into(),
            value: Some(b"abc".to_vec()),
        }],
    );
    builder.push(TIMESTAMP_MS + 7, Some(b"k"), Some(b""), &[]);
    let mut ours = builder.build();
    // The broker stamped offset 0 and its leader epoch (0) in place, outside the CRC.
    assign_offsets(&mut ours, 0, 0).unwrap();
    assert_eq!(
        ours, captured,
        "BatchBuilder's bytes differ from librdkafka's"
    );
}
