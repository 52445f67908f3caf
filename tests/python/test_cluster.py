"""Three `partita serve` processes form one cluster: topics replicated three ways, a partition
leader killed with SIGKILL, a new leader elected from the ISR, and every acknowledged record
read back exactly once, in order (issue 14). Every node is a voter of the controller quorum
(Raft, issue 13): the active controller killed with SIGKILL, another is elected."""

import json
import time
import urllib.request

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from clients import produce_all
from cluster import Cluster

PARTITIONS = 6


@pytest.fixture
def cluster(data_dir):
    running = Cluster(data_dir, 3)
    yield running
    running.stop()


def produce_acked(bootstrap: str, topic: str, first: int, count: int) -> dict[int, list[bytes]]:
    """Produces keyed records with acks=all and idempotence; returns, per partition, the values
    acknowledged, in offset order. Every record must be acknowledged."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "message.timeout.ms": 60000})
    acked: dict[int, list[tuple[int, bytes]]] = {}
    failed = []

    def on_delivery(err, msg):
        if err:
            failed.append(err)
        else:
            acked.setdefault(msg.partition(), []).append((msg.offset(), msg.value()))

    for i in range(first, first + count):
        producer.produce(topic, key=f"key-{i % 17}".encode(), value=f"record-{i}".encode(),
                         on_delivery=on_delivery)
        producer.poll(0)
    assert producer.flush(90) == 0, "undelivered records"
    assert failed == [], failed
    return {p: [v for _, v in sorted(rows)] for p, rows in acked.items()}


def read_all(bootstrap: str, topic: str, expected: int) -> dict[int, list[bytes]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "cluster-check",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    got: dict[int, list[bytes]] = {}
    deadline = time.monotonic() + 60
    total = 0
    while total < expected and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        got.setdefault(msg.partition(), []).append(msg.value())
        total += 1
    # Anything beyond the acknowledged records would show up here too.
    end = time.monotonic() + 2
    while time.monotonic() < end:
        msg = consumer.poll(0.2)
        if msg is not None and not msg.error():
            got.setdefault(msg.partition(), []).append(msg.value())
    consumer.close()
    return got


def fully_replicated(cluster, topic):
    meta = cluster.topic(topic)
    if meta.error is not None or len(meta.partitions) != PARTITIONS:
        return None
    return all(len(p.replicas) == 3 and sorted(p.isrs) == [1, 2, 3] for p in meta.partitions.values()) and meta


def test_three_nodes_replicate_and_survive_a_leader_killed(cluster):
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)

    # `partita topics --create`, as the seed's commands say, through a node that is not the
    # controller: the tool finds the controller in Metadata.
    cluster.nodes[2].partita("topics", "--create", "--topic", "orders", "--partitions", str(PARTITIONS),
                             "--replication-factor", "3", "--config", "min.insync.replicas=2")
    # And confluent-kafka's AdminClient, which sends CreateTopics to the controller it finds.
    futures = admin.create_topics([NewTopic("payments", PARTITIONS, 3, config={"min.insync.replicas": "2"})])
    futures["payments"].result(30)

    meta = cluster.wait_for("every partition with three replicas in the ISR",
                            lambda: fully_replicated(cluster, "orders"))
    cluster.wait_for("payments replicated", lambda: fully_replicated(cluster, "payments"))
    leaders = {p.leader for p in meta.partitions.values()}
    assert leaders == {1, 2, 3}, f"leaders spread over the brokers: {leaders}"
    described = cluster.nodes[3].partita("topics", "--describe", "--topic", "orders")
    assert "ReplicationFactor: 3" in described and "min.insync.replicas=2" in described
    rows = [l for l in described.splitlines() if "Partition:" in l]
    assert len(rows) == PARTITIONS and all("Replicas:" in r and len(r.split("Isr: ")[1].split(",")) == 3 for r in rows)
    assert cluster.nodes[3].partita("topics", "--describe", "--under-replicated-partitions") == ""

    before = produce_acked(cluster.bootstrap(), "orders", 0, 600)

    # SIGKILL a broker that leads some partitions (the controller quorum keeps a majority).
    victim = 2
    led = [i for i, p in meta.partitions.items() if p.leader == victim]
    assert led
    cluster.nodes[victim].kill()

    def re_elected():
        now = cluster.topic("orders")
        moved = all(now.partitions[i].leader in (1, 3) for i in led)
        isr_ok = all(victim not in p.isrs and len(p.isrs) == 2 for p in now.partitions.values())
        return moved and isr_ok and now

    after_kill = cluster.wait_for("new leaders from the ISR after the broker was fenced", re_elected)
    under = cluster.nodes[1].partita("topics", "--describe", "--topic", "orders", "--under-replicated-partitions")
    assert len(under.splitlines()) == PARTITIONS, "every partition lost a replica"
    assert cluster.nodes[1].partita("topics", "--describe", "--unavailable-partitions") == ""
    # Seen from HTTP on any node: the whole cluster, the dead broker fenced; metrics under the
    # JMX exporter's names.
    # The active controller is whichever live voter the quorum elected.
    seen = get_json(cluster.nodes[3], "api/cluster")
    active = seen["controller_id"]
    assert active in (1, 3), seen
    assert {b["id"]: b["fenced"] for b in seen["brokers"]} == {1: False, 2: True, 3: False}
    metrics = {node_id: scrape(cluster.nodes[node_id]) for node_id in (1, 3)}
    for node_id in (1, 3):
        assert metrics[node_id]["kafka_controller_kafkacontroller_activecontrollercount"] == (node_id == active)
    assert metrics[active]["kafka_controller_kafkacontroller_offlinepartitionscount"] == 0
    every = cluster.admin().list_topics(timeout=5).topics.values()  # orders and payments
    led_now = {n: sum(1 for t in every for p in t.partitions.values() if p.leader == n) for n in (1, 3)}
    for node_id in (1, 3):
        assert metrics[node_id]["kafka_server_replicamanager_underreplicatedpartitions"] == led_now[node_id]
    for i in led:
        assert after_kill.partitions[i].leader in meta.partitions[i].isrs

    after = produce_acked(cluster.bootstrap(), "orders", 600, 400)

    expected = {p: before.get(p, []) + after.get(p, []) for p in range(PARTITIONS)}
    total = sum(len(v) for v in expected.values())
    assert total == 1000
    got = read_all(cluster.bootstrap(), "orders", total)
    for p in range(PARTITIONS):
        assert got.get(p, []) == expected[p], f"partition {p}: every acknowledged record once, in order"


def all_in_isr(cluster, topic):
    meta = cluster.topic(topic)
    return all(sorted(p.isrs) == [1, 2, 3] for p in meta.partitions.values()) and meta


def get_json(node, path: str):
    with urllib.request.urlopen(f"{node.http}{path}", timeout=5) as answer:
        return json.load(answer)


def scrape(node) -> dict[str, float]:
    """The unlabelled samples of `node`'s /metrics."""
    with urllib.request.urlopen(f"{node.http}metrics", timeout=5) as answer:
        lines = answer.read().decode().splitlines()
    return {l.split()[0]: float(l.split()[1]) for l in lines if l and not l.startswith("#") and "{" not in l}


