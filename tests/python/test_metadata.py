"""Real clients find the broker: confluent-kafka (librdkafka), kafka-python and kcat."""

import subprocess

from confluent_kafka.admin import AdminClient
from kafka import KafkaConsumer


def test_confluent_kafka_lists_the_broker(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    metadata = admin.list_topics(timeout=10)
    host, port = server.kafka.split(":")
    assert [(b.host, b.port) for b in metadata.brokers.values()] == [(host, int(port))]
    assert metadata.topics == {}


def test_kafka_python_connects_and_sees_no_topics(server):
    consumer = KafkaConsumer(bootstrap_servers=server.kafka, request_timeout_ms=10_000)
    try:
        assert consumer.topics() == set()
    finally:
        consumer.close()


def test_kcat_lists_metadata(server):
    listing = subprocess.run(
        ["kcat", "-b", server.kafka, "-L", "-m", "10"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    assert "1 brokers:" in listing
    assert f"broker 1 at {server.kafka}" in listing
