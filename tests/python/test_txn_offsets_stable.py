"""Transactional offsets and stable offset fetches (KIP-447) with confluent-kafka against
`partita serve`:

- a transactional producer sends offsets for a group that has live members without member
  information (generation -1, no member id: what Java's `sendOffsetsToTransaction(offsets,
  groupId)` sends, and librdkafka from a consumer that never joined), and Kafka accepts it;
- while that transaction is open, a read_committed consumer (which asks OffsetFetch with
  `require_stable`) gets no offset (UNSTABLE_OFFSET_COMMIT, retried until its timeout), a
  read_uncommitted one gets the last committed offset; once committed, both see it."""

import time
import uuid

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT_S = 30


def consumer(server, group, **extra):
    config = {"bootstrap.servers": server.kafka, "group.id": group,
              "enable.auto.commit": False, "auto.offset.reset": "earliest"}
    config.update(extra)
    return Consumer(config)


def committed_offset(c, tp, timeout):
    """The committed offset `c` is told for `tp`, or None if it is not told one in time."""
    try:
        return c.committed([tp], timeout=timeout)[0].offset
    except KafkaException:
        return None


def test_offsets_without_member_information_commit_for_a_live_group_and_are_unstable_until_then(server):
    topic, group = "stable-in", f"live-{uuid.uuid4()}"
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=TIMEOUT_S)
    tp = TopicPartition(topic, 0)

    # A live group: one member with its assignment.
    member = consumer(server, group)
    member.subscribe([topic])
    deadline = time.monotonic() + TIMEOUT_S
    while not member.assignment() and time.monotonic() < deadline:
        member.poll(0.2)
    assert member.assignment(), "the member was never assigned"
    member.commit(offsets=[TopicPartition(topic, 0, 1)], asynchronous=False)

    # Offsets sent by someone who is not a member (generation -1, no member id).
    outsider = consumer(server, group)
    metadata = outsider.consumer_group_metadata()
    producer = Producer({"bootstrap.servers": server.kafka, "transactional.id": f"t-{group}"})
    producer.init_transactions(TIMEOUT_S)
    producer.begin_transaction()
    producer.send_offsets_to_transaction([TopicPartition(topic, 0, 3)], metadata, TIMEOUT_S)

    stable = consumer(server, group, **{"isolation.level": "read_committed"})
    plain = consumer(server, group, **{"isolation.level": "read_uncommitted"})
    assert committed_offset(stable, tp, timeout=3) is None, "pending: not stable yet"
    assert committed_offset(plain, tp, timeout=TIMEOUT_S) == 1

    producer.commit_transaction(TIMEOUT_S)
    assert committed_offset(stable, tp, timeout=TIMEOUT_S) == 3
    assert committed_offset(plain, tp, timeout=TIMEOUT_S) == 3
    for c in (member, outsider, stable, plain):
        c.close()
