"""`partita groups --reset-offsets` and `--delete`, as kafka-consumer-groups.sh does them, with
confluent-kafka consumers before and after: a dry run changes nothing, --execute moves the
commits a consumer then resumes from, an active group is refused, an empty group is deleted."""

import subprocess

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from clients import consume
from conftest import partita_binary

PER_PARTITION = 10


def committed(server, group: str) -> dict[int, int]:
    """CURRENT-OFFSET by partition, as `partita groups --describe` prints it."""
    out = server.partita("groups", "--describe", "--group", group)
    rows = [line.split() for line in out.splitlines() if line.startswith(group)]
    return {int(r[2]): int(r[3]) for r in rows}


def group_consumer(server, group: str) -> Consumer:
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["events"])
    return consumer


def read_all_and_commit(server, group: str, count: int) -> list:
    consumer = group_consumer(server, group)
    got = consume(consumer, count)
    consumer.commit(asynchronous=False)
    consumer.close()
    return got


def reset(server, *flags: str) -> str:
    return server.partita("groups", "--group", "g", "--reset-offsets", *flags)


def test_reset_offsets_and_delete_a_group(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic("events", 2, 1)])["events"].result(10)
    producer = Producer({"bootstrap.servers": server.kafka})
    for partition in range(2):
        for i in range(PER_PARTITION):
            producer.produce("events", value=f"v{partition}-{i}".encode(), partition=partition)
    assert producer.flush(30) == 0
    assert len(read_all_and_commit(server, "g", 2 * PER_PARTITION)) == 2 * PER_PARTITION
    assert committed(server, "g") == {0: PER_PARTITION, 1: PER_PARTITION}

    dry = reset(server, "--topic", "events", "--to-earliest")
    assert "Dry run" in dry and "NEW-OFFSET" in dry
    assert committed(server, "g") == {0: PER_PARTITION, 1: PER_PARTITION}, "a dry run commits nothing"

    reset(server, "--topic", "events", "--to-earliest", "--execute")
    assert committed(server, "g") == {0: 0, 1: 0}
    assert len(read_all_and_commit(server, "g", 2 * PER_PARTITION)) == 2 * PER_PARTITION, \
        "the group reads everything again"

    reset(server, "--topic", "events:1", "--shift-by", "-3", "--execute")
    assert committed(server, "g") == {0: PER_PARTITION, 1: PER_PARTITION - 3}
    reset(server, "--topic", "events", "--to-offset", "1000", "--execute")
    assert committed(server, "g") == {0: PER_PARTITION, 1: PER_PARTITION}, "clamped to the log end"

    active = group_consumer(server, "g")
    try:
        while not active.assignment():
            active.poll(0.2)
        refused = subprocess.run([str(partita_binary()), "groups", "--bootstrap-server", server.kafka,
                                  "--group", "g", "--reset-offsets", "--topic", "events",
                                  "--to-earliest", "--execute"],
                                 capture_output=True, text=True, timeout=30)
        assert refused.returncode != 0
        assert "inactive" in refused.stderr, refused.stderr
    finally:
        active.close()

    assert "was successful" in server.partita("groups", "--delete", "--group", "g")
    assert "g" not in server.partita("groups", "--list").split()
    # As kafka-consumer-groups.sh: a group the coordinator does not know (here, deleted) is
    # said not to exist, rather than described as a group without members.
    gone = subprocess.run([str(partita_binary()), "groups", "--bootstrap-server", server.kafka,
                           "--describe", "--group", "g"], capture_output=True, text=True, timeout=30)
    assert gone.returncode != 0
    assert "Consumer group 'g' does not exist." in gone.stderr, gone.stderr
