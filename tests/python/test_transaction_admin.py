"""The transaction admin APIs (KIP-664) with real clients: kafka-python's KafkaAdminClient
(list_transactions over every broker, describe_transactions at the coordinator,
describe_producers at the leader) and `partita transactions` printing what
kafka-transactions.sh prints, against transactions confluent-kafka's producer left open,
committed and only initialized; on one node and on a three-node cluster, where each broker
lists only the transactional ids it coordinates and the tool asks them all."""

import subprocess
import time

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient, TopicPartition
from kafka.errors import TransactionalIdNotFoundError

from cluster import Cluster
from conftest import partita_binary

TIMEOUT_S = 30
LIST_HEADER = "TransactionalId\tCoordinator\tProducerId\tTransactionState"
DESCRIBE_HEADER = ("CoordinatorId\tTransactionalId\tProducerId\tProducerEpoch\tTransactionState\t"
                   "TransactionTimeoutMs\tCurrentTransactionStartTimeMs\tTransactionDurationMs\t"
                   "TopicPartitions")
PRODUCERS_HEADER = ("ProducerId\tProducerEpoch\tLatestCoordinatorEpoch\tLastSequence\t"
                    "LastTimestamp\tCurrentTransactionStartOffset")


def table(output: str) -> list[list[str]]:
    """kafka-transactions.sh's table: each cell padded and followed by a tab."""
    lines = output.splitlines()
    assert lines and all(line.endswith("\t") for line in lines), repr(output)
    return [[cell.strip() for cell in line.split("\t")[:-1]] for line in lines]


def header(output: str) -> str:
    return "\t".join(table(output)[0])


def transactions(bootstrap: str, *args: str, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(partita_binary()), "transactions", "--bootstrap-server", bootstrap,
                           *args], capture_output=True, text=True, timeout=60)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def txn_producer(bootstrap: str, txn_id: str) -> Producer:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id,
                         "transaction.timeout.ms": 120_000})
    producer.init_transactions(TIMEOUT_S)
    return producer


def open_transaction(producer: Producer, topic: str, partitions: list[int]) -> None:
    producer.begin_transaction()
    for p in partitions:
        producer.produce(topic, value=f"v{p}".encode(), partition=p)
    producer.flush(TIMEOUT_S)


def kafka_admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_S * 1000)


def test_one_node_lists_and_describes_open_committed_and_idle_transactions(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic("pay", 2, 1)])["pay"].result(timeout=TIMEOUT_S)
    before_ms = int(time.time() * 1000)
    opened = txn_producer(server.kafka, "pay-open")
    open_transaction(opened, "pay", [0, 1])
    done = txn_producer(server.kafka, "pay-done")
    open_transaction(done, "pay", [0])
    done.commit_transaction(TIMEOUT_S)
    idle = txn_producer(server.kafka, "pay-idle")

    admin = kafka_admin(server.kafka)
    try:
        listed = admin.list_transactions()
        assert set(listed) == {1}
        states = {t.transactional_id: t.state.value for t in listed[1]}
        assert states == {"pay-open": "Ongoing", "pay-done": "CompleteCommit", "pay-idle": "Empty"}
        ids = {t.transactional_id: t.producer_id for t in listed[1]}

        ongoing = admin.list_transactions(state_filters=["Ongoing"])[1]
        assert [t.transactional_id for t in ongoing] == ["pay-open"]
        by_producer = admin.list_transactions(producer_id_filters=[ids["pay-done"]])[1]
        assert [t.transactional_id for t in by_producer] == ["pay-done"]
        # v1's duration filter keeps transactions open longer than it: an hour keeps none that
        # started, and (as in Kafka) keeps the Empty one, whose start is -1.
        long_running = admin.list_transactions(duration_filter_ms=3_600_000)[1]
        assert [t.transactional_id for t in long_running] == ["pay-idle"]
        assert len(admin.list_transactions(duration_filter_ms=0)[1]) == 3

        described = admin.describe_transactions(["pay-open", "pay-done", "pay-idle"])
        open_txn = described["pay-open"]
        assert open_txn.coordinator_id == 1
        assert open_txn.state.value == "Ongoing"
        assert open_txn.producer_id == ids["pay-open"] and open_txn.producer_epoch == 0
        assert open_txn.transaction_timeout_ms == 120_000
        assert before_ms <= open_txn.transaction_start_time_ms <= int(time.time() * 1000)
        assert open_txn.topic_partitions == {TopicPartition("pay", 0), TopicPartition("pay", 1)}
        assert described["pay-done"].state.value == "CompleteCommit"
        assert described["pay-done"].topic_partitions == set()
        assert described["pay-idle"].transaction_start_time_ms == -1
        with pytest.raises(TransactionalIdNotFoundError):
            admin.describe_transactions(["nobody"])

        producers = admin.describe_producers([TopicPartition("pay", 0)])[TopicPartition("pay", 0)]
        open_start = {p.producer_id: p.current_transaction_start_offset
                      for p in producers.active_producers}
    finally:
        admin.close()

    # The tool: kafka-transactions.sh's subcommands, and the same as flags.
    for args in (["list"], ["--list"]):
        out = transactions(server.kafka, *args).stdout
        assert header(out) == LIST_HEADER
        assert sorted(table(out)[1:]) == sorted([
            ["pay-done", "1", str(ids["pay-done"]), "CompleteCommit"],
            ["pay-idle", "1", str(ids["pay-idle"]), "Empty"],
            ["pay-open", "1", str(ids["pay-open"]), "Ongoing"],
        ])
    out = transactions(server.kafka, "list", "--duration-filter", "3600000").stdout
    assert [row[0] for row in table(out)[1:]] == ["pay-idle"]

    out = transactions(server.kafka, "describe", "--transactional-id", "pay-open").stdout
    assert header(out) == DESCRIBE_HEADER
    [row] = table(out)[1:]
    assert row[:6] == ["1", "pay-open", str(ids["pay-open"]), "0", "Ongoing", "120000"]
    assert int(row[6]) == open_txn.transaction_start_time_ms and int(row[7]) >= 0
    assert row[8] == "pay-0,pay-1"
    out = transactions(server.kafka, "--describe", "--transactional-id", "pay-idle").stdout
    assert table(out)[1][4:9] == ["Empty", "120000", "None", "None", ""]

    missing = transactions(server.kafka, "describe", "--transactional-id", "nobody", check=False)
    assert missing.returncode == 1
    assert "Failed to describe transaction state of transactional-id `nobody`" in missing.stderr
    assert "TRANSACTIONAL_ID_NOT_FOUND" in missing.stderr

    out = transactions(server.kafka, "describe-producers", "--topic", "pay", "--partition", "0").stdout
    assert header(out) == PRODUCERS_HEADER
    rows = {int(row[0]): row for row in table(out)[1:]}
    assert set(rows) == {ids["pay-open"], ids["pay-done"]}
    # The open transaction's first offset on pay-0; the committed one has none.
    assert rows[ids["pay-open"]][5] == str(open_start[ids["pay-open"]]) != "None"
    assert rows[ids["pay-done"]][5] == "None"
    assert rows[ids["pay-open"]][1] == "0"

    # Committing the open one shows in both.
    opened.commit_transaction(TIMEOUT_S)
    out = transactions(server.kafka, "describe", "--transactional-id", "pay-open").stdout
    assert table(out)[1][4] == "CompleteCommit" and table(out)[1][8] == ""
    out = transactions(server.kafka, "--describe-producers", "--topic", "pay", "--partition", "1").stdout
    assert [row[5] for row in table(out)[1:]] == ["None"]

    for args, error in ((["--list", "--describe"], "cannot be used with"),
                        (["--describe", "list"], "one action"),
                        ([], "name an action")):
        bad = transactions(server.kafka, *args, check=False)
        assert bad.returncode != 0 and error in bad.stderr, (args, bad.stderr)
    for producer in (opened, done, idle):
        producer.flush(TIMEOUT_S)


