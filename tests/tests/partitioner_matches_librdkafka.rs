//! The simulated producer's partitioners pick the partition a real client picks: confluent-kafka
//! (librdkafka) produces keyed messages to a real `partita serve`, with its default
//! `consistent_random` and with `murmur2_random` (the Java client's), and every delivery
//! report must name the partition `partita_core::partitioner` computes for that key.

use partita_core::partitioner::KeyHash;
use partita_tests::python::run_python;
use partita_tests::server::Server;

const PARTITIONS: u32 = 7;
const KEYS: usize = 200;

/// Produces `KEYS` keyed messages with `partitioner` through confluent-kafka; returns
/// (key, partition) from the delivery reports.
fn produce_with_librdkafka(server: &Server, topic: &str, partitioner: &str) -> Vec<(String, u32)> {
    let script = format!(
        r#"
import sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({{"bootstrap.servers": "{addr}"}})
for f in admin.create_topics([NewTopic("{topic}", {PARTITIONS}, 1)]).values():
    f.result(10)
p = Producer({{"bootstrap.servers": "{addr}", "partitioner": "{partitioner}"}})
out = []
for i in range({KEYS}):
    key = f"user:{{i * 7919 % 100003}}"
    p.produce("{topic}", key=key, value=b"v", on_delivery=lambda err, msg: out.append((msg.key().decode(), msg.partition(), err)))
assert p.flush(30) == 0
for key, partition, err in out:
    assert err is None, err
    print(key, partition)
"#,
        addr = server.kafka_addr
    );
    run_python(&script)
        .lines()
        .map(|line| {
            let (key, partition) = line.rsplit_once(' ').unwrap();
            (key.to_string(), partition.parse().unwrap())
        })
        .collect()
}

#[test]
fn keyed_partitions_match_librdkafka_for_both_hashes() {
    let server = Server::start();
    for (topic, name, hash) in [
        ("crc", "consistent_random", KeyHash::ConsistentRandom),
        ("murmur", "murmur2_random", KeyHash::Murmur2Random),
    ] {
        let delivered = produce_with_librdkafka(&server, topic, name);
        assert_eq!(delivered.len(), KEYS);
        for (key, partition) in &delivered {
            let ours = hash.hash_partition(Some(key.as_bytes()), PARTITIONS);
            assert_eq!(ours, Some(*partition), "{name}: key {key}");
        }
        let used: std::collections::BTreeSet<u32> = delivered.iter().map(|(_, p)| *p).collect();
        assert_eq!(
            used.len(),
            PARTITIONS as usize,
            "{name}: the keys spread over every partition"
        );
    }
}
