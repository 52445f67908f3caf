"""ListOffsets answers the leader epoch each record was written in, as Kafka does (its epoch
cache knows it), not the current one: produce 3 records, restart the broker on the same data
directory (a new leader epoch), produce 2 more, then ask with confluent-kafka's list_offsets and
offsets_for_times."""

import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

from conftest import Server

TOPIC = "epochs"


def produce(server, timestamps: list[int]) -> None:
    producer = Producer({"bootstrap.servers": server.kafka, "linger.ms": 0})
    for i, timestamp in enumerate(timestamps):
        producer.produce(TOPIC, value=f"v{i}".encode(), partition=0, timestamp=timestamp)
        assert producer.flush(30) == 0  # one batch per record


def listed(admin, spec):
    tp = TopicPartition(TOPIC, 0)
    return admin.list_offsets({tp: spec})[tp].result(10)


def test_list_offsets_answers_the_epoch_the_record_was_written_in(data_dir):
    base = int(time.time() * 1000) - 60_000
    first = Server(data_dir)
    try:
        admin = AdminClient({"bootstrap.servers": first.kafka})
        admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result(10)
        produce(first, [base, base + 1_000, base + 2_000])
        assert listed(admin, OffsetSpec.latest()).leader_epoch == 0
    finally:
        first.stop()
    server = Server(data_dir)
    try:
        admin = AdminClient({"bootstrap.servers": server.kafka})
        produce(server, [base + 3_000, base + 4_000])
        latest = listed(admin, OffsetSpec.latest())
        current_epoch = latest.leader_epoch
        assert latest.offset == 5
        assert current_epoch is not None and current_epoch > 0, "the restart elected a new epoch"

        earliest = listed(admin, OffsetSpec.earliest())
        assert (earliest.offset, earliest.leader_epoch) == (0, 0)
        by_time = listed(admin, OffsetSpec.for_timestamp(base + 1_000))
        assert (by_time.offset, by_time.timestamp, by_time.leader_epoch) == (1, base + 1_000, 0)
        newer = listed(admin, OffsetSpec.for_timestamp(base + 3_500))
        assert (newer.offset, newer.leader_epoch) == (4, current_epoch)
        newest = listed(admin, OffsetSpec.max_timestamp())
        assert (newest.offset, newest.timestamp, newest.leader_epoch) == \
            (4, base + 4_000, current_epoch)

        # The consumer's offsets_for_times carries the same epoch (for KIP-320 validation).
        consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "epochs"})
        [found] = consumer.offsets_for_times([TopicPartition(TOPIC, 0, base + 1_000)], timeout=10)
        consumer.close()
        assert (found.offset, found.leader_epoch) == (1, 0)
    finally:
        server.stop()
