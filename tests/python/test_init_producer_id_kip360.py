"""InitProducerId with a producer id and epoch (v3+, KIP-360) on the wire, as Kafka's
TransactionCoordinator.handleInitProducerId answers it: kafka-python's own InitProducerId
request classes against a transactional id confluent-kafka initialized. The current id and
epoch get the same id with the epoch bumped; a retry with the epoch just before a bump it
asked for (its answer lost) gets the current epoch again; any older epoch is fenced
(PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH before, KIP-588). An idempotent producer
(no transactional id) always gets a new producer id at epoch 0, whatever it sends. And
librdkafka's own KIP-360 path: a message timed out in flight is an abortable error that
needs an epoch bump, which it asks for with its id and epoch after aborting."""

import os
import signal
import time

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient
from kafka.protocol.producer.transaction import InitProducerIdRequest

from test_transaction_admin import table, transactions

PRODUCER_FENCED = 90
INVALID_PRODUCER_EPOCH = 47
TIMEOUT_S = 30


def init_producer_id(admin: KafkaAdminClient, version: int, transactional_id, producer_id: int,
                     producer_epoch: int):
    request = InitProducerIdRequest(transactional_id=transactional_id,
                                    transaction_timeout_ms=60_000, producer_id=producer_id,
                                    producer_epoch=producer_epoch, version=version)
    # One node: it is the transaction coordinator of every id.
    response = admin._manager.run(admin._manager.send, request, 1)
    return response.error_code, response.producer_id, response.producer_epoch


def test_init_producer_id_with_the_current_epoch_bumps_it_and_a_stale_one_is_fenced(server):
    producer = Producer({"bootstrap.servers": server.kafka, "transactional.id": "kip360"})
    producer.init_transactions(TIMEOUT_S)
    admin = KafkaAdminClient(bootstrap_servers=server.kafka, request_timeout_ms=TIMEOUT_S * 1000)
    try:
        # A new instance (-1/-1) bumps the epoch of what confluent-kafka initialized.
        error, pid, epoch = init_producer_id(admin, 4, "kip360", -1, -1)
        assert error == 0 and epoch >= 1, (error, pid, epoch)
        assert init_producer_id(admin, 4, "kip360", pid, epoch) == (0, pid, epoch + 1)
        # The same request again (its answer was lost): the current epoch, not bumped.
        assert init_producer_id(admin, 4, "kip360", pid, epoch) == (0, pid, epoch + 1)
        assert init_producer_id(admin, 5, "kip360", pid, epoch + 1) == (0, pid, epoch + 2)
        # Older epochs are fenced, as each version understands it.
        assert init_producer_id(admin, 4, "kip360", pid, epoch) == (PRODUCER_FENCED, -1, -1)
        assert init_producer_id(admin, 3, "kip360", pid, epoch) == (INVALID_PRODUCER_EPOCH, -1, -1)
        # Another producer id is fenced too.
        assert init_producer_id(admin, 4, "kip360", pid + 1000, 0)[0] == PRODUCER_FENCED
        assert init_producer_id(admin, 4, "kip360", pid, epoch + 2) == (0, pid, epoch + 3)

        # Idempotent: a new producer id at epoch 0, the one sent is not bumped.
        error, fresh, fresh_epoch = init_producer_id(admin, 4, None, pid, epoch + 3)
        assert (error, fresh_epoch) == (0, 0) and fresh not in (pid, -1)
    finally:
        admin.close()


def described(bootstrap: str, txn_id: str) -> list[str]:
    """`partita transactions describe`'s row: ..., ProducerId, ProducerEpoch, State, ..."""
    return table(transactions(bootstrap, "describe", "--transactional-id", txn_id).stdout)[1]


def test_confluent_kafka_bumps_its_epoch_after_a_message_timed_out_in_flight(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic("bumped", 1, 1)])["bumped"].result(timeout=TIMEOUT_S)
    producer = Producer({"bootstrap.servers": server.kafka, "transactional.id": "bumper",
                         "message.timeout.ms": 2000, "request.timeout.ms": 1000,
                         "transaction.timeout.ms": 60_000})
    producer.init_transactions(TIMEOUT_S)
    pid, epoch = described(server.kafka, "bumper")[2:4]
    producer.begin_transaction()
    producer.produce("bumped", b"aborted-1", partition=0)
    producer.flush(TIMEOUT_S)
    failures = []
    # The broker stops answering (this test's own server, by pid): the next message times
    # out in flight, which librdkafka can only recover from with a new epoch.
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        producer.produce("bumped", b"aborted-2", partition=0,
                         on_delivery=lambda err, _msg: failures.append(err))
        deadline = time.monotonic() + 60
        while not failures and time.monotonic() < deadline:
            producer.poll(0.2)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert failures and failures[0] is not None, "the message timed out"
    with pytest.raises(KafkaException) as failed:
        producer.commit_transaction(TIMEOUT_S)
    assert failed.value.args[0].txn_requires_abort(), failed.value
    # abort_transaction: EndTxn(abort), then InitProducerId with the id and epoch (KIP-360).
    producer.abort_transaction(TIMEOUT_S)
    # The same producer id, the epoch bumped, nothing open.
    assert described(server.kafka, "bumper")[2:5] == [pid, str(int(epoch) + 1), "Empty"]
    # The same producer goes on with the bumped epoch.
    producer.begin_transaction()
    producer.produce("bumped", b"committed", partition=0)
    producer.commit_transaction(TIMEOUT_S)
    assert described(server.kafka, "bumper")[2:5] == [pid, str(int(epoch) + 1), "CompleteCommit"]
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "kip360-reader",
                         "isolation.level": "read_committed", "auto.offset.reset": "earliest"})
    try:
        consumer.subscribe(["bumped"])
        seen = []
        deadline = time.monotonic() + TIMEOUT_S
        while b"committed" not in seen and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                seen.append(message.value())
        assert seen == [b"committed"], seen
    finally:
        consumer.close()
