"""TLS on the Kafka listener (SSL and SASL_SSL, issue 19) with throwaway certificates made by
`openssl` here: confluent-kafka, kafka-python and kcat produce and consume over SSL; confluent-
kafka logs in with SASL/PLAIN over SASL_SSL (a listener configured Kafka's way: `listeners` and a
KIP-651 PEM keystore); a plaintext client and handshake garbage are refused and the broker goes
on; with client certificates required a client without one is refused and one with one works,
logged with its RFC 2253 principal; bad TLS files stop `partita serve` at start, naming the file.
One server per kind, started once for the module. partita's own tools over TLS:
test_tools_tls.py; TLS between the nodes of a cluster: test_peer_tls.py."""

import re
import socket
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from clients import consume, produce_all
from conftest import TEST_CONFIG, Server, partita_binary

USER, PASSWORD = "alice", "s3:cret"
CLIENT_SUBJECT = "/C=NO/O=Partita Test/CN=client one/emailAddress=a@b"
# Kafka's default principal: the subject in RFC 2253 form as Java writes it, last RDN first,
# an attribute without an RFC 2253 keyword (emailAddress) as its OID and DER (IA5String "a@b").
CLIENT_PRINCIPAL = "User:1.2.840.113549.1.9.1=#1603614062,CN=client one,O=Partita Test,C=NO"


def openssl(*args: str, cwd) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def issue(directory, name: str, subject: str, usage: str,
          san: str = "IP:127.0.0.1,DNS:localhost") -> None:
    """A P-256 key `name.key` and a certificate `name.pem` for `san`, signed by the test CA."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=directory)
    (directory / f"{name}.ext").write_text(
        f"subjectAltName={san}\nextendedKeyUsage={usage}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext",
            cwd=directory)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA, a broker certificate for 127.0.0.1, a client certificate, and a combined PEM
    keystore (key and chain in one file, KIP-651)."""
    directory = tmp_path_factory.mktemp("certs")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Partita Test CA", cwd=directory)
    issue(directory, "broker", "/CN=localhost", "serverAuth")
    issue(directory, "client", CLIENT_SUBJECT, "clientAuth")
    (directory / "keystore.pem").write_text(
        (directory / "broker.key").read_text() + (directory / "broker.pem").read_text())
    return directory


