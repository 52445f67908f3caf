"""Small helpers over confluent-kafka shared by the tests: produce and wait for every delivery,
consume until a count or a deadline."""

import time

from confluent_kafka import Consumer, Producer

POLL_DEADLINE_S = 30


def produce_all(config: dict, messages: list[tuple[str, bytes | None, bytes]]) -> list:
    """Produces (topic, key, value) messages; returns the delivered messages, asserting none failed."""
    producer = Producer(config)
    delivered, failed = [], []

    def on_delivery(err, msg):
        (failed if err else delivered).append(err or msg)

    for topic, key, value in messages:
        producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    assert producer.flush(POLL_DEADLINE_S) == 0, "undelivered messages"
    assert failed == [], failed
    return delivered


def consume(consumer: Consumer, count: int, commit_each: bool = False) -> list:
    """Polls until `count` messages arrived (or the deadline passes); commits each if asked."""
    got = []
    deadline = time.monotonic() + POLL_DEADLINE_S
    while len(got) < count and time.monotonic() < deadline:
        msg = consumer.poll(timeout=0.5)
        if msg is None:
            continue
        assert msg.error() is None, msg.error()
        got.append(msg)
        if commit_each:
            consumer.commit(msg, asynchronous=False)
    return got
