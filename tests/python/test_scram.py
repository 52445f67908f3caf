"""SASL/SCRAM (SCRAM-SHA-256 and SCRAM-SHA-512, RFC 5802/7677, KIP-84, KIP-554) with real
clients over real sockets: confluent-kafka, kafka-python and kcat log in with SCRAM-SHA-256 over
SASL_PLAINTEXT and with SCRAM-SHA-512 over SASL_SSL, produce and consume; a wrong password and an
unknown user are refused and the broker goes on; a credential made with `partita configs` works
at once, survives a restart, and no longer after its deletion; confluent-kafka's AdminClient gets
Kafka's answers from DescribeUserScramCredentials and AlterUserScramCredentials; a client-final
message whose nonce does not start with the client's own (CVE-2024-56128's forgery) is refused
byte for byte. The first user comes from `partita serve --add-scram`."""

import base64
import hashlib
import hmac
import os
import socket
import struct
import subprocess

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (AdminClient, ScramCredentialInfo, ScramMechanism,
                                   UserScramCredentialDeletion, UserScramCredentialUpsertion)

from conftest import Server, partita_binary
from test_tls import certs, produce_and_consume  # noqa: F401 (a fixture)

ADMIN, ADMIN_PASSWORD = "admin", "admin-secret"
SCRAM_CONFIG = ["--config", "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
                "--add-scram", f"SCRAM-SHA-256=[name={ADMIN},password={ADMIN_PASSWORD}]",
                "--add-scram", f"SCRAM-SHA-512=[name={ADMIN},iterations=8192,password={ADMIN_PASSWORD}]"]


def scram(server, mechanism="SCRAM-SHA-256", user=ADMIN, password=ADMIN_PASSWORD,
          protocol="SASL_PLAINTEXT", **extra) -> dict:
    return {"bootstrap.servers": server.kafka, "security.protocol": protocol,
            "sasl.mechanism": mechanism, "sasl.username": user, "sasl.password": password,
            **extra}


def logs_in(config: dict) -> bool:
    """Whether a confluent-kafka AdminClient with `config` gets metadata."""
    try:
        AdminClient(config).list_topics(timeout=10)
        return True
    except KafkaException:
        return False


def wait_logs_in(config: dict, attempts: int = 50) -> bool:
    """`--add-scram` runs once the node is up: a login may need a moment."""
    return any(logs_in(config) for _ in range(attempts))


@pytest.fixture
def scram_server(data_dir):
    running = Server(data_dir, *SCRAM_CONFIG)
    assert wait_logs_in(scram(running))
    yield running
    running.stop()


@pytest.fixture
def scram_ssl_server(certs, data_dir):  # noqa: F811
    running = Server(data_dir, *SCRAM_CONFIG,
                     "--config", "listeners=SASL_SSL://127.0.0.1:0",
                     "--tls-cert", str(certs / "broker.pem"), "--tls-key", str(certs / "broker.key"))
    yield running
    running.stop()