class LoggedServer:
    """A module-scoped server whose log goes to a file the tests read."""

    def __init__(self, tmp_path_factory, name: str, *args: str):
        directory = tmp_path_factory.mktemp(name)
        self.log_path = directory / "server.log"
        self.log = open(self.log_path, "w")
        self.server = Server(directory / "data", *args, stderr=self.log)
        self.kafka = self.server.kafka

    def logged(self, *parts: str, timeout_s: float = 10) -> bool:
        """Whether a log line (colours stripped) holds every one of `parts`, within the time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            lines = re.sub(r"\x1b\[[0-9;]*m", "", self.log_path.read_text()).splitlines()
            if any(all(part in line for part in parts) for line in lines):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        assert self.server.stop() == 0
        self.log.close()


@pytest.fixture(scope="module")
def ssl_server(certs, tmp_path_factory):
    running = LoggedServer(tmp_path_factory, "ssl", "--tls-cert", str(certs / "broker.pem"),
                           "--tls-key", str(certs / "broker.key"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sasl_ssl_server(certs, tmp_path_factory):
    running = LoggedServer(tmp_path_factory, "sasl-ssl", "--sasl-plain-user", f"{USER}:{PASSWORD}",
                           "--config", "listeners=SASL_SSL://127.0.0.1:0",
                           "--config", "ssl.keystore.type=PEM",
                           "--config", f"ssl.keystore.location={certs / 'keystore.pem'}")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def mtls_server(certs, tmp_path_factory):
    running = LoggedServer(tmp_path_factory, "mtls", "--tls-cert", str(certs / "broker.pem"),
                           "--tls-key", str(certs / "broker.key"),
                           "--tls-client-ca", str(certs / "ca.pem"))
    yield running
    running.stop()


def ssl(server, certs, **extra) -> dict:
    return {"bootstrap.servers": server.kafka, "security.protocol": "SSL",
            "ssl.ca.location": str(certs / "ca.pem"), **extra}


def produce_and_consume(config: dict, topic: str, count: int = 5) -> None:
    produce_all(config, [(topic, None, f"v{i}".encode()) for i in range(count)])
    consumer = Consumer({**config, "group.id": f"g-{topic}", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    got = consume(consumer, count)
    consumer.close()
    assert sorted(m.value() for m in got) == [f"v{i}".encode() for i in range(count)]


def test_confluent_kafka_and_kcat_over_ssl(ssl_server, certs):
    produce_and_consume(ssl(ssl_server, certs), "over-ssl")
    kcat = ["kcat", "-b", ssl_server.kafka, "-X", "security.protocol=ssl",
            "-X", f"ssl.ca.location={certs / 'ca.pem'}"]
    produced = subprocess.run([*kcat, "-P", "-t", "kcat-ssl"], input="one\ntwo\n",
                              capture_output=True, text=True, timeout=30)
    assert produced.returncode == 0, produced.stderr
    consumed = subprocess.run([*kcat, "-C", "-t", "kcat-ssl", "-o", "beginning", "-c", "2", "-e"],
                              capture_output=True, text=True, timeout=30)
    assert consumed.returncode == 0, consumed.stderr
    assert consumed.stdout.split() == ["one", "two"]


def test_kafka_python_over_ssl(ssl_server, certs):
    from kafka import KafkaConsumer, KafkaProducer

    tls = {"bootstrap_servers": ssl_server.kafka, "security_protocol": "SSL",
           "ssl_cafile": str(certs / "ca.pem")}
    producer = KafkaProducer(**tls)
    for i in range(3):
        producer.send("python-ssl", f"p{i}".encode()).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer("python-ssl", **tls, auto_offset_reset="earliest",
                             consumer_timeout_ms=5000)
    assert sorted(m.value for m in consumer) == [b"p0", b"p1", b"p2"]
    consumer.close()


def test_plaintext_and_garbage_to_the_tls_port_are_refused(ssl_server, certs):
    plaintext = AdminClient({"bootstrap.servers": ssl_server.kafka})
    with pytest.raises(KafkaException):
        plaintext.list_topics(timeout=3)
    host, port = ssl_server.kafka.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        garbage_peer = "peer={}:{}".format(*raw.getsockname())
        raw.sendall(b"\x16\x03\x01\x00\x05garbage-that-is-no-client-hello")
        # The broker answers at most an alert, then closes (a timeout here fails the test).
        try:
            while raw.recv(4096):
                pass
        except ConnectionResetError:
            pass
    assert ssl_server.logged("TLS handshake failed", garbage_peer)
    # The broker goes on serving TLS clients.
    assert AdminClient(ssl(ssl_server, certs)).list_topics(timeout=10) is not None


def test_partitas_tools_say_a_tls_listener_needs_tls(ssl_server):
    """partita's command-line tools without --command-config speak plaintext: the TLS alert the
    listener answers their request with is named as such, not read as a frame length, and the
    error says how to speak TLS (test_tools_tls.py does)."""
    done = subprocess.run([str(partita_binary()), "topics", "--bootstrap-server", ssl_server.kafka,
                           "--list"], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "seems to need TLS" in done.stderr, done.stderr
    assert "security.protocol=SSL" in done.stderr, done.stderr
    assert "is larger than" not in done.stderr


def test_sasl_plain_over_ssl_from_a_pem_keystore(sasl_ssl_server, certs):
    login = ssl(sasl_ssl_server, certs, **{"security.protocol": "SASL_SSL",
                                           "sasl.mechanism": "PLAIN", "sasl.username": USER,
                                           "sasl.password": PASSWORD})
    produce_and_consume(login, "over-sasl-ssl")
    assert sasl_ssl_server.logged("SASL/PLAIN login")
    wrong = AdminClient({**login, "sasl.password": "guess"})
    with pytest.raises(KafkaException):
        wrong.list_topics(timeout=3)
    # TLS without the login is refused too.
    no_login = AdminClient(ssl(sasl_ssl_server, certs))
    with pytest.raises(KafkaException):
        no_login.list_topics(timeout=3)


def test_client_certificates_when_required(mtls_server, certs):
    anonymous = AdminClient(ssl(mtls_server, certs))
    with pytest.raises(KafkaException):
        anonymous.list_topics(timeout=3)
    assert mtls_server.logged("TLS handshake failed")
    with_cert = ssl(mtls_server, certs, **{"ssl.certificate.location": str(certs / "client.pem"),
                                           "ssl.key.location": str(certs / "client.key")})
    produce_and_consume(with_cert, "over-mtls", count=2)
    assert mtls_server.logged(CLIENT_PRINCIPAL), mtls_server.log_path.read_text()
    # A certificate the CA did not sign is refused (the broker's own key pair, self-signed).
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "rogue.key", "-out", "rogue.pem", "-days", "1",
            "-subj", "/CN=rogue", cwd=certs)
    rogue = AdminClient({**with_cert, "ssl.certificate.location": str(certs / "rogue.pem"),
                         "ssl.key.location": str(certs / "rogue.key")})
    with pytest.raises(KafkaException):
        rogue.list_topics(timeout=3)


def start_error(tmp_path, *args: str) -> str:
    """Starts `partita serve` expecting it to exit at once with an error; returns stderr."""
    done = subprocess.run([str(partita_binary()), "serve", "--data-dir", str(tmp_path / "data"),
                           "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", *TEST_CONFIG,
                           *args], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    return done.stderr


def test_bad_tls_files_stop_the_start_naming_the_file(certs, tmp_path):
    missing = tmp_path / "missing.pem"
    error = start_error(tmp_path, "--tls-cert", str(missing), "--tls-key", str(certs / "broker.key"))
    assert str(missing) in error, error
    # The client's key with the broker's certificate.
    error = start_error(tmp_path, "--tls-cert", str(certs / "broker.pem"),
                        "--tls-key", str(certs / "client.key"))
    assert "does not go with the certificate" in error and str(certs / "client.key") in error, error
    error = start_error(tmp_path, "--tls-cert", str(certs / "broker.key"),
                        "--tls-key", str(certs / "broker.key"))
    assert "no PEM certificate" in error and str(certs / "broker.key") in error, error
    error = start_error(tmp_path, "--config", "listeners=SSL://127.0.0.1:0")
    assert "needs a certificate" in error, error


def test_a_v1_server_certificate_is_named_as_such(certs, tmp_path):
    """`openssl x509 -req` without `-extfile` makes a v1 certificate, which rustls refuses; the
    error says so rather than blaming the key (a newcomer's finding)."""
    openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", str(tmp_path / "broker-v1.pem"), cwd=certs)
    error = start_error(tmp_path, "--tls-cert", str(tmp_path / "broker-v1.pem"),
                        "--tls-key", str(certs / "broker.key"))
    assert "X.509 version 1" in error and "broker-v1.pem" in error, error
    assert "does not go with" not in error, error
