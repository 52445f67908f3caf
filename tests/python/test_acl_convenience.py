"""`partita acls --producer` and `--consumer` as kafka-acls.sh's (Kafka's `AclCommand`): the
ACLs a producer needs (Write, Describe, Create on the topics; Write, Describe on a
transactional id) and a consumer needs (Read, Describe on the topics; Read on the group), each
proved by a real client (confluent-kafka) refused before the grant and served after it, and
refused again after `--remove`."""

import subprocess

from confluent_kafka import KafkaError, KafkaException, Producer

from clients import produce_all
from conftest import partita_binary
from test_acls import (DEADLINE_S, acls, conf, consume_as, create_topics, first_consumer_error,
                       produce_errors, secured)  # noqa: F401 (secured: a fixture)


def transactional_commit(bootstrap: str, user: str, topic: str, transactional_id: str) -> None:
    """Produces one message in a transaction as `user` and commits it (raises on refusal)."""
    producer = Producer({**conf(bootstrap, user), "transactional.id": transactional_id,
                         "message.timeout.ms": 10000})
    producer.init_transactions(DEADLINE_S)
    producer.begin_transaction()
    producer.produce(topic, value=f"{transactional_id}-committed".encode())
    producer.commit_transaction(DEADLINE_S)


def test_producer_grants_what_a_producer_needs(secured):
    create_topics(secured.kafka, "ledger")
    errors = produce_errors(secured.kafka, "alice", "ledger")
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED], errors

    out = acls(secured.kafka, "--add", "--producer", "--allow-principal", "User:alice",
               "--topic", "ledger")
    heading = ("Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=ledger, "
               "patternType=LITERAL)`: \n")
    assert heading in out, out
    for operation in ("WRITE", "CREATE", "DESCRIBE"):
        assert (f"(principal=User:alice, host=*, operation={operation}, "
                "permissionType=ALLOW)") in out, out
    assert "operation=READ" not in out
    assert produce_errors(secured.kafka, "alice", "ledger", 2) == [None, None]

    # A transactional id needs its own grant: Write (and Describe) on it.
    try:
        transactional_commit(secured.kafka, "alice", "ledger", "ledger-tx")
        raise AssertionError("a transaction without Write on its transactional id")
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, e
    out = acls(secured.kafka, "--add", "--producer", "--allow-principal", "User:alice",
               "--topic", "ledger", "--transactional-id", "ledger-tx")
    assert ("Adding ACLs for resource `ResourcePattern(resourceType=TRANSACTIONAL_ID, "
            "name=ledger-tx, patternType=LITERAL)`: \n \t(principal=User:alice, host=*, "
            "operation=WRITE, permissionType=ALLOW)\n\t(principal=User:alice, host=*, "
            "operation=DESCRIBE, permissionType=ALLOW) \n") in out, out
    transactional_commit(secured.kafka, "alice", "ledger", "ledger-tx")

    # Producing is not consuming.
    error = first_consumer_error(secured.kafka, "alice", "ledger", "ledger-readers")
    assert error.code() in (KafkaError.GROUP_AUTHORIZATION_FAILED,
                            KafkaError.TOPIC_AUTHORIZATION_FAILED), error

    acls(secured.kafka, "--remove", "--force", "--producer", "--allow-principal", "User:alice",
         "--topic", "ledger")
    errors = produce_errors(secured.kafka, "alice", "ledger")
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED], errors


def test_consumer_grants_what_a_consumer_needs(secured):
    create_topics(secured.kafka, "feed")
    produce_all(conf(secured.kafka, "admin"), [("feed", None, f"f{i}".encode()) for i in range(3)])
    error = first_consumer_error(secured.kafka, "bob", "feed", "feeders")
    assert error.code() in (KafkaError.GROUP_AUTHORIZATION_FAILED,
                            KafkaError.TOPIC_AUTHORIZATION_FAILED), error

    out = acls(secured.kafka, "--add", "--consumer", "--allow-principal", "User:bob",
               "--topic", "feed", "--group", "feeders")
    assert ("Adding ACLs for resource `ResourcePattern(resourceType=GROUP, name=feeders, "
            "patternType=LITERAL)`: \n \t(principal=User:bob, host=*, operation=READ, "
            "permissionType=ALLOW) \n") in out, out
    assert consume_as(secured.kafka, "bob", "feed", "feeders", 3) == [b"f0", b"f1", b"f2"]
    # Consuming is not producing, and the grant is for that group only.
    errors = produce_errors(secured.kafka, "bob", "feed")
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED], errors
    error = first_consumer_error(secured.kafka, "bob", "feed", "others")
    assert error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, error

    acls(secured.kafka, "--remove", "--force", "--consumer", "--allow-principal", "User:bob",
         "--topic", "feed", "--group", "feeders")
    listed = acls(secured.kafka, "--list", "--topic", "feed", "--group", "feeders")
    assert "User:bob" not in listed, listed


def test_convenience_options_are_checked_as_kafka_acls_sh(secured):
    done = subprocess.run([str(partita_binary()), "acls", "--bootstrap-server", secured.kafka,
                           "--add", "--consumer", "--allow-principal", "User:bob",
                           "--topic", "feed"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert ("With --consumer you must specify a --topic and a --group and no --cluster or "
            "--transactional-id option should be specified.") in done.stderr