def log_end_offsets(node, topic: str) -> dict[int, int]:
    """Each partition's log end offset in `node`'s own copy, from its HTTP API."""
    topics = get_json(node, "api/topics")
    [found] = [t for t in topics if t["name"] == topic]
    return {p["partition"]: p["log_end_offset"] for p in found["partitions"]}


def test_a_killed_node_restarts_catches_up_and_rejoins_every_isr(cluster):
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    admin.create_topics([NewTopic("orders", PARTITIONS, 3, config={"min.insync.replicas": "2"})])["orders"].result(30)
    cluster.wait_for("replicated", lambda: fully_replicated(cluster, "orders"))
    first = produce_acked(cluster.bootstrap(), "orders", 0, 300)

    cluster.nodes[2].kill()
    cluster.wait_for("node 2 out of every ISR",
                     lambda: all(2 not in p.isrs for p in cluster.topic("orders").partitions.values()))
    # Written while node 2 is down: it must fetch these when it is back.
    second = produce_acked(cluster.bootstrap(), "orders", 300, 300)

    cluster.start(2)
    cluster.wait_for("node 2 back in every ISR", lambda: all_in_isr(cluster, "orders"))
    third = produce_acked(cluster.bootstrap(), "orders", 600, 100)

    expected = {p: first.get(p, []) + second.get(p, []) + third.get(p, []) for p in range(PARTITIONS)}
    counts = {p: len(v) for p, v in expected.items()}
    # Every replica's own copy is whole, the restarted one's too.
    for node_id in (1, 2, 3):
        cluster.wait_for(f"node {node_id} holding every record",
                         lambda: log_end_offsets(cluster.nodes[node_id], "orders") == counts)
    got = read_all(cluster.bootstrap(), "orders", sum(counts.values()))
    for p in range(PARTITIONS):
        assert got.get(p, []) == expected[p], f"partition {p}"


