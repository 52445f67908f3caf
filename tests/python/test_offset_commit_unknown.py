"""OffsetCommit for a topic or partition that does not exist answers UNKNOWN_TOPIC_OR_PARTITION
for that partition and stores nothing, as Kafka does (its API layer checks the metadata before
the group coordinator sees the commit); partitions that exist in the same commit are stored."""

import time

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def commit(server, offsets: list[TopicPartition]) -> dict[tuple[str, int], int]:
    """Commits as a client outside the group; returns each partition's error code (0: none),
    as librdkafka's commit callback reports them."""
    reported = []
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "g",
                         "on_commit": lambda err, partitions: reported.append(partitions)})
    try:
        consumer.commit(offsets=offsets, asynchronous=True)
        deadline = time.monotonic() + 30
        while not reported and time.monotonic() < deadline:
            consumer.poll(0.1)
    finally:
        consumer.close()
    assert reported, "no commit result within 30 s"
    return {(tp.topic, tp.partition): (tp.error.code() if tp.error else 0) for tp in reported[0]}


def committed(admin, partitions: list[TopicPartition]) -> dict[tuple[str, int], int]:
    request = ConsumerGroupTopicPartitions("g", partitions)
    result = admin.list_consumer_group_offsets([request])["g"].result(10)
    return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions}


def test_commits_for_missing_topics_and_partitions_are_refused(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    assert commit(server, [TopicPartition("no-such-topic", 0, 1)]) == \
        {("no-such-topic", 0): KafkaError.UNKNOWN_TOPIC_OR_PART}
    assert committed(admin, [TopicPartition("no-such-topic", 0)]) == {("no-such-topic", 0): -1001}, \
        "nothing stored"
    assert "g" not in [g.group_id for g in admin.list_consumer_groups().result(10).valid], \
        "a commit of nothing but unknown partitions creates no group"

    admin.create_topics([NewTopic("events", 1, 1)])["events"].result(10)
    # librdkafka reports a partial failure on every partition of the commit, so what was
    # stored is read back instead.
    assert commit(server, [TopicPartition("events", 0, 3), TopicPartition("events", 5, 3)])[
        ("events", 5)] == KafkaError.UNKNOWN_TOPIC_OR_PART
    assert committed(admin, [TopicPartition("events", 0), TopicPartition("events", 5)]) == \
        {("events", 0): 3, ("events", 5): -1001}, "the partition that exists is stored"
