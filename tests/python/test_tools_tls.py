"""partita's own tools over TLS (issue 19), configured as Kafka's tools are: `--command-config
FILE` with `security.protocol=SSL` or `SASL_SSL`, KIP-651 PEM stores (`ssl.truststore.*`,
`ssl.keystore.*`, in files or inline) and `ssl.endpoint.identification.algorithm`. Every
command that talks to brokers against an SSL listener; a client certificate against a listener
that requires one; SCRAM over SASL_SSL with ACLs on; and the refusals: an untrusted CA, a
certificate that does not name the host (unless the check is off), no client certificate where
one is required, each an error naming why."""

import subprocess
import time

import pytest

from conftest import Server, partita_binary
from test_tls import certs, issue, openssl  # noqa: F401 (certs is a fixture)

STANDARD = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
ADMIN, ADMIN_PASSWORD = "admin", "admin-secret"


@pytest.fixture(scope="module")
def tool_certs(certs):
    """test_tls's CA, broker and client certificates, plus a client PEM keystore, a broker
    certificate naming another host only, and a CA that signed nothing here."""
    (certs / "client-keystore.pem").write_text(
        (certs / "client.key").read_text() + (certs / "client.pem").read_text())
    # issue() names 127.0.0.1 and localhost; signed again, the certificate names neither.
    issue(certs, "elsewhere", "/CN=elsewhere.example", "serverAuth")
    (certs / "elsewhere.ext").write_text(
        "subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "elsewhere.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", "elsewhere.pem", "-extfile", "elsewhere.ext",
            cwd=certs)
    (certs / "other-ca").mkdir(exist_ok=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Other CA", cwd=certs / "other-ca")
    return certs


def properties(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.properties"
    path.write_text(text)
    return path


def ssl_properties(certs, extra: str = "") -> str:
    return ("security.protocol=SSL\nssl.truststore.type=PEM\n"
            f"ssl.truststore.location={certs / 'ca.pem'}\n{extra}")


def partita(server, config, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(partita_binary()), *args, "--bootstrap-server", server.kafka,
                           "--command-config", str(config)],
                          input=stdin, capture_output=True, text=True, timeout=60)


def ok(server, config, *args: str, stdin: str | None = None) -> str:
    done = partita(server, config, *args, stdin=stdin)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def ssl_server(tool_certs, tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("tools-ssl"), "--tls-cert", str(tool_certs / "broker.pem"),
                     "--tls-key", str(tool_certs / "broker.key"))
    yield running
    running.stop()


def test_every_tool_against_an_ssl_listener(ssl_server, tool_certs, tmp_path):
    config = properties(tmp_path, "ssl", ssl_properties(tool_certs))
    ok(ssl_server, config, "topics", "--create", "--topic", "tls-tools", "--partitions", "2")
    assert "tls-tools" in ok(ssl_server, config, "topics", "--list").split()
    assert "PartitionCount: 2" in ok(ssl_server, config, "topics", "--describe", "--topic", "tls-tools")
    ok(ssl_server, config, "produce", "--topic", "tls-tools", stdin="one\ntwo\nthree\n")
    consumed = ok(ssl_server, config, "consume", "--topic", "tls-tools", "--from-beginning",
                  "--max-messages", "3", "--group", "tls-group")
    assert sorted(consumed.split()) == ["one", "three", "two"]
    # kafka-console-producer.sh's name for the file works too.
    done = subprocess.run([str(partita_binary()), "produce", "--bootstrap-server", ssl_server.kafka,
                           "--producer.config", str(config), "--topic", "tls-tools"],
                          input="four\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "tls-group" in ok(ssl_server, config, "groups", "--list").split()
    ok(ssl_server, config, "configs", "--alter", "--entity-type", "topics", "--entity-name",
       "tls-tools", "--add-config", "retention.ms=7200000")
    assert "retention.ms=7200000" in ok(ssl_server, config, "configs", "--describe",
                                         "--entity-type", "topics", "--entity-name", "tls-tools")
    assert "LeaderId" in ok(ssl_server, config, "quorum", "--describe", "--status")
    assert "tls-tools" in ok(ssl_server, config, "log-dirs", "--describe")
    ok(ssl_server, config, "transactions", "--list")
    # Without the file, the tool names what the listener wants.
    plain = subprocess.run([str(partita_binary()), "topics", "--bootstrap-server", ssl_server.kafka,
                            "--list"], capture_output=True, text=True, timeout=30)
    assert plain.returncode != 0 and "--command-config" in plain.stderr, plain.stderr


def test_an_untrusted_or_misnamed_certificate_is_refused_unless_the_name_check_is_off(
        ssl_server, tool_certs, tmp_path, tmp_path_factory):
    other_ca = properties(tmp_path, "other-ca", "security.protocol=SSL\nssl.truststore.type=PEM\n"
                          f"ssl.truststore.location={tool_certs / 'other-ca' / 'ca.pem'}\n")
    done = partita(ssl_server, other_ca, "topics", "--list")
    assert done.returncode != 0 and "TLS handshake" in done.stderr and "UnknownIssuer" in done.stderr, done.stderr
    missing = properties(tmp_path, "missing", "security.protocol=SSL\nssl.truststore.type=PEM\n"
                         "ssl.truststore.location=/nonexistent/ca.pem\n")
    done = partita(ssl_server, missing, "topics", "--list")
    assert done.returncode != 0 and "/nonexistent/ca.pem" in done.stderr, done.stderr
    jks = properties(tmp_path, "jks", "security.protocol=SSL\nssl.truststore.location=/x.jks\n")
    done = partita(ssl_server, jks, "topics", "--list")
    assert done.returncode != 0 and "ssl.truststore.type=PEM" in done.stderr, done.stderr

    elsewhere = Server(tmp_path_factory.mktemp("tools-elsewhere"),
                       "--tls-cert", str(tool_certs / "elsewhere.pem"),
                       "--tls-key", str(tool_certs / "elsewhere.key"))
    try:
        checked = properties(tmp_path, "checked", ssl_properties(tool_certs))
        done = partita(elsewhere, checked, "topics", "--list")
        assert done.returncode != 0 and "not valid for name" in done.stderr, done.stderr
        assert "ssl.endpoint.identification.algorithm" in done.stderr
        unchecked = properties(tmp_path, "unchecked", ssl_properties(
            tool_certs, "ssl.endpoint.identification.algorithm=\n"))
        ok(elsewhere, unchecked, "topics", "--list")
    finally:
        elsewhere.stop()


def test_a_client_certificate_for_an_mtls_listener(tool_certs, tmp_path, data_dir):
    server = Server(data_dir, "--tls-cert", str(tool_certs / "broker.pem"),
                    "--tls-key", str(tool_certs / "broker.key"),
                    "--tls-client-ca", str(tool_certs / "ca.pem"))
    try:
        without = properties(tmp_path, "without", ssl_properties(tool_certs))
        done = partita(server, without, "topics", "--list")
        assert done.returncode != 0, done.stdout
        keystore = properties(tmp_path, "keystore", ssl_properties(
            tool_certs, f"ssl.keystore.type=PEM\nssl.keystore.location={tool_certs / 'client-keystore.pem'}\n"))
        ok(server, keystore, "topics", "--create", "--topic", "mtls-tools")
        assert "mtls-tools" in ok(server, keystore, "topics", "--list").split()

        # KIP-651's inline PEM, each line continued with a backslash as in its examples.
        def inline(path) -> str:
            return " \\\n".join(path.read_text().strip().splitlines())
        inline_config = properties(tmp_path, "inline", (
            "security.protocol=SSL\nssl.truststore.type=PEM\n"
            f"ssl.truststore.certificates={inline(tool_certs / 'ca.pem')}\n"
            "ssl.keystore.type=PEM\n"
            f"ssl.keystore.certificate.chain={inline(tool_certs / 'client.pem')}\n"
            f"ssl.keystore.key={inline(tool_certs / 'client.key')}\n"))
        assert "mtls-tools" in ok(server, inline_config, "topics", "--list").split()
    finally:
        server.stop()


def test_scram_over_sasl_ssl_with_acls(tool_certs, tmp_path, data_dir):
    server = Server(data_dir, "--config", "listeners=SASL_SSL://127.0.0.1:0",
                    "--config", "ssl.keystore.type=PEM",
                    "--config", f"ssl.keystore.location={tool_certs / 'keystore.pem'}",
                    "--config", "sasl.enabled.mechanisms=SCRAM-SHA-512",
                    "--add-scram", f"SCRAM-SHA-512=[name={ADMIN},password={ADMIN_PASSWORD}]",
                    "--config", f"authorizer.class.name={STANDARD}",
                    "--config", f"super.users=User:{ADMIN}")
    try:
        def login(user: str, password: str) -> str:
            return ssl_properties(tool_certs).replace("security.protocol=SSL", "security.protocol=SASL_SSL") + (
                "sasl.mechanism=SCRAM-SHA-512\n"
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{user}" password="{password}";\n')
        admin = properties(tmp_path, "admin", login(ADMIN, ADMIN_PASSWORD))
        # --add-scram runs once the node is up: the first login may need a moment.
        deadline = time.monotonic() + 30
        while (done := partita(server, admin, "topics", "--list")).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert done.returncode == 0, done.stderr
        ok(server, admin, "topics", "--create", "--topic", "scram-tools")
        ok(server, admin, "configs", "--alter", "--entity-type", "users", "--entity-name", "alice",
           "--add-config", "SCRAM-SHA-512=[password=alice-secret]")
        ok(server, admin, "acls", "--add", "--allow-principal", "User:alice", "--operation", "Describe",
           "--topic", "scram-tools")
        assert "User:alice" in ok(server, admin, "acls", "--list", "--topic", "scram-tools")
        alice = properties(tmp_path, "alice", login("alice", "alice-secret"))
        assert ok(server, alice, "topics", "--list").split() == ["scram-tools"]
        wrong = properties(tmp_path, "wrong", login("alice", "guess"))
        done = partita(server, wrong, "topics", "--list")
        assert done.returncode != 0 and "alice" in done.stderr, done.stderr
    finally:
        server.stop()
