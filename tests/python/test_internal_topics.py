"""Clients cannot produce to `__consumer_offsets` (Kafka's `ReplicaManager.appendToLocalLog`:
INVALID_TOPIC_EXCEPTION, "Cannot append to internal topic __consumer_offsets"); the group
coordinator still writes there, and Metadata marks the topic internal."""

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from kafka.admin import KafkaAdminClient

OFFSETS_TOPIC = "__consumer_offsets"


def offsets_log_bytes(data_dir) -> int:
    return sum(f.stat().st_size for f in data_dir.glob("__consumer_offsets-*/*.log"))


def commit(server, group: str, offset: int) -> None:
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition("events", 0, offset)], asynchronous=False)
    finally:
        consumer.close()


def committed(server, group: str) -> int:
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": group, "enable.auto.commit": False})
    try:
        [tp] = consumer.committed([TopicPartition("events", 0)], timeout=20)
        return tp.offset
    finally:
        consumer.close()


def test_clients_cannot_produce_to_the_offsets_topic(server, data_dir):
    server.partita("topics", "--create", "--topic", "events", "--partitions", "1", "--replication-factor", "1")
    commit(server, "app", 3)  # creates the offsets topic and writes one record there
    before = offsets_log_bytes(data_dir)
    assert before > 0

    # confluent-kafka (librdkafka): the delivery report carries the broker's error. (kafka-python
    # hides internal topics from its producer's metadata and refuses before sending.)
    reports = []
    producer = Producer({"bootstrap.servers": server.kafka, "acks": "all", "retries": 0})
    for partition in range(3):
        producer.produce(OFFSETS_TOPIC, key=b"k", value=b"forged", partition=partition,
                         on_delivery=lambda err, msg: reports.append(err))
    assert producer.flush(20) == 0
    assert len(reports) == 3
    for err in reports:
        assert err is not None and err.code() == KafkaError.TOPIC_EXCEPTION, err

    assert offsets_log_bytes(data_dir) == before, "nothing was appended"
    # The coordinator's own writes still go.
    commit(server, "app", 7)
    assert offsets_log_bytes(data_dir) > before
    assert committed(server, "app") == 7

    # Metadata marks the offsets topic internal (and only it).
    admin = KafkaAdminClient(bootstrap_servers=server.kafka)
    try:
        topics = {t["name"]: t["is_internal"] for t in admin.describe_topics()}
    finally:
        admin.close()
    assert topics[OFFSETS_TOPIC] is True
    assert topics["events"] is False
