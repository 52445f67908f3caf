"""SASL/PLAIN (SASL_PLAINTEXT) with `partita serve --sasl-plain-user`: confluent-kafka and kcat
log in and produce and consume; a wrong password and a client that does not log in are
refused; the broker goes on serving the others."""

import subprocess

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from clients import consume
from conftest import Server, partita_binary

USER, PASSWORD = "alice", "s3:cret"


@pytest.fixture
def sasl_server(data_dir):
    running = Server(data_dir, "--sasl-plain-user", f"{USER}:{PASSWORD}")
    yield running
    running.stop()


def sasl(server, password: str = PASSWORD) -> dict:
    return {"bootstrap.servers": server.kafka, "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN", "sasl.username": USER, "sasl.password": password}


def test_a_user_logs_in_and_produces_and_consumes(sasl_server):
    producer = Producer(sasl(sasl_server))
    for i in range(5):
        producer.produce("secured", value=f"v{i}".encode())
    assert producer.flush(30) == 0
    consumer = Consumer({**sasl(sasl_server), "group.id": "g", "auto.offset.reset": "earliest"})
    consumer.subscribe(["secured"])
    assert sorted(m.value() for m in consume(consumer, 5)) == [f"v{i}".encode() for i in range(5)]
    consumer.close()

    listed = subprocess.run(["kcat", "-b", sasl_server.kafka, "-X", "security.protocol=SASL_PLAINTEXT",
                             "-X", "sasl.mechanisms=PLAIN", "-X", f"sasl.username={USER}",
                             "-X", f"sasl.password={PASSWORD}", "-L"],
                            capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert 'topic "secured"' in listed.stdout


def test_a_wrong_password_and_no_login_are_refused(sasl_server):
    errors = []
    wrong = AdminClient({**sasl(sasl_server, password="guess"), "error_cb": errors.append})
    with pytest.raises(KafkaException):
        wrong.list_topics(timeout=5)
    wrong.poll(1)
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors
    assert any("invalid username or password" in e.str() for e in errors), errors

    plaintext = AdminClient({"bootstrap.servers": sasl_server.kafka})
    with pytest.raises(KafkaException):
        plaintext.list_topics(timeout=5)

    # The broker goes on serving a client that logs in.
    assert AdminClient(sasl(sasl_server)).list_topics(timeout=10) is not None


def test_kafka_python_logs_in_with_either_handshake(sasl_server):
    """kafka-python logs in whether it negotiates the versions or is told the broker is 0.11
    (the bare-frame login after a v0 handshake is tested byte for byte in sasl_wire.rs)."""
    from kafka import KafkaConsumer, KafkaProducer

    login = {"bootstrap_servers": sasl_server.kafka, "security_protocol": "SASL_PLAINTEXT",
             "sasl_mechanism": "PLAIN", "sasl_plain_username": USER,
             "sasl_plain_password": PASSWORD}
    for api_version in [None, (0, 11, 0)]:
        producer = KafkaProducer(**login, api_version=api_version)
        producer.send("legacy", f"from {api_version}".encode()).get(timeout=30)
        producer.close()
    consumer = KafkaConsumer("legacy", **login, auto_offset_reset="earliest",
                             consumer_timeout_ms=5000)
    assert sorted(m.value for m in consumer) == [b"from (0, 11, 0)", b"from None"]
    consumer.close()


def test_partitas_console_clients_log_in(sasl_server):
    login = ("--sasl-username", USER, "--sasl-password", PASSWORD)
    sasl_server.partita("topics", "--create", "--topic", "notes", "--partitions", "1",
                        "--replication-factor", "1", *login)
    done = subprocess.run([str(partita_binary()), "produce", "--bootstrap-server", sasl_server.kafka,
                           "--topic", "notes", *login],
                          input="first\nsecond\n", capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    printed = sasl_server.partita("consume", "--topic", "notes", "--from-beginning",
                                  "--max-messages", "2", "--timeout-ms", "3000", *login)
    assert printed.split() == ["first", "second"]
    assert "notes" in sasl_server.partita("topics", "--list", *login)

    refused = subprocess.run([str(partita_binary()), "topics", "--bootstrap-server", sasl_server.kafka,
                              "--list", "--sasl-username", USER, "--sasl-password", "guess"],
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0
    assert "login as alice refused" in refused.stderr, refused.stderr

    # Without credentials: the listener closes the connection, and the tool says a login is
    # probably what it wants (not just "closed").
    anonymous = subprocess.run([str(partita_binary()), "topics", "--bootstrap-server", sasl_server.kafka,
                                "--list"], capture_output=True, text=True, timeout=30)
    assert anonymous.returncode != 0
    assert "closed the connection" in anonymous.stderr, anonymous.stderr
    assert "--sasl-username and --sasl-password" in anonymous.stderr, anonymous.stderr