@pytest.fixture
def cluster(data_dir):
    running = Cluster(data_dir, 3)
    yield running
    running.stop()


def test_a_cluster_lists_each_transaction_at_its_coordinator(cluster):
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    admin.create_topics([NewTopic("ledger", 1, 3)])["ledger"].result(timeout=TIMEOUT_S)
    cluster.wait_for("ledger led", lambda: cluster.topic("ledger").partitions[0].leader >= 0)
    ids = [f"ledger-app-{i}" for i in range(10)]
    producers = [txn_producer(cluster.bootstrap(), txn_id) for txn_id in ids]
    # Half the transactions open (records on ledger-0), half only initialized.
    for producer in producers[::2]:
        open_transaction(producer, "ledger", [0])
    expected_state = {txn_id: "Ongoing" if i % 2 == 0 else "Empty" for i, txn_id in enumerate(ids)}

    kadmin = kafka_admin(cluster.bootstrap())
    try:
        described = kadmin.describe_transactions(ids)
        coordinator = {txn_id: d.coordinator_id for txn_id, d in described.items()}
        assert {txn_id: d.state.value for txn_id, d in described.items()} == expected_state
        assert len(set(coordinator.values())) >= 2, f"ids should spread over coordinators: {coordinator}"
        # Each broker lists only the ids it coordinates.
        for node_id in cluster.nodes:
            own = kadmin.list_transactions(broker_ids=[node_id])[node_id]
            assert {t.transactional_id for t in own} == {
                i for i, c in coordinator.items() if c == node_id}, node_id
    finally:
        kadmin.close()

    # The tool through any node asks every broker, and names each id's coordinator.
    expected = sorted([txn_id, str(coordinator[txn_id]), expected_state[txn_id]] for txn_id in ids)
    for node in cluster.nodes.values():
        out = transactions(node.kafka, "list").stdout
        assert header(out) == LIST_HEADER
        assert sorted([row[0], row[1], row[3]] for row in table(out)[1:]) == expected
    # describe through a node that does not coordinate the id finds the coordinator.
    txn_id = ids[0]
    other = next(n for n_id, n in cluster.nodes.items() if n_id != coordinator[txn_id])
    [row] = table(transactions(other.kafka, "describe", "--transactional-id", txn_id).stdout)[1:]
    assert row[:2] == [str(coordinator[txn_id]), txn_id] and row[4] == "Ongoing"
    assert row[8] == "ledger-0"
