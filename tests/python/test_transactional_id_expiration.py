"""`transactional.id.expiration.ms` with real clients (KIP-98, Kafka's
TransactionStateManager.removeExpiredTransactionalIds): a transactional id confluent-kafka
committed with and then left idle is removed after the expiration (a tombstone in
`__transaction_state`), disappears from `partita transactions list` and DescribeTransactions
(kafka-python's admin: TRANSACTIONAL_ID_NOT_FOUND), does not come back after a restart, and a
producer with that id starts over with a new producer id; an open transaction's id stays."""

import time

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient
from kafka.errors import TransactionalIdNotFoundError

from conftest import Server
from test_transaction_admin import table, transactions

TIMEOUT_S = 30
# Long enough that the committed id is still there when first looked at, short for a test.
EXPIRATION_MS = 8_000
EXPIRY_CONFIG = ("--config", f"transactional.id.expiration.ms={EXPIRATION_MS}",
                 "--config", "transaction.remove.expired.transaction.cleanup.interval.ms=1000")


def txn_producer(bootstrap: str, txn_id: str) -> Producer:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id,
                         "transaction.timeout.ms": 300_000})
    producer.init_transactions(TIMEOUT_S)
    return producer


def listed(bootstrap: str) -> dict[str, tuple[str, str]]:
    """`partita transactions list`: id -> (producer id, state)."""
    rows = table(transactions(bootstrap, "list").stdout)[1:]
    return {row[0]: (row[2], row[3]) for row in rows}


def wait_for(what: str, condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def describe_missing(bootstrap: str, txn_id: str) -> bool:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_S * 1000)
    try:
        admin.describe_transactions([txn_id])
        return False
    except TransactionalIdNotFoundError:
        return True
    finally:
        admin.close()


def test_an_idle_transactional_id_expires_and_stays_gone_after_a_restart(data_dir):
    server = Server(data_dir, *EXPIRY_CONFIG)
    try:
        admin = AdminClient({"bootstrap.servers": server.kafka})
        admin.create_topics([NewTopic("ledger", 1, 1)])["ledger"].result(timeout=TIMEOUT_S)
        done = txn_producer(server.kafka, "ledger-done")
        done.begin_transaction()
        done.produce("ledger", value=b"committed", partition=0)
        done.commit_transaction(TIMEOUT_S)
        opened = txn_producer(server.kafka, "ledger-open")
        opened.begin_transaction()
        opened.produce("ledger", value=b"open", partition=0)
        opened.flush(TIMEOUT_S)

        before = listed(server.kafka)
        assert before["ledger-done"][1] == "CompleteCommit", before
        assert before["ledger-open"][1] == "Ongoing", before
        first_producer_id = before["ledger-done"][0]

        wait_for("ledger-done to expire", lambda: "ledger-done" not in listed(server.kafka))
        assert describe_missing(server.kafka, "ledger-done")
        # An open transaction never expires.
        assert listed(server.kafka)["ledger-open"][1] == "Ongoing"
        missing = transactions(server.kafka, "describe", "--transactional-id", "ledger-done",
                               check=False)
        assert missing.returncode == 1 and "TRANSACTIONAL_ID_NOT_FOUND" in missing.stderr
    finally:
        server.stop()

    # The tombstone is what the restarted coordinator loads last: the id stays gone.
    server = Server(data_dir, *EXPIRY_CONFIG)
    try:
        after = listed(server.kafka)
        assert "ledger-done" not in after, after
        assert after["ledger-open"][1] == "Ongoing", after
        assert describe_missing(server.kafka, "ledger-done")
        # The same id starts over: InitProducerId gives a new producer id at epoch 0.
        again = txn_producer(server.kafka, "ledger-done")
        row = table(transactions(server.kafka, "describe", "--transactional-id",
                                 "ledger-done").stdout)[1]
        assert row[1] == "ledger-done" and row[4] == "Empty", row
        assert row[2] != first_producer_id and row[3] == "0", row
        again.begin_transaction()
        again.produce("ledger", value=b"again", partition=0)
        again.commit_transaction(TIMEOUT_S)
    finally:
        server.stop()
