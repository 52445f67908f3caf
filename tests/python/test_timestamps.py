"""Record timestamps as confluent-kafka sees them: a topic with
message.timestamp.type=LogAppendTime gets the broker's clock, in the delivery report, in what
a consumer reads, and in ListOffsets by time; a CreateTime topic keeps the producer's."""

import time

from confluent_kafka import (TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, Consumer,
                             Producer, TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

from clients import consume

PRODUCER_TIMESTAMP_MS = 1_000


def now_ms() -> int:
    return int(time.time() * 1000)


def test_log_append_time_topics_stamp_records_with_the_brokers_clock(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    created = admin.create_topics([
        NewTopic("stamped", 1, 1, config={"message.timestamp.type": "LogAppendTime"}),
        NewTopic("kept", 1, 1),
    ])
    for future in created.values():
        future.result(10)

    before = now_ms()
    producer = Producer({"bootstrap.servers": server.kafka})
    reports = []
    for topic in ("stamped", "kept"):
        producer.produce(topic, value=b"v", timestamp=PRODUCER_TIMESTAMP_MS,
                         on_delivery=lambda err, msg: reports.append((err, msg)))
    assert producer.flush(30) == 0
    after = now_ms()
    assert [err for err, _ in reports] == [None, None]
    delivered = {msg.topic(): msg.timestamp() for _, msg in reports}

    kind, stamped_ms = delivered["stamped"]
    assert kind == TIMESTAMP_LOG_APPEND_TIME
    assert before <= stamped_ms <= after, "the broker's clock, from the produce response"
    assert delivered["kept"] == (TIMESTAMP_CREATE_TIME, PRODUCER_TIMESTAMP_MS)

    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "timestamps",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition("stamped", 0, 0), TopicPartition("kept", 0, 0)])
    read = {msg.topic(): msg.timestamp() for msg in consume(consumer, 2)}
    assert read["stamped"] == (TIMESTAMP_LOG_APPEND_TIME, stamped_ms)
    assert read["kept"] == (TIMESTAMP_CREATE_TIME, PRODUCER_TIMESTAMP_MS)

    # ListOffsets by time: the stamped record is found by its append time.
    found = consumer.offsets_for_times([TopicPartition("stamped", 0, before),
                                        TopicPartition("kept", 0, before)], timeout=10)
    assert found[0].offset == 0
    assert found[1].offset != 0, "the kept record is older than `before`"
    consumer.close()