def test_an_isr_of_one_refuses_acks_all_until_a_replica_returns(cluster):
    # Two of three nodes down would leave the controller quorum without a majority (as in
    # KRaft: no ISR change at all), so the ISR shrinks to one on a topic of two replicas, nodes
    # 1 and 2, with node 2 killed; nodes 1 and 3 keep the quorum.
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    # kafka-python's admin: confluent-kafka 2.16 refuses any replica assignment locally.
    from kafka.admin import KafkaAdminClient, NewTopic as KafkaPythonTopic
    kp = KafkaAdminClient(bootstrap_servers=cluster.bootstrap().split(","))
    kp.create_topics([KafkaPythonTopic("orders", -1, -1, replica_assignments={p: [1, 2] for p in range(PARTITIONS)},
                                       topic_configs={"min.insync.replicas": "2"})])
    kp.close()
    cluster.wait_for("replicated", lambda: all(
        sorted(p.isrs) == [1, 2] for p in cluster.topic("orders").partitions.values()))

    cluster.nodes[2].kill()
    # Asked of node 1 itself: another node may apply the shrunk ISR before the leader does.
    leader_admin = AdminClient({"bootstrap.servers": cluster.nodes[1].kafka})
    cluster.wait_for("node 1 leading everything alone", lambda: all(
        p.leader == 1 and p.isrs == [1]
        for p in leader_admin.list_topics(topic="orders", timeout=5).topics["orders"].partitions.values()))

    strict = Producer({"bootstrap.servers": cluster.bootstrap(), "acks": "all", "message.timeout.ms": 5000,
                       "retries": 0})
    errors = []
    strict.produce("orders", value=b"refused", partition=0, on_delivery=lambda err, msg: errors.append(err))
    strict.flush(15)
    # NOT_ENOUGH_REPLICAS before the append; NOT_ENOUGH_REPLICAS_AFTER_APPEND if the leader
    # learnt of the shrink while the request waited (Kafka answers the same in that race).
    assert [e.code() for e in errors] in ([KafkaError.NOT_ENOUGH_REPLICAS],
                                          [KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND]), errors

    loose = produce_all({"bootstrap.servers": cluster.bootstrap(), "acks": 1},
                        [("orders", None, b"acks=1") for _ in range(10)])
    assert len(loose) == 10

    cluster.start(2)
    cluster.wait_for("node 2 back in the ISRs",
                     lambda: all(sorted(p.isrs) == [1, 2] for p in cluster.topic("orders").partitions.values()))
    assert len(produce_acked(cluster.bootstrap(), "orders", 0, 50)) > 0


