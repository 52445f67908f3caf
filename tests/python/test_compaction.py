"""Compacted topics (`cleanup.policy=compact`): retention never deletes their data, and the log
cleaner keeps the latest value of every key."""

import os
import subprocess
import time

from confluent_kafka import Consumer, Producer, TopicPartition

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


def test_topics_describe_shows_the_compaction_configs(server):
    configs = ("cleanup.policy=compact", "delete.retention.ms=3000", "min.cleanable.dirty.ratio=0.1",
               "min.compaction.lag.ms=10", "max.compaction.lag.ms=60000")
    create(server, "described", *configs)
    described = server.partita("topics", "--describe", "--topic", "described")
    [line] = [line for line in described.splitlines() if "Configs:" in line]
    assert line.split("Configs:")[1].strip().split(",") == sorted(configs)


# The cleaner looks for dirty logs every 100 ms instead of Kafka's 15 s.
CLEANER = ("--config", "log.cleaner.backoff.ms=100")
COMPACTED = ("cleanup.policy=compact", "segment.bytes=300", "min.cleanable.dirty.ratio=0.01")


def produce_each(server: Server, topic: str, records: list) -> list:
    """Produces (key, value) records one batch each; returns their offsets."""
    producer = Producer({"bootstrap.servers": server.kafka, "linger.ms": 0})
    offsets = []

    def on_delivery(err, msg):
        assert err is None, err
        offsets.append(msg.offset())

    for key, value in records:
        producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
        producer.flush(10)
    assert len(offsets) == len(records)
    return offsets


def rows(server: Server, topic: str) -> list:
    """(offset, key, value) of every record a consumer reads from the beginning."""
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "probe"})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    consumer.close()
    return [(m.offset(), m.key(), m.value()) for m in read_from_start(server, topic, high)]


