"""The seed article's Python snippets, run against a real `partita serve` with confluent-kafka
(librdkafka), plus what it says about ordering, consumer groups, lag and durability."""

import json
import re
import urllib.request

import pytest
from confluent_kafka import Consumer, TopicPartition

from clients import consume, produce_all
from conftest import Server


def group_rows(server, group):
    """`partita groups --describe` parsed into dicts keyed by its column names."""
    lines = [l for l in server.partita("groups", "--describe", "--group", group).splitlines() if l.strip()]
    header_at = next(i for i, l in enumerate(lines) if l.startswith("GROUP"))
    header = lines[header_at].split()
    assert header == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                      "CONSUMER-ID", "HOST", "CLIENT-ID"]
    return [dict(zip(header, l.split())) for l in lines[header_at + 1:]]


def test_keyed_produce_with_the_seed_settings_keeps_order_in_one_partition(server):
    server.partita("topics", "--create", "--topic", "orders", "--partitions", "3", "--replication-factor", "1")
    producer_config = {
        "bootstrap.servers": server.kafka,
        "acks": "all",
        "retries": 5,
        "retry.backoff.ms": 100,
        "enable.idempotence": True,
        "compression.type": "snappy",
    }
    values = [json.dumps({"id": 1000 + i, "total": 99.99}).encode() for i in range(20)]
    delivered = produce_all(producer_config, [("orders", b"user:42", v) for v in values])
    partitions = {m.partition() for m in delivered}
    assert len(partitions) == 1, "one key, one partition"
    assert [m.offset() for m in delivered] == list(range(20))

    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "order-processor",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["orders"])
    got = consume(consumer, 20, commit_each=True)
    consumer.close()
    assert [m.value() for m in got] == values, "same key: read back in the order written"
    assert all(m.key() == b"user:42" for m in got)


def test_keyless_messages_are_all_delivered(server):
    # Round-robin (no key) = max throughput, no ordering guarantee.
    delivered = produce_all({"bootstrap.servers": server.kafka},
                            [("events", None, b'{"type": "page_view"}') for _ in range(50)])
    assert len(delivered) == 50
    assert "events" in server.partita("topics", "--list").split(), "auto-created on first use"


def test_manual_commits_and_lag_as_kafka_consumer_groups_prints_it(server):
    server.partita("topics", "--create", "--topic", "orders", "--partitions", "3", "--replication-factor", "1")
    produce_all({"bootstrap.servers": server.kafka},
                [("orders", f"user:{i % 7}".encode(), f"order {i}".encode()) for i in range(30)])
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "order-processor",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["orders"])
    got = consume(consumer, 20, commit_each=True)
    assert len(got) == 20
    rows = group_rows(server, "order-processor")
    assert {r["TOPIC"] for r in rows} == {"orders"}
    assert sum(int(r["LOG-END-OFFSET"]) for r in rows) == 30
    assert sum(int(r["CURRENT-OFFSET"]) for r in rows if r["CURRENT-OFFSET"] != "-") == 20
    for r in rows:  # lag is the log end minus the commit; "-" where nothing was committed
        expected = "-" if r["CURRENT-OFFSET"] == "-" else str(int(r["LOG-END-OFFSET"]) - int(r["CURRENT-OFFSET"]))
        assert r["LAG"] == expected, r
    cli_lag = {int(r["PARTITION"]): int(r["LAG"]) for r in rows if r["LAG"] != "-"}
    assert all(r["CONSUMER-ID"] != "-" for r in rows), "an active member owns every partition"

    # Prometheus, under kafka_exporter's name, and the JSON API agree with the CLI.
    metrics = urllib.request.urlopen(server.http + "metrics", timeout=10).read().decode()
    lags = re.findall(r'^kafka_consumergroup_lag\{group="order-processor",topic="orders",partition="(\d+)"\} (\d+)$',
                      metrics, re.M)
    assert {int(p): int(lag) for p, lag in lags} == cli_lag, metrics
    assert re.search(r'^partita_topic_messages_in_total\{topic="orders"\} 30$', metrics, re.M), metrics
    groups = json.loads(urllib.request.urlopen(server.http + "api/groups", timeout=10).read())
    (group,) = [g for g in groups if g["group_id"] == "order-processor"]
    assert group["state"] == "Stable" and len(group["members"]) == 1
    assert {o["partition"]: o["lag"] for o in group["offsets"] if o["lag"] is not None} == cli_lag
    topics = json.loads(urllib.request.urlopen(server.http + "api/topics", timeout=10).read())
    (orders,) = [t for t in topics if t["name"] == "orders"]
    assert sum(p["high_watermark"] for p in orders["partitions"]) == 30
    consumer.close()


