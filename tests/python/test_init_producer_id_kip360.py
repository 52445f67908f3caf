"""InitProducerId with a producer id and epoch (v3+, KIP-360) on the wire, as Kafka's
TransactionCoordinator.handleInitProducerId answers it: kafka-python's own InitProducerId
request classes against a transactional id confluent-kafka initialized. The current id and
epoch get the same id with the epoch bumped; a retry with the epoch just before a bump it
asked for (its answer lost) gets the current epoch again; any older epoch is fenced
(PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH before, KIP-588). An idempotent producer
(no transactional id) always gets a new producer id at epoch 0, whatever it sends."""

from confluent_kafka import Producer
from kafka import KafkaAdminClient
from kafka.protocol.producer.transaction import InitProducerIdRequest

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