def test_a_peer_sending_garbage_is_disconnected_and_the_node_goes_on(cluster):
    import socket
    import struct
    voters = dict(v.split("@") for v in cluster.voters.split(","))
    host, port = voters["1"].split(":")

    def closed_after(payload: bytes) -> bool:
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(payload)
            try:
                return s.recv(1) == b""  # the node closes; it never writes on this connection
            except ConnectionResetError:
                return True

    hello = lambda node_id: struct.pack(">IB4sHi", 11, 0, b"PRTA", 1, node_id)
    assert closed_after(b"GET / HTTP/1.1\r\n\r\n"), "not a hello"
    assert closed_after(hello(9)), "a node not in controller.quorum.voters"
    assert closed_after(struct.pack(">I", 2**31)), "a length over the frame limit"
    assert closed_after(hello(2) + struct.pack(">IB", 3, 1) + b"{x"), "a malformed envelope"
    # A Fetch whose topics count claims more than the frame holds: refused by the guard.
    fetch = (b"\x02" + struct.pack(">hhih", 1, 12, 0, -1) + b"\x00"
             + struct.pack(">iiiibii", 2, 0, 0, 0, 0, 0, -1) + b"\xff\xff\xff\x7f")
    assert closed_after(hello(2) + struct.pack(">I", len(fetch)) + fetch)
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)


def test_a_topic_auto_created_through_a_broker_is_forwarded_to_the_controller(cluster):
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    # Node 3 is not the controller: it forwards the creation (CreateTopics) and the producer
    # retries until the topic is there. The idempotent producer's id block comes from the
    # controller too (AllocateProducerIds).
    delivered = produce_all({"bootstrap.servers": cluster.nodes[3].kafka, "enable.idempotence": True,
                             "acks": "all"}, [("clicks", None, b"click") for _ in range(20)])
    assert len(delivered) == 20
    assert "clicks" in cluster.nodes[1].partita("topics", "--list").split()


