"""Transactions on a real three-node cluster of `partita serve` (issue 16): the transaction
coordinator (the leader of the transactional id's `__transaction_state` partition) sends its
commit and abort markers to partitions led by the other nodes (WriteTxnMarkers between
nodes). confluent-kafka's transactional producer over a topic with one partition led by each
node; read_committed and read_uncommitted consumers."""

import time
import uuid

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
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
    # `__consumer_offsets` is created by the first FindCoordinator, as in Kafka. librdkafka's
    # send_offsets_to_transaction gives up looking for the group's coordinator after a few
    # COORDINATOR_NOT_AVAILABLE answers while the topic is being created, and the transaction
    # then stalls until its timeout aborts it (and its late TxnOffsetCommit is fenced). So the
    # topic is made, and its partitions led, before any transaction.
    try:  # its FindCoordinator creates the topic, whatever it answers
        admin.describe_consumer_groups(["warm-up"])["warm-up"].result(TIMEOUT_S)
    except KafkaException:
        pass
    cluster.wait_for("__consumer_offsets led everywhere", lambda: (
        "__consumer_offsets" in admin.list_topics(timeout=5).topics and all(
            p.leader >= 0 for p in cluster.topic("__consumer_offsets").partitions.values())))
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


TXN_STATE_PARTITIONS = 50


def transaction_coordinator(cluster: Cluster, transactional_id: str) -> int:
    """The leader of the transactional id's `__transaction_state` partition
    (`abs(hashCode) % 50`, as Kafka's `TransactionStateManager.partitionFor`)."""
    from test_coordinator_failover import java_hash
    h = java_hash(transactional_id)
    partition = (0 if h == -(1 << 31) else abs(h)) % TXN_STATE_PARTITIONS
    topic = cluster.wait_for("the transaction state topic", lambda: (
        (t := cluster.topic("__transaction_state")) and len(t.partitions) == TXN_STATE_PARTITIONS and t))
    return topic.partitions[partition].leader


def test_an_open_transaction_is_aborted_by_the_next_coordinator_when_its_node_is_killed(data_dir):
    """The node coordinating a transaction is SIGKILLed mid-transaction: the partition's new
    leader loads the Ongoing transaction from `__transaction_state` and aborts it after its
    timeout, so the LSO moves on; a new producer with the same transactional.id commits."""
    cluster = start(data_dir)
    try:
        bootstrap = cluster.bootstrap()
        txn_id = "failover-app"
        zombie = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id,
                           "transaction.timeout.ms": 6000})
        zombie.init_transactions(TIMEOUT_S)
        zombie.begin_transaction()
        for i in range(6):
            zombie.produce(TOPIC, value=f"open-{i}".encode(), partition=i % 3)
        zombie.flush(TIMEOUT_S)
        coordinator = transaction_coordinator(cluster, txn_id)
        # Every record of the open transaction is replicated: the survivors have it.
        cluster.wait_for("the open records replicated", lambda: all(
            sorted(p.isrs) == [1, 2, 3] for p in cluster.topic(TOPIC).partitions.values()))
        cluster.nodes[coordinator].kill()
        survivors = [n for n in cluster.nodes if n != coordinator]
        bootstrap = ",".join(cluster.nodes[n].kafka for n in survivors)

        # Another application commits meanwhile, on every partition.
        other = Producer({"bootstrap.servers": bootstrap, "transactional.id": "other-app"})
        other.init_transactions(TIMEOUT_S * 2)
        other.begin_transaction()
        for p in range(3):
            other.produce(TOPIC, value=f"other-{p}".encode(), partition=p)
        other.commit_transaction(TIMEOUT_S * 2)

        # The open transaction is aborted by the new coordinator once its 6 s pass: the
        # other application's records become readable (they sit above the open ones).
        assert consume_all(bootstrap, "read_committed", expected=3, idle_s=15.0) == sorted(
            f"other-{p}" for p in range(3))

        # A new instance with the same transactional.id starts and commits.
        successor = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id})
        successor.init_transactions(TIMEOUT_S * 2)
        successor.begin_transaction()
        successor.produce(TOPIC, value=b"successor", partition=0)
        successor.commit_transaction(TIMEOUT_S)
        seen = consume_all(bootstrap, "read_committed", expected=4, idle_s=5.0)
        assert seen == sorted([f"other-{p}" for p in range(3)] + ["successor"])
        assert transaction_coordinator(cluster, txn_id) in survivors
    finally:
        cluster.stop()


