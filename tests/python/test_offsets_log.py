"""The group coordinator's committed offsets live in the partitions of the compacted internal topic
`__consumer_offsets` (`__consumer_offsets-<n>/` in the data directory, Kafka's record format) that
the log cleaner compacts: offsets survive a crash and a restart, only the latest commit of each
group and partition is kept, and what an older partita kept in `__consumer_offsets/` (a log of its
own, or a `groups.jsonl`) is migrated into the topic's partitions on first start."""

import json
import time

from confluent_kafka import Consumer, TopicPartition

from clients import produce_all
from conftest import Server

# Small offsets segments and a quick cleaner, so that cleaning happens within the test.
OFFSETS = ("--config", "offsets.topic.segment.bytes=1000", "--config", "log.cleaner.backoff.ms=100")


def offsets_log_bytes(data_dir) -> int:
    return sum(f.stat().st_size for f in data_dir.glob("__consumer_offsets-*/*.log"))


def committed(server: Server, group: str, topic: str, partition: int) -> int:
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": group, "enable.auto.commit": False})
    try:
        [tp] = consumer.committed([TopicPartition(topic, partition)], timeout=20)
        return tp.offset
    finally:
        consumer.close()


def test_committed_offsets_survive_a_crash_and_the_cleaner_keeps_only_the_latest(data_dir):
    server = Server(data_dir, *OFFSETS)
    try:
        server.partita("topics", "--create", "--topic", "events", "--partitions", "2", "--replication-factor", "1")
        produce_all({"bootstrap.servers": server.kafka}, [("events", None, f"m{i}".encode()) for i in range(10)])
        consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "app", "enable.auto.commit": False})
        commit = lambda i: consumer.commit(offsets=[TopicPartition("events", 0, i), TopicPartition("events", 1, 1000 + i)],
                                           asynchronous=False)
        commit(1)
        one_commit = offsets_log_bytes(data_dir)  # one batch of two records
        commits = 150
        for i in range(2, commits + 1):
            commit(i)
        consumer.close()
        written = one_commit * commits
        # Every commit went to the log (150 batches); the cleaner rewrites the closed segments
        # as they roll, keeping the latest commit of each group and partition.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and offsets_log_bytes(data_dir) > written // 4:
            time.sleep(0.2)
        left = offsets_log_bytes(data_dir)
        assert left <= written // 4, f"the offsets log was not compacted: {left} of {written} bytes left"
        assert committed(server, "app", "events", 0) == commits
    finally:
        server.kill()  # a crash: no clean shutdown
    server = Server(data_dir, *OFFSETS)
    try:
        assert committed(server, "app", "events", 0) == commits
        assert committed(server, "app", "events", 1) == 1000 + commits
    finally:
        server.stop()


def legacy_commit(group: str, topic: str, partition: int, offset) -> str:
    """One line of the `groups.jsonl` older versions wrote (serde's JSON of a GroupRecord)."""
    # Committed now: older commits would expire (offsets.retention.minutes).
    value = None if offset is None else {"offset": offset, "leader_epoch": None, "metadata": "",
                                         "commit_timestamp": int(time.time() * 1000)}
    return json.dumps({"Offset": {"group": group, "partition": {"topic": topic, "partition": partition},
                                  "value": value}})


def test_groups_jsonl_is_migrated_on_first_start(data_dir):
    server = Server(data_dir)
    try:
        server.partita("topics", "--create", "--topic", "events", "--partitions", "1", "--replication-factor", "1")
    finally:
        server.stop()
    # Make the directory look like an older partita's: no offsets log, a groups.jsonl.
    offsets_dir = data_dir / "__consumer_offsets"
    offsets_dir.mkdir(exist_ok=True)
    lines = [legacy_commit("legacy", "events", 0, n) for n in (3, 5, 7)]
    lines += [legacy_commit("gone", "events", 0, 4), legacy_commit("gone", "events", 0, None)]
    (offsets_dir / "groups.jsonl").write_text("".join(line + "\n" for line in lines))
    server = Server(data_dir)
    try:
        assert committed(server, "legacy", "events", 0) == 7
        assert committed(server, "gone", "events", 0) < 0, "the tombstone deleted it"
        assert not offsets_dir.exists(), "the older directory is gone once migrated"
        assert offsets_log_bytes(data_dir) > 0, "the records are in a partition of __consumer_offsets"
    finally:
        server.stop()
    server = Server(data_dir)
    try:
        assert committed(server, "legacy", "events", 0) == 7, "the migrated commit survives the next restart"
    finally:
        server.stop()