def test_kcat_and_kafka_python_produce_and_consume_against_three_nodes(cluster):
    import subprocess

    from kafka import KafkaConsumer, KafkaProducer

    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    admin.create_topics([NewTopic("orders", PARTITIONS, 3, config={"min.insync.replicas": "2"})])["orders"].result(30)
    cluster.wait_for("replicated", lambda: fully_replicated(cluster, "orders"))
    bootstrap = cluster.bootstrap()

    listing = subprocess.run(["kcat", "-b", bootstrap, "-L", "-t", "orders"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
    assert "3 brokers" in listing and listing.count("isrs: ") == PARTITIONS
    subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", "orders", "-K", "|", "-X", "acks=all"],
                   input="".join(f"k{i}|kcat-{i}\n" for i in range(30)), text=True, timeout=30, check=True)

    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    for i in range(30):
        producer.send("orders", key=f"k{i}".encode(), value=f"kafka-python-{i}".encode()).get(timeout=30)
    producer.close()

    consumer = KafkaConsumer("orders", bootstrap_servers=bootstrap.split(","), auto_offset_reset="earliest",
                             consumer_timeout_ms=10000, group_id=None)
    values = sorted(m.value.decode() for m in consumer)
    consumer.close()
    assert values == sorted([f"kcat-{i}" for i in range(30)] + [f"kafka-python-{i}" for i in range(30)])
    out = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", "orders", "-e", "-f", "%s\n"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert sorted(out.split()) == values


def test_an_idempotent_producer_goes_on_while_a_leader_is_killed_mid_stream(cluster):
    import threading

    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    admin.create_topics([NewTopic("orders", PARTITIONS, 3, config={"min.insync.replicas": "2"})])["orders"].result(30)
    meta = cluster.wait_for("replicated", lambda: fully_replicated(cluster, "orders"))
    assert any(p.leader == 3 for p in meta.partitions.values())

    total = 4000
    acked: dict[int, list[tuple[int, bytes]]] = {}
    failed = []
    progress = threading.Event()

    def on_delivery(err, msg):
        if err:
            failed.append(err)
            return
        acked.setdefault(msg.partition(), []).append((msg.offset(), msg.value()))
        if sum(len(v) for v in acked.values()) >= total // 4:
            progress.set()

    producer = Producer({"bootstrap.servers": cluster.bootstrap(), "acks": "all", "enable.idempotence": True,
                         "linger.ms": 2, "message.timeout.ms": 60000})

    def produce():
        for i in range(total):
            producer.produce("orders", key=f"key-{i % 31}".encode(), value=f"{i % 31}:{i}".encode(),
                             on_delivery=on_delivery)
            producer.poll(0)
            time.sleep(0.001)
        producer.flush(90)

    writer = threading.Thread(target=produce)
    writer.start()
    assert progress.wait(60), "a quarter acknowledged before the kill"
    cluster.nodes[3].kill()  # SIGKILL while records are in flight
    writer.join(120)
    assert not writer.is_alive()
    assert failed == [], failed[:5]
    assert sum(len(v) for v in acked.values()) == total, "every record acknowledged"

    expected = {p: [v for _, v in sorted(rows)] for p, rows in acked.items()}
    got = read_all(cluster.bootstrap(), "orders", total)
    for p in range(PARTITIONS):
        assert got.get(p, []) == expected.get(p, []), f"partition {p}: once each, in offset order"
    # Per key, in the order produced.
    for p, values in got.items():
        by_key: dict[str, list[int]] = {}
        for v in values:
            key, i = v.decode().split(":")
            by_key.setdefault(key, []).append(int(i))
        assert all(seq == sorted(seq) for seq in by_key.values()), f"partition {p}: per-key order"


def test_the_whole_cluster_stopped_and_started_again_keeps_every_record(cluster):
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    admin.create_topics([NewTopic("orders", PARTITIONS, 3, config={"min.insync.replicas": "2"})])["orders"].result(30)
    cluster.wait_for("replicated", lambda: fully_replicated(cluster, "orders"))
    before = produce_acked(cluster.bootstrap(), "orders", 0, 300)

    cluster.stop()  # SIGTERM to each
    for node_id in (1, 2, 3):
        cluster.start(node_id)
    cluster.wait_for("every replica back in the ISR", lambda: all_in_isr(cluster, "orders"))
    after = produce_acked(cluster.bootstrap(), "orders", 300, 100)
    expected = {p: before.get(p, []) + after.get(p, []) for p in range(PARTITIONS)}
    got = read_all(cluster.bootstrap(), "orders", 400)
    for p in range(PARTITIONS):
        assert got.get(p, []) == expected[p], f"partition {p}"


def active_controller(cluster) -> int:
    """The active controller as a live node's DescribeCluster answers it."""
    admin = cluster.admin()  # kept alive until the answer came
    return admin.describe_cluster(request_timeout=5).result(10).controller.id


def test_the_active_controller_killed_another_is_elected_and_nothing_acknowledged_is_lost(cluster):
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    admin.create_topics([NewTopic("orders", PARTITIONS, 3, config={"min.insync.replicas": "2"})])["orders"].result(30)
    cluster.wait_for("replicated", lambda: fully_replicated(cluster, "orders"))
    before = produce_acked(cluster.bootstrap(), "orders", 0, 300)

    old = cluster.wait_for("an active controller", lambda: active_controller(cluster))
    cluster.nodes[old].kill()  # SIGKILL
    new = cluster.wait_for("another controller elected",
                           lambda: (c := active_controller(cluster)) not in (old, None, -1) and c)
    assert new != old

    # The new controller serves metadata writes: a topic created, its leaders assigned.
    admin = cluster.admin()
    admin.create_topics([NewTopic("after-failover", 3, 2)])["after-failover"].result(30)
    cluster.wait_for("the new topic with live leaders", lambda: (t := cluster.topic("after-failover")).error is None
                     and len(t.partitions) == 3 and all(p.leader not in (old, -1) for p in t.partitions.values()))
    # And ISR changes: the dead node leaves every ISR of orders.
    cluster.wait_for(f"node {old} out of every ISR",
                     lambda: all(old not in p.isrs and p.leader != old
                                 for p in cluster.topic("orders").partitions.values()))
    after = produce_acked(cluster.bootstrap(), "orders", 300, 100)

    expected = {p: before.get(p, []) + after.get(p, []) for p in range(PARTITIONS)}
    got = read_all(cluster.bootstrap(), "orders", sum(len(v) for v in expected.values()))
    for p in range(PARTITIONS):
        assert got.get(p, []) == expected[p], f"partition {p}"

    # The old controller returns as a follower of the quorum and a broker again.
    cluster.start(old)
    cluster.wait_for(f"node {old} back in every ISR", lambda: all_in_isr(cluster, "orders"))
