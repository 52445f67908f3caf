"""Transactions on a real three-node cluster of `partita serve` (issue 16): the transaction
coordinator (the leader of the transactional id's `__transaction_state` partition) sends its
commit and abort markers to partitions led by the other nodes (WriteTxnMarkers between
nodes). confluent-kafka's transactional producer over a topic with one partition led by each
node; read_committed and read_uncommitted consumers."""

import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import NewTopic

from cluster import Cluster

TIMEOUT_S = 30
TOPIC = "spread"
# One partition led by each node: the first replica of each list leads.
ASSIGNMENT = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]


def start(data_dir) -> Cluster:
    cluster = Cluster(data_dir, 3)
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    admin.create_topics([NewTopic(TOPIC, num_partitions=len(ASSIGNMENT), replica_assignment=ASSIGNMENT)])[TOPIC].result(TIMEOUT_S)
    cluster.wait_for("each partition led by its first replica, fully replicated", lambda: all(
        p.leader == ASSIGNMENT[i][0] and sorted(p.isrs) == [1, 2, 3]
        for i, p in cluster.topic(TOPIC).partitions.items()))
    return cluster


def consume_all(bootstrap, isolation, expected=None, idle_s=3.0, group=None):
    """Every value a fresh consumer with `isolation` reads from TOPIC, until `expected` values
    arrived or nothing came for `idle_s` (bounded by TIMEOUT_S)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group or f"g-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": isolation})
    consumer.subscribe([TOPIC])
    values = []
    deadline = time.monotonic() + TIMEOUT_S
    last = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - last < idle_s:
        message = consumer.poll(0.2)
        if message is None or message.error():
            continue
        values.append(message.value().decode())
        last = time.monotonic()
        if expected is not None and len(values) >= expected:
            break
    consumer.close()
    return sorted(values)


def test_a_transaction_over_partitions_led_by_three_nodes_commits_and_an_abort_is_not_seen(data_dir):
    cluster = start(data_dir)
    try:
        bootstrap = cluster.bootstrap()
        producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "spread-app"})
        producer.init_transactions(TIMEOUT_S)

        producer.begin_transaction()
        for i in range(9):
            producer.produce(TOPIC, value=f"committed-{i}".encode(), partition=i % 3)
        # The group's offsets partition is led by whichever node: its marker may go to
        # another node than the coordinator too.
        group = "spread-group"
        offsets = [TopicPartition(TOPIC, p, 3) for p in range(3)]
        metadata = Consumer({"bootstrap.servers": bootstrap, "group.id": group}).consumer_group_metadata()
        producer.send_offsets_to_transaction(offsets, metadata, TIMEOUT_S)
        started = time.monotonic()
        producer.commit_transaction(TIMEOUT_S)
        # Without markers between nodes the commit never completes: the next transaction's
        # AddPartitions gets CONCURRENT_TRANSACTIONS until the client gives up.
        producer.begin_transaction()
        for i in range(6):
            producer.produce(TOPIC, value=f"aborted-{i}".encode(), partition=i % 3)
        producer.flush(TIMEOUT_S)
        producer.abort_transaction(TIMEOUT_S)
        producer.begin_transaction()
        producer.produce(TOPIC, value=b"committed-last", partition=2)
        producer.commit_transaction(TIMEOUT_S)
        assert time.monotonic() - started < TIMEOUT_S

        committed = [f"committed-{i}" for i in range(9)] + ["committed-last"]
        assert consume_all(bootstrap, "read_committed", expected=10) == sorted(committed)
        everything = committed + [f"aborted-{i}" for i in range(6)]
        assert consume_all(bootstrap, "read_uncommitted", expected=16) == sorted(everything)

        # The offsets sent with the committed transaction are the group's.
        reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
        got = reader.committed([TopicPartition(TOPIC, p) for p in range(3)], timeout=TIMEOUT_S)
        reader.close()
        assert {tp.partition: tp.offset for tp in got} == {0: 3, 1: 3, 2: 3}

        # The last stable offset reached the end of each partition (nothing is left open).
        probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe",
                          "isolation.level": "read_committed"})
        for p in range(3):
            low, high = probe.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)
            uncommitted = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe-u",
                                    "isolation.level": "read_uncommitted"})
            _, hw = uncommitted.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)
            uncommitted.close()
            assert high == hw, f"partition {p}: LSO {high}, high watermark {hw}"
        probe.close()
    finally:
        cluster.stop()