def wait_for(condition, what: str, timeout_s: float = 20):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_consumer_reads_the_latest_value_of_each_key_and_tombstones_expire(data_dir):
    server = Server(data_dir, *CLEANER)
    try:
        create(server, "profiles", *COMPACTED, "delete.retention.ms=3000")
        history = [(f"k{k}".encode(), f"v{r}-{k}".encode()) for r in range(6) for k in range(5)]
        history.append((b"k4", None))  # a tombstone
        history += [(f"f{i}".encode(), b"filler") for i in range(4)]  # it is in a closed segment
        offsets = produce_each(server, "profiles", history)
        written = dict(zip(offsets, history))
        latest = {}
        for offset, (key, value) in sorted(written.items()):
            latest[key] = (offset, value)
        expect = sorted((offset, key, value) for key, (offset, value) in latest.items())

        got = wait_for(lambda: (r := rows(server, "profiles")) == expect and r, "the first cleaning")
        # Offsets increase with gaps, and each record is the one written at its offset.
        assert [o for o, _, _ in got] == sorted(o for o, _, _ in got)
        assert got[-1][0] - got[0][0] + 1 > len(got), "compaction leaves offset gaps"
        assert all(written[o] == (k, v) for o, k, v in got)
        assert (latest[b"k4"][0], b"k4", None) in got, "the tombstone is read while young"

        # Past delete.retention.ms, the next cleaning (new dirty data) removes the tombstone.
        time.sleep(3.5)
        more = produce_each(server, "profiles", [(f"f{i}".encode(), b"again") for i in range(4)]
                            + [(f"g{i}".encode(), b"tail") for i in range(3)])
        written.update(zip(more, [(f"f{i}".encode(), b"again") for i in range(4)]
                           + [(f"g{i}".encode(), b"tail") for i in range(3)]))
        # Waits for the fully cleaned log (the tombstone gone, one record per key): the cleaner
        # keeps going after the tombstone's round, so kcat below must read a log that is final.
        after = wait_for(lambda: (r := rows(server, "profiles")) and all(k != b"k4" for _, k, _ in r)
                         and len({k for _, k, _ in r}) == len(r) and r,
                         "the tombstone to go and every key to be cleaned to one record")
        assert {k: v for _, k, v in after} == {
            **{f"k{k}".encode(): f"v5-{k}".encode() for k in range(4)},
            **{f"f{i}".encode(): b"again" for i in range(4)},
            **{f"g{i}".encode(): b"tail" for i in range(3)},
        }
        assert all(written[o] == (k, v) for o, k, v in after)

        # kcat (librdkafka) reads the compacted topic from the beginning, gaps and all.
        done = subprocess.run(["kcat", "-b", server.kafka, "-C", "-t", "profiles", "-o", "beginning", "-e",
                               "-q", "-f", "%o %k %s\\n"], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [f"{o} {k.decode()} {v.decode()}" for o, k, v in after]
    finally:
        server.stop()


def test_a_crash_in_the_middle_of_a_cleaning_loses_nothing(data_dir):
    """SIGKILL while a cleaned segment is being written, then start on the same data dir:
    every key keeps its latest value, every record read is the one written at its offset."""
    # The cleaner's first look comes 2 s after its first (empty) one: after the produce below.
    server = Server(data_dir, "--config", "log.cleaner.backoff.ms=2000", "--config", "log.cleaner.io.buffer.size=512")
    try:
        create(server, "ledger", "cleanup.policy=compact", "segment.bytes=20000",
               "min.cleanable.dirty.ratio=0.01")
        history = [(f"acct-{i % 50}".encode(), f"balance-{i}".encode() * 4) for i in range(3000)]
        producer = Producer({"bootstrap.servers": server.kafka, "linger.ms": 5, "batch.size": 4000})
        offsets = {}

        def on_delivery(err, msg):
            assert err is None, err
            offsets[msg.offset()] = (msg.key(), msg.value())

        for key, value in history:
            producer.produce("ledger", key=key, value=value, on_delivery=on_delivery)
            producer.poll(0)
        assert producer.flush(30) == 0
        assert len(offsets) == len(history)
        partition_dir = data_dir / "ledger-0"
        caught = []
        deadline = time.monotonic() + 30
        while not caught and time.monotonic() < deadline:  # no sleep: a round takes milliseconds
            caught = [e.name for e in os.scandir(partition_dir) if e.name.endswith((".cleaned", ".swap"))]
        server.kill()
        assert caught, "no cleaning was seen in progress"
        print("killed with", caught)
    finally:
        server.stop()

    server = Server(data_dir, *CLEANER)
    try:
        latest = {}
        for offset, (key, value) in sorted(offsets.items()):
            latest[key] = value
        got = rows(server, "ledger")
        assert {k: v for _, k, v in got} == latest
        assert all(offsets[o] == (k, v) for o, k, v in got), "a record changed at its offset"
        assert [o for o, _, _ in got] == sorted(set(o for o, _, _ in got))
        # The cleaner finishes the job after the restart.
        wait_for(lambda: len(rows(server, "ledger")) < len(history) // 2, "the cleaning to finish")
        assert not list((data_dir / "ledger-0").glob("*.cleaned"))
    finally:
        server.stop()


def test_kafka_python_reads_a_compacted_topic_across_gaps_and_emptied_batches(data_dir):
    """A cleaned log has offset gaps and batches kept as a header alone (the last batch of each
    cleaned segment group); kafka-python's consumer steps over them as confluent-kafka does."""
    from kafka import KafkaConsumer, TopicPartition as KafkaTopicPartition

    server = Server(data_dir, *CLEANER)
    try:
        create(server, "settings", *COMPACTED)
        history = [(f"s{i % 3}".encode(), f"v{i}".encode()) for i in range(24)]
        history += [(f"t{i}".encode(), b"last") for i in range(3)]
        produce_each(server, "settings", history)
        expect = wait_for(lambda: (r := rows(server, "settings")) and len(r) == 6 and r, "the cleaning")
        consumer = KafkaConsumer(bootstrap_servers=server.kafka, enable_auto_commit=False,
                                 auto_offset_reset="earliest", consumer_timeout_ms=5000)
        tp = KafkaTopicPartition("settings", 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        got = [(m.offset, m.key, m.value) for m in consumer]
        consumer.close()
        assert got == expect
    finally:
        server.stop()
