"""A consumer group outlives the node coordinating it (issue 14): `__consumer_offsets` is a
partitioned topic replicated three ways, the group's coordinator is the leader of partition
`abs(hash(group.id)) % 50`, and when that node is killed with SIGKILL the partition's new leader
loads the group from its replica. confluent-kafka consumers with manual commits: the member goes
on through the failover, and a new member afterwards starts exactly at the committed offsets."""

import time

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from clients import produce_all
from cluster import Cluster

GROUP = "failover-group"
TOPIC = "events"
PARTITIONS = 3
RECORDS = 600
OFFSETS_PARTITIONS = 50


def java_hash(text: str) -> int:
    """Java's String.hashCode over UTF-16 code units, as a signed 32-bit int."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (h * 31 + int.from_bytes(data[i:i + 2], "big")) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def offsets_partition(group: str) -> int:
    h = java_hash(group)
    return (0 if h == -(1 << 31) else abs(h)) % OFFSETS_PARTITIONS


def describe_offsets_topic(cluster: Cluster) -> str:
    """`partita configs --describe` of the offsets topic, from the active controller (the one
    node that answers DescribeConfigs for topics)."""
    errors = []
    for node in cluster.nodes.values():
        try:
            return node.partita("configs", "--describe", "--entity-type", "topics",
                                "--entity-name", "__consumer_offsets")
        except AssertionError as e:
            errors.append(e)
    raise AssertionError(errors)


def consume(consumer: Consumer, seen: list, commits: dict, count: int, timeout_s: float = 90) -> None:
    """Polls `count` records, committing each synchronously (a failed commit is retried with the
    next record: the group may be between coordinators)."""
    deadline = time.monotonic() + timeout_s
    want = len(seen) + count
    while len(seen) < want and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        seen.append((msg.partition(), msg.offset()))
        commit(consumer, commits, msg.partition(), msg.offset() + 1, retry_s=0)
    assert len(seen) >= want, f"consumed {len(seen)} of {want}"


def commit(consumer: Consumer, commits: dict, partition: int, offset: int, retry_s: float) -> bool:
    """Commits `offset` of `partition` (with every position still uncommitted); retries for
    `retry_s`. Records what was acknowledged in `commits`."""
    pending = dict(commits.get("pending", {}))
    pending[partition] = offset
    commits["pending"] = pending
    deadline = time.monotonic() + retry_s
    while True:
        try:
            consumer.commit(offsets=[TopicPartition(TOPIC, p, o) for p, o in pending.items()],
                            asynchronous=False)
            commits.setdefault("acked", {}).update(pending)
            commits["pending"] = {}
            return True
        except KafkaException:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.3)


def test_a_group_moves_with_the_leader_of_its_offsets_partition(data_dir):
    cluster = Cluster(data_dir, 3)
    try:
        admin = cluster.admin()
        cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
        admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3)])[TOPIC].result(30)
        cluster.wait_for("events replicated", lambda: all(
            sorted(p.isrs) == [1, 2, 3] for p in cluster.topic(TOPIC).partitions.values()))
        produce_all({"bootstrap.servers": cluster.bootstrap(), "acks": "all"},
                    [(TOPIC, f"key-{i % 11}".encode(), f"record-{i}".encode()) for i in range(RECORDS)])

        conf = {"bootstrap.servers": cluster.bootstrap(), "group.id": GROUP, "enable.auto.commit": False,
                "auto.offset.reset": "earliest", "session.timeout.ms": 30000}
        first = Consumer(conf)
        first.subscribe([TOPIC])
        seen: list = []
        commits: dict = {}
        consume(first, seen, commits, RECORDS // 3)

        # The offsets topic: 50 partitions, three replicas each, compacted; the coordinator is
        # the leader of the group's partition.
        offsets = cluster.wait_for("the offsets topic replicated", lambda: (
            (t := cluster.topic("__consumer_offsets")) and len(t.partitions) == OFFSETS_PARTITIONS
            and all(len(p.replicas) == 3 and len(p.isrs) == 3 for p in t.partitions.values()) and t))
        partition = offsets_partition(GROUP)
        coordinator = admin.describe_consumer_groups([GROUP])[GROUP].result(10).coordinator.id
        assert coordinator == offsets.partitions[partition].leader
        # Asked until a node answers as the active controller (the tool may first ask a voter
        # whose pointer to the controller is stale).
        described = cluster.wait_for("the offsets topic's configs", lambda: describe_offsets_topic(cluster))
        assert "cleanup.policy=compact" in described, described

        cluster.nodes[coordinator].kill()
        survivors = [n for n in cluster.nodes if n != coordinator]

        # The member goes on: its commits reach the new coordinator, which loaded the group.
        consume(first, seen, commits, RECORDS // 3)
        last_partition, last_offset = seen[-1]
        assert commit(first, commits, last_partition, last_offset + 1, retry_s=60), "no commit after the failover"
        moved = cluster.wait_for("a new leader of the group's offsets partition", lambda: (
            (p := cluster.topic("__consumer_offsets").partitions[partition]).leader in survivors and p))
        survivors_admin = cluster.admin()  # kept: its futures fail once it is destroyed
        now_coordinator = survivors_admin.describe_consumer_groups([GROUP], request_timeout=30)[GROUP].result(40).coordinator.id
        assert now_coordinator == moved.leader and now_coordinator != coordinator
        acked = dict(commits["acked"])
        first.close()

        # A new member resumes exactly where the group committed: nothing skipped, nothing read
        # twice below the committed offsets.
        bootstrap = ",".join(cluster.nodes[n].kafka for n in survivors)
        second = Consumer({**conf, "bootstrap.servers": bootstrap})
        second.subscribe([TOPIC])
        resumed: list = []
        deadline = time.monotonic() + 90
        while len(set(seen) | set(resumed)) < RECORDS and time.monotonic() < deadline:
            msg = second.poll(0.5)
            if msg is not None and not msg.error():
                resumed.append((msg.partition(), msg.offset()))
        end = time.monotonic() + 2
        while time.monotonic() < end:
            msg = second.poll(0.2)
            if msg is not None and not msg.error():
                resumed.append((msg.partition(), msg.offset()))
        committed = second.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=20)
        second.close()

        for p in range(PARTITIONS):
            firsts = [o for q, o in resumed if q == p]
            if firsts:
                assert min(firsts) == acked.get(p, 0), f"partition {p} resumed at {min(firsts)}, committed {acked.get(p)}"
        assert len(resumed) == len(set(resumed)), "the new member read a record twice"
        assert not set(resumed) & {(p, o) for p, o in seen if o < acked.get(p, 0)}, "a committed record was read again"
        total = set(seen) | set(resumed)
        assert len(total) == RECORDS, f"{RECORDS - len(total)} records skipped"
        # The new coordinator answers the committed offsets as the first member left them (a
        # partition it never read has none).
        assert {tp.partition: tp.offset for tp in committed if tp.offset >= 0} == acked, committed
    finally:
        cluster.stop()
