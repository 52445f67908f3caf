"""Transactions and read_committed (KIP-98) with real clients against `partita serve`:
confluent-kafka's transactional producer (commit, abort, send_offsets_to_transaction,
fencing, the timeout check) and kafka-python's, with read_committed and read_uncommitted
consumers."""

import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT_S = 30


def create_topic(server, name, partitions=2):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=TIMEOUT_S)


def txn_producer(server, txn_id, **extra):
    config = {"bootstrap.servers": server.kafka, "transactional.id": txn_id}
    config.update(extra)
    return Producer(config)


def consume_all(server, topic, isolation, expected=None, idle_s=3.0):
    """Every value a fresh consumer with `isolation` reads from `topic`, until `expected`
    values arrived or nothing came for `idle_s` (bounded by TIMEOUT_S)."""
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": f"g-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": isolation})
    consumer.subscribe([topic])
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


def test_committed_records_are_read_and_aborted_ones_dropped(server):
    create_topic(server, "txn-out")
    producer = txn_producer(server, "txn-app")
    producer.init_transactions(TIMEOUT_S)
    producer.begin_transaction()
    for i in range(6):
        producer.produce("txn-out", value=f"committed-{i}".encode(), partition=i % 2)
    producer.commit_transaction(TIMEOUT_S)
    producer.begin_transaction()
    for i in range(4):
        producer.produce("txn-out", value=f"aborted-{i}".encode(), partition=i % 2)
    producer.flush(TIMEOUT_S)
    producer.abort_transaction(TIMEOUT_S)
    producer.begin_transaction()
    producer.produce("txn-out", value=b"committed-last", partition=0)
    producer.commit_transaction(TIMEOUT_S)

    committed = [f"committed-{i}" for i in range(6)] + ["committed-last"]
    assert consume_all(server, "txn-out", "read_committed", expected=7) == sorted(committed)
    everything = committed + [f"aborted-{i}" for i in range(4)]
    assert consume_all(server, "txn-out", "read_uncommitted", expected=11) == sorted(everything)


def test_an_open_transaction_is_invisible_to_read_committed_until_it_commits(server):
    create_topic(server, "txn-open", partitions=1)
    producer = txn_producer(server, "txn-open-app")
    producer.init_transactions(TIMEOUT_S)
    producer.begin_transaction()
    producer.produce("txn-open", value=b"pending")
    producer.flush(TIMEOUT_S)
    assert consume_all(server, "txn-open", "read_committed", idle_s=2.0) == []
    assert consume_all(server, "txn-open", "read_uncommitted", expected=1) == ["pending"]
    # The LSO holds read_committed's latest offset at the open transaction.
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "lso",
                         "isolation.level": "read_committed"})
    low, high = consumer.get_watermark_offsets(TopicPartition("txn-open", 0), timeout=TIMEOUT_S)
    consumer.close()
    assert (low, high) == (0, 0)
    producer.commit_transaction(TIMEOUT_S)
    assert consume_all(server, "txn-open", "read_committed", expected=1) == ["pending"]


def test_a_second_instance_fences_the_first(server):
    create_topic(server, "txn-fence", partitions=1)
    first = txn_producer(server, "txn-zombie")
    first.init_transactions(TIMEOUT_S)
    first.begin_transaction()
    first.produce("txn-fence", value=b"zombie")
    first.flush(TIMEOUT_S)
    second = txn_producer(server, "txn-zombie")
    second.init_transactions(TIMEOUT_S)
    with pytest.raises(KafkaException) as failed:
        first.commit_transaction(TIMEOUT_S)
    assert failed.value.args[0].fatal() or failed.value.args[0].txn_requires_abort()
    second.begin_transaction()
    second.produce("txn-fence", value=b"survivor")
    second.commit_transaction(TIMEOUT_S)
    assert consume_all(server, "txn-fence", "read_committed", expected=1) == ["survivor"]


def test_a_transaction_past_its_timeout_is_aborted_and_the_lso_moves_on(server):
    create_topic(server, "txn-stuck", partitions=1)
    stuck = txn_producer(server, "txn-stuck-app", **{"transaction.timeout.ms": 2_000})
    stuck.init_transactions(TIMEOUT_S)
    stuck.begin_transaction()
    stuck.produce("txn-stuck", value=b"never-committed")
    stuck.flush(TIMEOUT_S)
    # The stuck producer goes silent; another one commits after it.
    other = txn_producer(server, "txn-other-app")
    other.init_transactions(TIMEOUT_S)
    other.begin_transaction()
    other.produce("txn-stuck", value=b"after")
    other.commit_transaction(TIMEOUT_S)
    # Once the coordinator aborts the stuck transaction (2 s), "after" becomes readable.
    assert consume_all(server, "txn-stuck", "read_committed", expected=1, idle_s=8.0) == ["after"]
    assert consume_all(server, "txn-stuck", "read_uncommitted", expected=2) == ["after", "never-committed"]


