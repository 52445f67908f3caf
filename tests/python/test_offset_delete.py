"""OffsetDelete (KIP-496) with kafka-python's delete_group_offsets (confluent-kafka 2.16 does
not expose librdkafka's DeleteConsumerGroupOffsets) and with
`partita groups --delete-offsets` (kafka-consumer-groups.sh's output): offsets of an empty
group go, a topic a member is subscribed to is refused (GROUP_SUBSCRIBED_TO_TOPIC) while
another topic of the same group is not, an unknown group is GROUP_ID_NOT_FOUND, and the
deletion survives a restart."""

import subprocess

import kafka
import kafka.errors
import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from clients import produce_all
from conftest import Server, partita_binary


def commit(server, group: str, offsets: list[TopicPartition]) -> None:
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": group})
    try:
        for tp in consumer.commit(offsets=offsets, asynchronous=False):
            assert tp.error is None, tp.error
    finally:
        consumer.close()


def committed(admin, group: str, partitions: list[TopicPartition]) -> dict[tuple[str, int], int]:
    request = ConsumerGroupTopicPartitions(group, partitions)
    result = admin.list_consumer_group_offsets([request])[group].result(10)
    return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions}


def delete(server, group: str, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], type]:
    """kafka-python's OffsetDelete: each partition's error class (NoError when deleted)."""
    admin = kafka.KafkaAdminClient(bootstrap_servers=server.kafka)
    try:
        results = admin.delete_group_offsets(group, [kafka.TopicPartition(t, p) for t, p in partitions])
    finally:
        admin.close()
    return {(tp.topic, tp.partition): error for tp, error in results.items()}


ALL = [TopicPartition("events", 0), TopicPartition("events", 1), TopicPartition("other", 0)]


def test_delete_offsets_of_a_group(data_dir):
    server = Server(data_dir)
    try:
        admin = AdminClient({"bootstrap.servers": server.kafka})
        for f in admin.create_topics([NewTopic("events", 2, 1), NewTopic("other", 1, 1)]).values():
            f.result(10)
        commit(server, "g", [TopicPartition(tp.topic, tp.partition, 5) for tp in ALL])

        assert delete(server, "g", [("events", 0), ("no-such-topic", 0)]) == {
            ("events", 0): kafka.errors.NoError,
            ("no-such-topic", 0): kafka.errors.UnknownTopicOrPartitionError,
        }
        assert committed(admin, "g", ALL) == {("events", 0): -1001, ("events", 1): 5, ("other", 0): 5}

        # A member subscribed to "other": its offsets stay, those of "events" may go.
        produce_all({"bootstrap.servers": server.kafka}, [("other", None, b"x")])
        member = Consumer({"bootstrap.servers": server.kafka, "group.id": "g",
                           "auto.offset.reset": "earliest", "enable.auto.commit": False})
        member.subscribe(["other"])
        try:
            for _ in range(150):  # bounded: 30 s
                if member.assignment():
                    break
                member.poll(0.2)
            assert member.assignment(), "the member got its partition"
            assert delete(server, "g", [("other", 0), ("events", 1)]) == {
                ("other", 0): kafka.errors.GroupSubscribedToTopicError,
                ("events", 1): kafka.errors.NoError,
            }
            out = subprocess.run([str(partita_binary()), "groups", "--bootstrap-server", server.kafka,
                                  "--delete-offsets", "--group", "g", "--topic", "other"],
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode == 1
            assert "Encounter some partition level error" in out.stderr
            assert "GroupSubscribedToTopicException" in out.stdout
        finally:
            member.close()
        assert committed(admin, "g", ALL) == {("events", 0): -1001, ("events", 1): -1001, ("other", 0): 5}

        with pytest.raises(kafka.errors.GroupIdNotFoundError):
            delete(server, "no-such-group", [("events", 0)])

        # kafka-consumer-groups.sh's output, for a whole topic.
        out = server.partita("groups", "--delete-offsets", "--group", "g", "--topic", "other")
        lines = out.splitlines()
        assert lines[0] == "Request succeed for deleting offsets with topic other group g"
        assert lines[2].split() == ["TOPIC", "PARTITION", "STATUS"]
        assert lines[3].split() == ["other", "0", "Successful"]
        assert committed(admin, "g", ALL)[("other", 0)] == -1001
    finally:
        server.stop()

    restarted = Server(data_dir)
    try:
        admin = AdminClient({"bootstrap.servers": restarted.kafka})
        assert set(committed(admin, "g", ALL).values()) == {-1001}, "tombstones survive a restart"
    finally:
        restarted.stop()