def test_a_commit_completes_on_the_next_coordinator_when_its_node_is_killed(data_dir):
    """The coordinator's node is SIGKILLed right after commit_transaction returned (its
    PrepareCommit is in `__transaction_state`; some markers may not be written yet): the
    new coordinator completes the commit, every committed record is read under
    read_committed, and a new producer with the same transactional.id commits."""
    cluster = start(data_dir)
    try:
        bootstrap = cluster.bootstrap()
        txn_id = "commit-failover-app"
        producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id})
        producer.init_transactions(TIMEOUT_S)
        coordinator = transaction_coordinator(cluster, txn_id)
        producer.begin_transaction()
        for i in range(9):
            producer.produce(TOPIC, value=f"committed-{i}".encode(), partition=i % 3)
        producer.commit_transaction(TIMEOUT_S)
        cluster.nodes[coordinator].kill()
        survivors = [n for n in cluster.nodes if n != coordinator]
        bootstrap = ",".join(cluster.nodes[n].kafka for n in survivors)

        assert consume_all(bootstrap, "read_committed", expected=9, idle_s=15.0) == sorted(
            f"committed-{i}" for i in range(9))
        successor = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id})
        successor.init_transactions(TIMEOUT_S * 2)
        successor.begin_transaction()
        successor.produce(TOPIC, value=b"after", partition=1)
        successor.commit_transaction(TIMEOUT_S)
        seen = consume_all(bootstrap, "read_committed", expected=10, idle_s=5.0)
        assert seen == sorted([f"committed-{i}" for i in range(9)] + ["after"])
    finally:
        cluster.stop()


def test_transactional_offsets_survive_their_group_coordinator_being_killed_before_the_commit(data_dir):
    """KIP-98's pending transactional offsets live in `__consumer_offsets`: the group's
    coordinator is SIGKILLed between send_offsets_to_transaction and commit_transaction; the
    new leader of the group's offsets partition rebuilds them from its replica, the commit
    marker makes them the group's offsets, and a new member of the group reads them."""
    from test_coordinator_failover import offsets_partition
    cluster = start(data_dir)
    try:
        bootstrap = cluster.bootstrap()
        group = "ctp-failover-group"
        # The group's offsets partition exists once a member asked for its coordinator.
        asker = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
        cluster.wait_for("the group's coordinator", lambda: asker.committed(
            [TopicPartition(TOPIC, 0)], timeout=5) is not None)
        asker.close()
        offsets_topic = cluster.wait_for("the offsets topic", lambda: (
            (t := cluster.topic("__consumer_offsets")) and len(t.partitions) == 50 and t))
        group_coordinator = offsets_topic.partitions[offsets_partition(group)].leader
        # A transactional id coordinated by another node, so that the transaction outlives
        # the group coordinator.
        for i in range(100):
            txn_id = f"ctp-failover-{i}"
            producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id})
            producer.init_transactions(TIMEOUT_S)
            if transaction_coordinator(cluster, txn_id) != group_coordinator:
                break
        producer.begin_transaction()
        for i in range(3):
            producer.produce(TOPIC, value=f"ctp-{i}".encode(), partition=i)
        metadata = Consumer({"bootstrap.servers": bootstrap, "group.id": group}).consumer_group_metadata()
        sent = [TopicPartition(TOPIC, p, 5 + p) for p in range(3)]
        producer.send_offsets_to_transaction(sent, metadata, TIMEOUT_S)
        producer.flush(TIMEOUT_S)

        cluster.nodes[group_coordinator].kill()
        survivors = [n for n in cluster.nodes if n != group_coordinator]
        bootstrap = ",".join(cluster.nodes[n].kafka for n in survivors)
        producer.commit_transaction(TIMEOUT_S * 2)

        reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                           "isolation.level": "read_committed"})
        got = cluster.wait_for("the committed offsets on the new coordinator", lambda: (
            (c := reader.committed([TopicPartition(TOPIC, p) for p in range(3)], timeout=5))
            and all(tp.offset >= 0 for tp in c) and c), timeout_s=60)
        reader.close()
        assert {tp.partition: tp.offset for tp in got} == {0: 5, 1: 6, 2: 7}
        assert consume_all(bootstrap, "read_committed", expected=3, idle_s=5.0) == sorted(
            f"ctp-{i}" for i in range(3))
    finally:
        cluster.stop()