def test_a_timeout_above_the_maximum_is_refused_at_once(server):
    producer = txn_producer(server, "txn-long", **{"transaction.timeout.ms": 900_001})
    started = time.monotonic()
    with pytest.raises(KafkaException) as failed:
        producer.init_transactions(TIMEOUT_S)
    assert failed.value.args[0].code() == KafkaError.INVALID_TRANSACTION_TIMEOUT
    assert time.monotonic() - started < 10


def test_consume_transform_produce_commits_offsets_with_the_output(server):
    create_topic(server, "ctp-in", partitions=1)
    create_topic(server, "ctp-out", partitions=1)
    plain = Producer({"bootstrap.servers": server.kafka})
    for i in range(5):
        plain.produce("ctp-in", value=f"in-{i}".encode())
    plain.flush(TIMEOUT_S)

    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "ctp",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    consumer.subscribe(["ctp-in"])
    producer = txn_producer(server, "ctp-app")
    producer.init_transactions(TIMEOUT_S)
    seen = 0
    deadline = time.monotonic() + TIMEOUT_S
    while seen < 5 and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        producer.begin_transaction()
        producer.produce("ctp-out", value=message.value().replace(b"in", b"out"))
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()), consumer.consumer_group_metadata(),
            TIMEOUT_S)
        producer.commit_transaction(TIMEOUT_S)
        seen += 1
    consumer.close()
    assert seen == 5
    assert consume_all(server, "ctp-out", "read_committed", expected=5) == [f"out-{i}" for i in range(5)]
    check = Consumer({"bootstrap.servers": server.kafka, "group.id": "ctp"})
    committed = check.committed([TopicPartition("ctp-in", 0)], timeout=TIMEOUT_S)
    check.close()
    assert committed[0].offset == 5


def test_kafka_python_transactions(server):
    from kafka import KafkaConsumer, KafkaProducer
    create_topic(server, "py-txn", partitions=1)
    producer = KafkaProducer(bootstrap_servers=server.kafka, transactional_id="py-txn-app")
    producer.init_transactions()
    producer.begin_transaction()
    producer.send("py-txn", b"kept")
    producer.commit_transaction()
    producer.begin_transaction()
    producer.send("py-txn", b"dropped")
    producer.flush()
    producer.abort_transaction()
    producer.close()
    consumer = KafkaConsumer("py-txn", bootstrap_servers=server.kafka, group_id="py-txn-reader",
                             auto_offset_reset="earliest", isolation_level="read_committed",
                             consumer_timeout_ms=5_000)
    values = [m.value for m in consumer]
    consumer.close()
    assert values == [b"kept"]


def test_a_restarted_node_aborts_an_open_transaction_after_its_timeout(data_dir):
    """The transaction's state is in `__transaction_state`: a node killed with a transaction
    open and started again loads it and aborts it when its timeout passes, so the LSO moves
    on (before, the restarted coordinator forgot it and the partition's LSO stayed put)."""
    from conftest import Server
    first = Server(data_dir)
    try:
        create_topic(first, "txn-restart", partitions=1)
        stuck = txn_producer(first, "txn-restart-app", **{"transaction.timeout.ms": 4_000})
        stuck.init_transactions(TIMEOUT_S)
        stuck.begin_transaction()
        stuck.produce("txn-restart", value=b"never-committed")
        stuck.flush(TIMEOUT_S)
    finally:
        first.kill()
    second = Server(data_dir)
    try:
        other = txn_producer(second, "txn-restart-other")
        other.init_transactions(TIMEOUT_S)
        other.begin_transaction()
        other.produce("txn-restart", value=b"after")
        other.commit_transaction(TIMEOUT_S)
        assert consume_all(second, "txn-restart", "read_committed", expected=1, idle_s=10.0) == ["after"]
        # The same transactional.id starts again and commits.
        again = txn_producer(second, "txn-restart-app")
        again.init_transactions(TIMEOUT_S)
        again.begin_transaction()
        again.produce("txn-restart", value=b"again")
        again.commit_transaction(TIMEOUT_S)
        assert consume_all(second, "txn-restart", "read_committed", expected=2) == ["after", "again"]
    finally:
        second.stop()
