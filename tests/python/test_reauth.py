"""Re-authentication (KIP-368, `connections.max.reauth.ms`) with real clients over real
sockets: confluent-kafka (librdkafka re-authenticates since 2.2.0) keeps producing and consuming
across several re-authentications with SCRAM-SHA-512 and with PLAIN, and none of its
connections is closed for expiry; so does kafka-python 3, while kafka-python told the broker is
0.11 (a v0 handshake: no lifetime learned, no re-authentication) is disconnected when its login
expired and reconnects. Byte for byte: SaslAuthenticate v1 answers
`session_lifetime_ms`; a re-authentication that changes the principal is refused and the
connection closed; a second handshake within a second gets ILLEGAL_SASL_STATE; a request after
expiry closes the connection."""

import re
import socket
import struct
import time
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer

from conftest import Server

USER, PASSWORD = "alice", "alice-secret"
OTHER, OTHER_PASSWORD = "bob", "bob-secret"
# librdkafka re-authenticates at 90% of the session's lifetime: a request it sent just before
# and that the broker reads after the lifetime (behind a long-polling Fetch: requests on a
# connection are served one at a time, as in Kafka) closes the connection, as Kafka does. The
# clients' lifetime leaves them 400 ms, with fetch.wait.max.ms=100.
REAUTH_MS = 4000
# How long the clients run: three sessions.
RUN_S = 12
# kafka-python's tests' lifetime (they sleep past it): above the one second Kafka requires
# between two re-authentications.
KAFKA_PYTHON_REAUTH_MS = 2000
# The byte-level test's lifetime (it sleeps past it).
WIRE_REAUTH_MS = 1000


def start(tmp_path, reauth_ms: int):
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        running = Server(tmp_path / "data",
                         "--config", f"connections.max.reauth.ms={reauth_ms}",
                         "--config", "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512",
                         "--sasl-plain-user", f"{USER}:{PASSWORD}",
                         "--sasl-plain-user", f"{OTHER}:{OTHER_PASSWORD}",
                         "--add-scram", f"SCRAM-SHA-512=[name={USER},password={PASSWORD}]",
                         stderr=log)
    running.log_path = log_path
    return running


@pytest.fixture
def reauth_server(tmp_path):
    running = start(tmp_path, REAUTH_MS)
    yield running
    assert running.stop() == 0


@pytest.fixture
def kafka_python_server(tmp_path):
    running = start(tmp_path, KAFKA_PYTHON_REAUTH_MS)
    yield running
    assert running.stop() == 0


@pytest.fixture
def wire_server(tmp_path):
    running = start(tmp_path, WIRE_REAUTH_MS)
    yield running
    assert running.stop() == 0


def log_lines(server) -> list[str]:
    return re.sub(r"\x1b\[[0-9;]*m", "", server.log_path.read_text()).splitlines()


def count(server, *parts: str) -> int:
    return sum(all(p in line for p in parts) for line in log_lines(server))