def test_uncommitted_messages_are_redelivered_to_the_next_consumer(server):
    # At-least-once: a consumer that processes and does not commit sees the messages again.
    produce_all({"bootstrap.servers": server.kafka}, [("work", None, f"job {i}".encode()) for i in range(10)])
    config = {"bootstrap.servers": server.kafka, "group.id": "workers",
              "auto.offset.reset": "earliest", "enable.auto.commit": False}
    first = Consumer(config)
    first.subscribe(["work"])
    assert len(consume(first, 10)) == 10
    first.close()  # no commit
    second = Consumer(config)
    second.subscribe(["work"])
    assert [m.value() for m in consume(second, 10)] == [f"job {i}".encode() for i in range(10)]
    second.close()


def test_cooperative_sticky_moves_only_the_partitions_that_change_owner(server):
    server.partita("topics", "--create", "--topic", "orders", "--partitions", "6", "--replication-factor", "1")
    revoked = {"a": [], "b": []}
    assigned = {"a": [], "b": []}

    def consumer(name):
        c = Consumer({"bootstrap.servers": server.kafka, "group.id": "order-processor",
                      "partition.assignment.strategy": "cooperative-sticky",
                      "session.timeout.ms": 30000, "heartbeat.interval.ms": 3000,
                      "max.poll.interval.ms": 300000, "auto.offset.reset": "earliest"})
        c.subscribe(["orders"],
                    on_assign=lambda _, ps: assigned[name].extend(p.partition for p in ps),
                    on_revoke=lambda _, ps: revoked[name].extend(p.partition for p in ps))
        return c

    def poll_until(condition, *consumers):
        for _ in range(120):
            for c in consumers:
                c.poll(0.1)
            if condition():
                return
        pytest.fail(f"timed out: assigned={assigned} revoked={revoked}")

    a = consumer("a")
    poll_until(lambda: sorted(assigned["a"]) == list(range(6)), a)
    b = consumer("b")
    poll_until(lambda: len(assigned["b"]) == 3 and len(revoked["a"]) == 3, a, b)
    assert sorted(revoked["a"]) == sorted(assigned["b"]), "only what moved to b was revoked from a"
    b.close()
    poll_until(lambda: len(assigned["a"]) == 9, a)
    assert sorted(assigned["a"][6:]) == sorted(assigned["b"]), "b's partitions come back to a"
    a.close()


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_every_compression_codec_round_trips(server, codec):
    topic = f"compressed-{codec}"
    values = [f"{codec} message {i} ".encode() * 20 for i in range(25)]
    produce_all({"bootstrap.servers": server.kafka, "compression.type": codec, "linger.ms": 50},
                [(topic, b"k", v) for v in values])
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": f"g-{codec}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    assert [m.value() for m in consume(consumer, 25)] == values
    consumer.close()


@pytest.mark.parametrize("mode", [[], ["--durable"]], ids=["page-cache", "durable"])
def test_kill_9_and_restart_keep_acknowledged_messages_and_committed_offsets(data_dir, mode):
    server = Server(data_dir, *mode)
    try:
        server.partita("topics", "--create", "--topic", "orders", "--partitions", "2", "--replication-factor", "1")
        delivered = produce_all({"bootstrap.servers": server.kafka, "acks": "all"},
                                [("orders", f"k{i}".encode(), f"v{i}".encode()) for i in range(40)])
        consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "g",
                             "auto.offset.reset": "earliest", "enable.auto.commit": False})
        consumer.subscribe(["orders"])
        consume(consumer, 15, commit_each=True)
        committed_before = {(p.partition, p.offset) for p in
                            consumer.committed([TopicPartition("orders", 0), TopicPartition("orders", 1)])}
        consumer.close()
    finally:
        server.kill()

    restarted = Server(data_dir, *mode)
    try:
        reader = Consumer({"bootstrap.servers": restarted.kafka, "group.id": "check",
                           "auto.offset.reset": "earliest"})
        reader.subscribe(["orders"])
        read = {(m.partition(), m.offset(), m.value()) for m in consume(reader, 40)}
        reader.close()
        assert {(m.partition(), m.offset(), m.value()) for m in delivered} <= read
        after = Consumer({"bootstrap.servers": restarted.kafka, "group.id": "g"})
        committed_after = {(p.partition, p.offset) for p in
                           after.committed([TopicPartition("orders", 0), TopicPartition("orders", 1)])}
        after.close()
        assert committed_after == committed_before
        assert re.search(r"orders\s+\d", restarted.partita("groups", "--describe", "--group", "g"))
    finally:
        restarted.stop()
