"""Compacted topics (`cleanup.policy=compact`): retention never deletes their data, and the log
cleaner keeps the latest value of every key."""

import time

from confluent_kafka import Consumer, TopicPartition

from clients import produce_all
from conftest import Server

RETENTION_CHECK = ("--config", "log.retention.check.interval.ms=500")


def create(server: Server, topic: str, *configs: str) -> None:
    args = ["topics", "--create", "--topic", topic, "--partitions", "1", "--replication-factor", "1"]
    for config in configs:
        args += ["--config", config]
    server.partita(*args)


def read_from_start(server: Server, topic: str, high: int) -> list:
    """Every message of partition 0 from the earliest offset up to `high` (a fresh consumer)."""
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": f"reader-{time.monotonic()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not got or got[-1].offset() < high - 1):
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        assert msg.error() is None, msg.error()
        got.append(msg)
    consumer.close()
    return got


def test_retention_never_deletes_a_compact_only_topic(data_dir):
    """Issue 20's steps: compact, retention.ms=1000, segment.ms=200, 10 records over three keys,
    wait 4 s; the records (at least the latest value of each key) must still be there."""
    server = Server(data_dir, *RETENTION_CHECK)
    try:
        create(server, "state", "cleanup.policy=compact", "retention.ms=1000", "segment.ms=200")
        sent = [(f"k{i % 3}".encode(), f"v{i}".encode()) for i in range(10)]
        for key, value in sent:  # one batch each, spread over several segments
            produce_all({"bootstrap.servers": server.kafka, "linger.ms": 0}, [("state", key, value)])
            time.sleep(0.25)
        time.sleep(4)
        consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "probe"})
        low, high = consumer.get_watermark_offsets(TopicPartition("state", 0), timeout=10)
        consumer.close()
        assert (low, high) == (0, 10), "retention deleted records of a compact-only topic"
        latest = {m.key(): m.value() for m in read_from_start(server, "state", high)}
        assert latest == {b"k0": b"v9", b"k1": b"v7", b"k2": b"v8"}
        segments = sorted((data_dir / "state-0").glob("*.log"))
        assert len(segments) > 1, "segment.ms=200 rolled segments, none of which retention deleted"
    finally:
        server.stop()


def test_compact_delete_still_applies_retention(data_dir):
    """`cleanup.policy=compact,delete` keeps time retention: old segments go."""
    server = Server(data_dir, *RETENTION_CHECK)
    try:
        create(server, "both", "cleanup.policy=compact,delete", "retention.ms=1000", "segment.ms=200")
        for i in range(5):
            produce_all({"bootstrap.servers": server.kafka, "linger.ms": 0}, [("both", b"k", f"v{i}".encode())])
            time.sleep(0.25)
        consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "probe"})
        deadline = time.monotonic() + 15
        low = 0
        while time.monotonic() < deadline and low == 0:
            low, high = consumer.get_watermark_offsets(TopicPartition("both", 0), timeout=10)
            time.sleep(0.3)
        consumer.close()
        assert low > 0, "retention.ms applies to compact,delete topics"
    finally:
        server.stop()


def test_keyless_records_are_refused_per_record_and_keyed_ones_accepted(server):
    """Kafka refuses a record without a key on a compacted topic with INVALID_RECORD (librdkafka's
    own test suite checks it); the producer goes on, and the next keyed record is accepted."""
    from confluent_kafka import KafkaError, Producer

    create(server, "state", "cleanup.policy=compact")
    producer = Producer({"bootstrap.servers": server.kafka, "linger.ms": 0})
    reports = []
    producer.produce("state", value=b"no key", on_delivery=lambda err, msg: reports.append((err, msg)))
    assert producer.flush(30) == 0
    [(err, _)] = reports
    assert err is not None and err.code() == KafkaError.INVALID_RECORD, err
    assert not err.retriable()

    reports.clear()
    producer.produce("state", key=b"k", value=b"keyed", on_delivery=lambda err, msg: reports.append((err, msg)))
    assert producer.flush(30) == 0
    [(err, msg)] = reports
    assert err is None, err
    assert msg.offset() == 0, "the refused record took no offset"
