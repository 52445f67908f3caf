"""kcat (librdkafka's console client) with `-X isolation.level=read_committed` against a
transactional topic: it reads the committed transactions' records and none of an aborted
one's, and stops at the last stable offset while a transaction is still open (`-e` ends at
the end of what read_committed may see); read_uncommitted reads them all. (librdkafka's own
default is read_committed, so the test names both levels.)
The transactions are written by confluent-kafka's transactional producer."""

import subprocess

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT_S = 30


def kcat(server, *args):
    done = subprocess.run(["kcat", "-b", server.kafka, *args], capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return done.stdout


def transaction(producer, topic, values, commit):
    producer.begin_transaction()
    for i, value in enumerate(values):
        producer.produce(topic, value=value.encode(), partition=i % 2)
    producer.flush(TIMEOUT_S)
    if commit:
        producer.commit_transaction(TIMEOUT_S)
    else:
        producer.abort_transaction(TIMEOUT_S)


def consumed(server, topic, *isolation):
    """(partition, offset, value) of every record kcat reads to the end of each partition."""
    out = kcat(server, "-C", "-t", topic, "-e", "-f", "%p %o %s\n", *isolation)
    rows = [line.split(" ", 2) for line in out.splitlines()]
    return sorted((int(p), int(o), v) for p, o, v in rows)


def test_kcat_read_committed_sees_committed_records_only(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic("ledger", 2, 1)])["ledger"].result(timeout=TIMEOUT_S)
    producer = Producer({"bootstrap.servers": server.kafka, "transactional.id": "kcat-ledger"})
    producer.init_transactions(TIMEOUT_S)
    first = [f"committed-a{i}" for i in range(6)]
    aborted = [f"aborted-{i}" for i in range(4)]
    second = [f"committed-b{i}" for i in range(4)]
    transaction(producer, "ledger", first, commit=True)
    transaction(producer, "ledger", aborted, commit=False)
    transaction(producer, "ledger", second, commit=True)

    read_committed = ["-X", "isolation.level=read_committed"]
    read_uncommitted = ["-X", "isolation.level=read_uncommitted"]
    committed = consumed(server, "ledger", *read_committed)
    assert sorted(v for _, _, v in committed) == sorted(first + second)
    everything = consumed(server, "ledger", *read_uncommitted)
    assert sorted(v for _, _, v in everything) == sorted(first + aborted + second)
    # Commit and abort markers take offsets too: each partition's offsets skip them (3 records
    # of the first transaction, its marker at 3, 2 aborted at 4-5, a marker at 6, then 7-8).
    assert [o for p, o, _ in committed if p == 0] == [0, 1, 2, 7, 8]

    # An open transaction: read_committed stops at its first offset (the last stable offset),
    # so a later committed one on the same partition stays hidden until it ends.
    pending = Producer({"bootstrap.servers": server.kafka, "transactional.id": "kcat-pending"})
    pending.init_transactions(TIMEOUT_S)
    pending.begin_transaction()
    pending.produce("ledger", value=b"open-0", partition=0)
    pending.flush(TIMEOUT_S)
    transaction(producer, "ledger", ["committed-c0"], commit=True)
    assert sorted(v for _, _, v in consumed(server, "ledger", *read_committed)) == sorted(first + second)
    assert {"open-0", "committed-c0"} <= {v for _, _, v in consumed(server, "ledger", *read_uncommitted)}
    pending.commit_transaction(TIMEOUT_S)
    values = sorted(v for _, _, v in consumed(server, "ledger", *read_committed))
    assert values == sorted(first + second + ["open-0", "committed-c0"])
