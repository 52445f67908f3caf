"""Retention deletes whole old segments and moves the log start; a consumer that asks for a
deleted offset is reset by auto.offset.reset."""

import time

from confluent_kafka import Consumer, TopicPartition

from clients import consume, produce_all
from conftest import Server


def test_retention_by_bytes_moves_the_log_start(data_dir):
    server = Server(data_dir, "--config", "log.retention.check.interval.ms=200")
    try:
        # Small segments so that retention has whole segments to delete.
        server.partita("topics", "--create", "--topic", "logs", "--partitions", "1", "--replication-factor", "1",
                       "--config", "segment.bytes=2048", "--config", "retention.bytes=4096")
        value = b"x" * 200
        for _ in range(10):  # one batch per flush: many small batches, several segments
            produce_all({"bootstrap.servers": server.kafka, "linger.ms": 0}, [("logs", None, value)] * 5)
        consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "late-reader",
                             "auto.offset.reset": "earliest"})
        # Wait until retention has run on everything produced: the log start stops moving.
        deadline = time.monotonic() + 20
        seen = []
        while time.monotonic() < deadline and (len(seen) < 3 or seen[-1] != seen[-3] or seen[-1][0] == 0):
            seen.append(consumer.get_watermark_offsets(TopicPartition("logs", 0), timeout=5))
            time.sleep(0.3)
        low, high = seen[-1]
        assert 0 < low < high == 50, seen
        size = sum(int(p.stat().st_size) for p in (data_dir / "logs-0").glob("*.log"))
        assert size <= 4096 + 2048, f"retention.bytes keeps at most one segment over the limit: {size}"
        consumer.subscribe(["logs"])
        first = consume(consumer, 1)[0]
        assert first.offset() == low, "earliest is the new log start, not offset 0"
        consumer.close()
    finally:
        server.stop()


def test_delete_records_moves_the_log_start_for_every_client(server):
    from confluent_kafka.admin import AdminClient

    produce_all({"bootstrap.servers": server.kafka}, [("audit", b"k", f"v{i}".encode()) for i in range(10)])
    admin = AdminClient({"bootstrap.servers": server.kafka})
    futures = admin.delete_records([TopicPartition("audit", 0, 6)])
    deleted = next(iter(futures.values())).result(10)
    assert deleted.low_watermark == 6
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "auditor", "auto.offset.reset": "earliest"})
    assert consumer.get_watermark_offsets(TopicPartition("audit", 0), timeout=10) == (6, 10)
    consumer.subscribe(["audit"])
    assert [m.value() for m in consume(consumer, 4)] == [b"v6", b"v7", b"v8", b"v9"]
    consumer.close()
