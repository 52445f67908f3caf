"""The HTTP listener secured (issue 19): HTTPS with a throwaway CA made by openssl
(`--http-tls-cert/--http-tls-key`, or the Kafka listener's certificate with
`--http-tls-from-kafka`), and a bearer token (`--http-token-file`) required on /api/* and
/metrics: 401 with `WWW-Authenticate: Bearer` without it or with a wrong one, 200 with it; the
playground's page stays open; plain HTTP to the HTTPS port gets no answer and the server goes
on; the broker still serves Kafka clients; a short token file stops the start with a message."""

import socket
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest

from clients import consume, produce_all
from confluent_kafka import Consumer
from conftest import TEST_CONFIG, Server, partita_binary
from test_tls import certs  # noqa: F401 (a fixture)

TOKEN = "7f3c1d9e5b2a48c6a0e4f1b3d5c7e9a1"


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "http.token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def https_server(certs, token_file, data_dir):  # noqa: F811
    running = Server(data_dir, "--http-tls-cert", str(certs / "broker.pem"),
                     "--http-tls-key", str(certs / "broker.key"),
                     "--http-token-file", str(token_file))
    yield running
    assert running.stop() == 0


def get(url: str, ca=None, token: str | None = None, scheme: str = "Bearer"):
    """(status, headers, body) of a GET; `ca`: the CA file that signs the server's certificate."""
    context = ssl.create_default_context(cafile=str(ca)) if ca else None
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"{scheme} {token}")
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_https_with_a_token(https_server, certs):  # noqa: F811
    base = https_server.http
    assert base.startswith("https://127.0.0.1:")
    ca = certs / "ca.pem"
    for path in ["api/health", "api/cluster", "api/topics", "api/groups", "metrics"]:
        status, headers, _ = get(base + path, ca)
        assert status == 401, path
        assert headers["WWW-Authenticate"] == 'Bearer realm="partita"'
        status, headers, _ = get(base + path, ca, token="0" * len(TOKEN))
        assert status == 401, path
        assert 'error="invalid_token"' in headers["WWW-Authenticate"]
        assert get(base + path, ca, token=TOKEN, scheme="Basic")[0] == 401
        status, _, body = get(base + path, ca, token=TOKEN)
        assert status == 200, path
        assert body
    assert b"# TYPE " in get(base + "metrics", ca, token=TOKEN)[2]
    # The playground's page and files are open: the live view asks for the token itself.
    status, _, page = get(base, ca)
    assert status == 200 and b"<html" in page.lower()
    assert get(base + "style.css", ca)[0] == 200

    # An unknown CA: the client refuses the server (the certificate is checked, not ignored).
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base + "api/health", timeout=10,
                               context=ssl.create_default_context())

    # Plain HTTP to the HTTPS port gets no HTTP answer; the server goes on.
    port = int(base.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
        plain.sendall(b"GET /api/topics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                      + TOKEN.encode() + b"\r\n\r\n")
        answer = b""
        try:
            while chunk := plain.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
    assert b"HTTP/1.1 200" not in answer and b"topics" not in answer, answer
    assert get(base + "api/health", ca, token=TOKEN)[0] == 200

    # The Kafka listener is unchanged: clients produce and consume.
    config = {"bootstrap.servers": https_server.kafka}
    produce_all(config, [("secured-http", None, b"one"), ("secured-http", None, b"two")])
    consumer = Consumer({**config, "group.id": "g", "auto.offset.reset": "earliest"})
    consumer.subscribe(["secured-http"])
    assert [m.value() for m in consume(consumer, 2)] == [b"one", b"two"]
    consumer.close()
    status, _, body = get(base + "api/topics", ca, token=TOKEN)
    assert status == 200 and b"secured-http" in body


def test_plain_http_with_a_token_and_https_from_the_kafka_certificate(certs, token_file,  # noqa: F811
                                                                     tmp_path):
    plain = Server(tmp_path / "a", "--http-token-file", str(token_file))
    try:
        assert plain.http.startswith("http://")
        assert get(plain.http + "metrics")[0] == 401
        assert get(plain.http + "metrics", token=TOKEN)[0] == 200
    finally:
        assert plain.stop() == 0

    # --http-tls-from-kafka: the Kafka listener's certificate (SSL) serves HTTPS too, and
    # without a token file the API is open (on loopback).
    shared = Server(tmp_path / "b", "--tls-cert", str(certs / "broker.pem"),
                    "--tls-key", str(certs / "broker.key"), "--http-tls-from-kafka")
    try:
        assert shared.http.startswith("https://")
        assert get(shared.http + "api/health", certs / "ca.pem")[0] == 200
    finally:
        assert shared.stop() == 0


def start_fails(*args: str, tmp_path) -> str:
    done = subprocess.run([str(partita_binary()), "serve", "--data-dir", str(tmp_path / "d"),
                           "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", *TEST_CONFIG, *args],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    return done.stderr


def test_bad_http_security_settings_stop_the_start(tmp_path, certs):  # noqa: F811
    short = tmp_path / "short.token"
    short.write_text("letmein\n")
    assert "at least 16 characters" in start_fails("--http-token-file", str(short),
                                                   tmp_path=tmp_path)
    missing = start_fails("--http-token-file", str(tmp_path / "none"), tmp_path=tmp_path)
    assert "none" in missing
    assert "no certificate" in start_fails("--http-tls-from-kafka", tmp_path=tmp_path)
    wrong_key = start_fails("--http-tls-cert", str(certs / "broker.pem"),
                            "--http-tls-key", str(certs / "client.key"), tmp_path=tmp_path)
    assert "does not go with the certificate" in wrong_key, wrong_key