def metric(server, name: str) -> float:
    """A counter of /metrics (Prometheus text)."""
    with urllib.request.urlopen(server.http + "metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def login(server, mechanism: str) -> dict:
    return {"bootstrap.servers": server.kafka, "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": mechanism, "sasl.username": USER, "sasl.password": PASSWORD}


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
def test_confluent_kafka_keeps_working_across_reauthentications(reauth_server, mechanism):
    topic = f"reauth-{mechanism.lower()}"
    config = login(reauth_server, mechanism)
    producer = Producer(config)
    consumer = Consumer({**config, "group.id": f"g-{topic}", "auto.offset.reset": "earliest",
                         "fetch.wait.max.ms": 100})
    consumer.subscribe([topic])
    failed, sent, got = [], [], []
    logins_before = count(reauth_server, f"SASL/{mechanism.split('-')[0]} login")
    started = time.monotonic()
    n = 0
    # A bounded run: one message every 100 ms for RUN_S seconds, each consumed as it comes.
    while time.monotonic() - started < RUN_S:
        value = f"m{n}".encode()
        producer.produce(topic, value=value, on_delivery=lambda e, m: e and failed.append(e))
        sent.append(value)
        n += 1
        producer.poll(0)
        msg = consumer.poll(0.1)
        if msg is not None and msg.error() is None:
            got.append(msg.value())
    assert producer.flush(30) == 0
    deadline = time.monotonic() + 30
    while len(got) < len(sent) and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            got.append(msg.value())
    consumer.close()
    assert failed == []
    assert got == sent
    # Every connection (producer, consumer, coordinator) logged in again several times on the
    # same connection, and none was closed for an expired session.
    logins = count(reauth_server, f"SASL/{mechanism.split('-')[0]} login") - logins_before
    assert logins >= 2 * (RUN_S * 1000 // REAUTH_MS), log_lines(reauth_server)[-40:]
    assert count(reauth_server, "SASL session expired") == 0, log_lines(reauth_server)[-40:]
    assert metric(reauth_server, "partita_expired_connections_killed_total") == 0
    assert metric(reauth_server, "partita_reauthentications_total") >= 2 * (RUN_S * 1000 // REAUTH_MS)


@pytest.mark.parametrize("api_version", [None, (0, 11, 0)])
def test_kafka_python_reauthenticates_or_is_disconnected_and_reconnects(kafka_python_server,
                                                                        api_version):
    """kafka-python 3 re-authenticates (at 85-95% of the lifetime); told the broker is 0.11 it
    logs in with a v0 handshake and bare tokens, learns no lifetime, and so is disconnected when
    the login expired, and reconnects."""
    from kafka import KafkaProducer

    server = kafka_python_server
    producer = KafkaProducer(bootstrap_servers=server.kafka, api_version=api_version,
                             security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                             sasl_plain_username=USER, sasl_plain_password=PASSWORD,
                             reconnect_backoff_ms=50)
    for n in range(3):
        producer.send("legacy", f"m{n}".encode()).get(timeout=30)
        if n < 2:
            # Past the session's lifetime: the next request finds the login renewed, or expired.
            time.sleep(KAFKA_PYTHON_REAUTH_MS / 1000 + 0.5)
    producer.close()
    expired = count(server, "SASL session expired")
    if api_version is None:
        assert expired == 0, log_lines(server)[-30:]
        assert count(server, "SASL/PLAIN login") >= 3
        assert metric(server, "partita_reauthentications_total") >= 2
    else:
        assert expired >= 2, log_lines(server)[-30:]
        assert metric(server, "partita_expired_connections_killed_total") >= 2


# --- byte level -------------------------------------------------------------------------

SASL_HANDSHAKE, SASL_AUTHENTICATE, METADATA = 17, 36, 3


def request(sock, api: int, version: int, correlation: int, body: bytes) -> bytes:
    client_id = b"reauth-test"
    header = struct.pack(">hhih", api, version, correlation, len(client_id)) + client_id
    frame = header + body
    sock.sendall(struct.pack(">i", len(frame)) + frame)
    size = struct.unpack(">i", read_exactly(sock, 4))[0]
    response = read_exactly(sock, size)
    assert struct.unpack(">i", response[:4])[0] == correlation
    return response[4:]


def read_exactly(sock, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed by the broker")
        data += chunk
    return data


def handshake(sock, correlation: int, mechanism: str = "PLAIN") -> int:
    name = mechanism.encode()
    body = request(sock, SASL_HANDSHAKE, 1, correlation, struct.pack(">h", len(name)) + name)
    return struct.unpack(">h", body[:2])[0]


def authenticate(sock, correlation: int, user: str, password: str) -> tuple[int, str, int]:
    """SaslAuthenticate v1 with a PLAIN token: (error code, error message, session lifetime)."""
    token = f"\0{user}\0{password}".encode()
    body = request(sock, SASL_AUTHENTICATE, 1, correlation, struct.pack(">i", len(token)) + token)
    error = struct.unpack(">h", body[:2])[0]
    (length,) = struct.unpack(">h", body[2:4])
    message = body[4:4 + max(length, 0)].decode()
    rest = body[4 + max(length, 0):]
    (auth_len,) = struct.unpack(">i", rest[:4])
    (lifetime,) = struct.unpack(">q", rest[4 + auth_len:12 + auth_len])
    return error, message, lifetime


def metadata(sock, correlation: int) -> bytes:
    return request(sock, METADATA, 1, correlation, struct.pack(">i", -1))


def connect(server) -> socket.socket:
    host, port = server.kafka.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def test_the_wire_rules_of_reauthentication(wire_server):
    reauth_server = wire_server
    sock = connect(reauth_server)
    assert handshake(sock, 1) == 0
    assert authenticate(sock, 2, USER, PASSWORD) == (0, "", WIRE_REAUTH_MS)
    metadata(sock, 3)
    # A second handshake within a second of the login's start: Kafka's ILLEGAL_SASL_STATE (34).
    # The first login is no re-authentication, so this one begins one: the limit applies to
    # the next.
    assert handshake(sock, 4) == 0
    assert authenticate(sock, 5, USER, PASSWORD) == (0, "", WIRE_REAUTH_MS)
    assert handshake(sock, 6) == 34
    metadata(sock, 7)
    sock.close()

    # Another principal on re-authentication: refused, and the connection closed.
    sock = connect(reauth_server)
    assert handshake(sock, 1) == 0
    assert authenticate(sock, 2, USER, PASSWORD)[0] == 0
    assert handshake(sock, 3) == 0
    error, message, _ = authenticate(sock, 4, OTHER, OTHER_PASSWORD)
    assert error == 58, message  # SASL_AUTHENTICATION_FAILED
    assert message == "Cannot change principals during re-authentication from User.alice: User.bob"
    with pytest.raises(ConnectionError):
        metadata(sock, 5)
    sock.close()

    # Another mechanism on re-authentication: the connection is closed.
    sock = connect(reauth_server)
    assert handshake(sock, 1) == 0
    assert authenticate(sock, 2, USER, PASSWORD)[0] == 0
    with pytest.raises(ConnectionError):
        handshake(sock, 3, "SCRAM-SHA-512")
        metadata(sock, 4)
    sock.close()

    # Past the lifetime without re-authenticating: the next request closes the connection.
    sock = connect(reauth_server)
    assert handshake(sock, 1) == 0
    assert authenticate(sock, 2, USER, PASSWORD)[0] == 0
    time.sleep(WIRE_REAUTH_MS / 1000 + 0.2)
    with pytest.raises(ConnectionError):
        metadata(sock, 3)
    sock.close()

    # An expired login may still re-authenticate first, then go on.
    sock = connect(reauth_server)
    assert handshake(sock, 1) == 0
    assert authenticate(sock, 2, USER, PASSWORD)[0] == 0
    time.sleep(WIRE_REAUTH_MS / 1000 + 0.2)
    assert handshake(sock, 3) == 0
    assert authenticate(sock, 4, USER, PASSWORD)[0] == 0
    metadata(sock, 5)
    sock.close()


def test_without_the_config_sessions_have_no_lifetime(tmp_path):
    running = Server(tmp_path / "data", "--sasl-plain-user", f"{USER}:{PASSWORD}")
    try:
        sock = connect(running)
        assert handshake(sock, 1) == 0
        assert authenticate(sock, 2, USER, PASSWORD) == (0, "", 0)
        # No re-authentication without a lifetime: a second handshake is ILLEGAL_SASL_STATE.
        assert handshake(sock, 3) == 34
        metadata(sock, 4)
        sock.close()
    finally:
        assert running.stop() == 0