def kcat(config: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    flags = []
    for key, value in config.items():
        if key == "bootstrap.servers":
            flags += ["-b", value]
        else:
            flags += ["-X", f"{'sasl.mechanisms' if key == 'sasl.mechanism' else key}={value}"]
    return subprocess.run(["kcat", *flags, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


def kcat_round_trip(config: dict, topic: str) -> None:
    produced = kcat(config, "-P", "-t", topic, stdin="k1\nk2\n")
    assert produced.returncode == 0, produced.stderr
    consumed = kcat(config, "-C", "-t", topic, "-o", "beginning", "-c", "2", "-e")
    assert consumed.returncode == 0, consumed.stderr
    assert consumed.stdout.split() == ["k1", "k2"]


def kafka_python_round_trip(login: dict, topic: str) -> None:
    """Produces once negotiating the versions and once told the broker is 0.11 (a v0
    SaslHandshake: the two SCRAM messages travel as bare frames), then consumes both."""
    from kafka import KafkaConsumer, KafkaProducer

    for api_version in [None, (0, 11, 0)]:
        producer = KafkaProducer(**login, api_version=api_version)
        producer.send(topic, f"from {api_version}".encode()).get(timeout=30)
        producer.close()
    consumer = KafkaConsumer(topic, **login, auto_offset_reset="earliest", consumer_timeout_ms=5000)
    assert sorted(m.value for m in consumer) == [b"from (0, 11, 0)", b"from None"]
    consumer.close()


def test_scram_sha_256_over_sasl_plaintext(scram_server):
    produce_and_consume(scram(scram_server), "scram256")
    kcat_round_trip(scram(scram_server), "scram256-kcat")
    kafka_python_round_trip({"bootstrap_servers": scram_server.kafka,
                             "security_protocol": "SASL_PLAINTEXT",
                             "sasl_mechanism": "SCRAM-SHA-256", "sasl_plain_username": ADMIN,
                             "sasl_plain_password": ADMIN_PASSWORD}, "scram256-python")


def test_scram_sha_512_over_sasl_ssl(scram_ssl_server, certs):  # noqa: F811
    tls = {"ssl.ca.location": str(certs / "ca.pem")}
    config = scram(scram_ssl_server, "SCRAM-SHA-512", protocol="SASL_SSL", **tls)
    assert wait_logs_in(config)
    produce_and_consume(config, "scram512")
    kcat_round_trip(config, "scram512-kcat")
    kafka_python_round_trip({"bootstrap_servers": scram_ssl_server.kafka,
                             "security_protocol": "SASL_SSL", "ssl_cafile": str(certs / "ca.pem"),
                             "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": ADMIN,
                             "sasl_plain_password": ADMIN_PASSWORD}, "scram512-python")


def test_a_wrong_password_an_unknown_user_and_plain_are_refused(scram_server):
    for config in [scram(scram_server, password="guess"),
                   scram(scram_server, "SCRAM-SHA-512", password="guess"),
                   scram(scram_server, user="nobody")]:
        errors = []
        client = AdminClient({**config, "error_cb": errors.append})
        with pytest.raises(KafkaException):
            client.list_topics(timeout=5)
        client.poll(1)
        assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors
        assert any("invalid credentials" in e.str() for e in errors), errors
    # PLAIN is not in sasl.enabled.mechanisms.
    assert not logs_in(scram(scram_server, "PLAIN"))
    assert scram_server.process.poll() is None
    assert logs_in(scram(scram_server, "SCRAM-SHA-512"))


def configs(server, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(partita_binary()), "configs", "--bootstrap-server", server.kafka,
                           "--sasl-username", ADMIN, "--sasl-password", ADMIN_PASSWORD,
                           "--sasl-mechanism", "SCRAM-SHA-256", "--entity-type", "users", *args],
                          capture_output=True, text=True, timeout=60)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def test_partita_configs_creates_describes_and_deletes_credentials(data_dir):
    server = Server(data_dir, *SCRAM_CONFIG)
    try:
        assert wait_logs_in(scram(server))
        added = configs(server, "--alter", "--entity-name", "alice", "--add-config",
                        "SCRAM-SHA-256=[iterations=8192,password=alice-secret],"
                        "SCRAM-SHA-512=[password=alice-secret]")
        assert added.stdout == "Completed updating config for user alice.\n"
        # At once, with either mechanism.
        assert logs_in(scram(server, user="alice", password="alice-secret"))
        assert logs_in(scram(server, "SCRAM-SHA-512", user="alice", password="alice-secret"))
        assert not logs_in(scram(server, user="alice", password="admin-secret"))
        described = configs(server, "--describe", "--entity-name", "alice").stdout
        assert described == ("SCRAM credential configs for user-principal 'alice' are "
                             "SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096\n")
        everyone = configs(server, "--describe").stdout.splitlines()
        assert everyone == [
            "SCRAM credential configs for user-principal 'admin' are "
            "SCRAM-SHA-256=iterations=4096, SCRAM-SHA-512=iterations=8192",
            "SCRAM credential configs for user-principal 'alice' are "
            "SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096"]
        too_few = configs(server, "--alter", "--entity-name", "bob", "--add-config",
                          "SCRAM-SHA-256=[iterations=100,password=x]", check=False)
        assert too_few.returncode != 0
        assert "Iterations 100 is less than the minimum 4096" in too_few.stderr

        # Stored in the metadata log: the same after a restart.
        assert server.stop() == 0
        server = Server(data_dir, *SCRAM_CONFIG)
        assert wait_logs_in(scram(server, "SCRAM-SHA-512", user="alice", password="alice-secret"))
        assert configs(server, "--describe", "--entity-name", "alice").stdout == described
        # The password itself is nowhere on disk.
        for root, _, files in os.walk(data_dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    assert b"alice-secret" not in f.read(), name

        deleted = configs(server, "--alter", "--entity-name", "alice", "--delete-config",
                          "SCRAM-SHA-512")
        assert deleted.stdout == "Completed updating config for user alice.\n"
        assert not logs_in(scram(server, "SCRAM-SHA-512", user="alice", password="alice-secret"))
        assert logs_in(scram(server, user="alice", password="alice-secret"))
        gone = configs(server, "--alter", "--entity-name", "alice", "--delete-config",
                       "SCRAM-SHA-512", check=False)
        assert gone.returncode != 0 and "RESOURCE_NOT_FOUND" in gone.stderr, gone.stderr
    finally:
        server.stop()


def test_admin_client_describe_and_alter(scram_server):
    admin = AdminClient(scram(scram_server))
    sha256, sha512 = ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512
    futures = admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion("carol", ScramCredentialInfo(sha512, 10000), b"carol-pw"),
        UserScramCredentialUpsertion("dave", ScramCredentialInfo(sha256, 4096), b"dave-pw"),
        UserScramCredentialUpsertion("dave", ScramCredentialInfo(sha256, 4096), b"again"),
        UserScramCredentialUpsertion("erin", ScramCredentialInfo(sha256, 100000), b"erin-pw"),
        UserScramCredentialDeletion("frank", sha256),
    ])
    futures["carol"].result(10)
    codes = {}
    for user in ["dave", "erin", "frank"]:
        with pytest.raises(KafkaException) as refused:
            futures[user].result(10)
        codes[user] = refused.value.args[0].code()
    assert codes == {"dave": KafkaError.DUPLICATE_RESOURCE,
                     "erin": KafkaError.UNACCEPTABLE_CREDENTIAL,
                     "frank": KafkaError.RESOURCE_NOT_FOUND}
    assert logs_in(scram(scram_server, "SCRAM-SHA-512", user="carol", password="carol-pw"))

    described = admin.describe_user_scram_credentials(["carol", "nobody"])
    carol = described["carol"].result(10)
    assert [(i.mechanism, i.iterations) for i in carol.scram_credential_infos] == [(sha512, 10000)]
    with pytest.raises(KafkaException) as unknown:
        described["nobody"].result(10)
    assert unknown.value.args[0].code() == KafkaError.RESOURCE_NOT_FOUND
    everyone = admin.describe_user_scram_credentials().result(10)
    assert sorted(everyone) == ["admin", "carol"]


# The raw exchange, byte for byte (Kafka's request header v1; SaslHandshake v1, SaslAuthenticate
# v0).

def request(sock: socket.socket, api_key: int, version: int, correlation: int, body: bytes) -> bytes:
    client_id = b"raw"
    header = struct.pack(">hhih", api_key, version, correlation, len(client_id)) + client_id
    frame = header + body
    sock.sendall(struct.pack(">i", len(frame)) + frame)
    return read_frame(sock)


def read_frame(sock: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data
    (length,) = struct.unpack(">i", exactly(4))
    return exactly(length)


def authenticate(sock: socket.socket, correlation: int, token: bytes) -> tuple[int, str, bytes]:
    """SaslAuthenticate v0: (error code, error message, auth bytes)."""
    answer = request(sock, 36, 0, correlation, struct.pack(">i", len(token)) + token)
    (corr, code, message_len) = struct.unpack(">ihh", answer[:8])
    assert corr == correlation
    rest = answer[8:]
    message = ""
    if message_len >= 0:
        message, rest = rest[:message_len].decode(), rest[message_len:]
    (auth_len,) = struct.unpack(">i", rest[:4])
    return code, message, rest[4:4 + auth_len]


def start_exchange(server, client_nonce: str) -> tuple[socket.socket, dict, str]:
    host, port = server.kafka.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    mechanism = b"SCRAM-SHA-256"
    answer = request(sock, 17, 1, 1, struct.pack(">h", len(mechanism)) + mechanism)
    assert struct.unpack(">ih", answer[:6]) == (1, 0), answer
    first_bare = f"n={ADMIN},r={client_nonce}"
    code, message, server_first = authenticate(sock, 2, f"n,,{first_bare}".encode())
    assert code == 0, message
    fields = dict(part.split("=", 1) for part in server_first.decode().split(","))
    return sock, fields, f"{first_bare},{server_first.decode()}"


def client_final(fields: dict, prefix: str, nonce: str) -> bytes:
    """The client-final message for `nonce`, with the proof the right password gives."""
    salted = hashlib.pbkdf2_hmac("sha256", ADMIN_PASSWORD.encode(), base64.b64decode(fields["s"]),
                                 int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={nonce}"
    signature = hmac.new(stored_key, f"{prefix},{without_proof}".encode(), hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


def test_a_forged_nonce_is_refused_byte_for_byte(scram_server):
    # The honest exchange logs in: what the forgery below changes is only the nonce.
    sock, fields, prefix = start_exchange(scram_server, "honestclientnonce")
    assert fields["r"].startswith("honestclientnonce") and len(fields["r"]) > 30
    code, message, server_final = authenticate(sock, 3, client_final(fields, prefix, fields["r"]))
    assert (code, message) == (0, "") and server_final.startswith(b"v=")
    sock.close()

    # CVE-2024-56128: the server's part of the nonce behind another client nonce, with a proof
    # over that message made with the right password. Refused, and the connection closed.
    sock, fields, prefix = start_exchange(scram_server, "clientnonceone")
    forged = "forged" + fields["r"][len("clientnonceone"):]
    code, message, _ = authenticate(sock, 3, client_final(fields, prefix, forged))
    assert code == 58, (code, message)  # SASL_AUTHENTICATION_FAILED
    assert "nonce" in message
    with pytest.raises(ConnectionError):
        read_frame(sock)
    sock.close()

    # The combined nonce with more after it: also refused.
    sock, fields, prefix = start_exchange(scram_server, "clientnoncetwo")
    code, message, _ = authenticate(sock, 3, client_final(fields, prefix, fields["r"] + "x"))
    assert code == 58 and "nonce" in message, (code, message)
    sock.close()
    assert logs_in(scram(scram_server))
