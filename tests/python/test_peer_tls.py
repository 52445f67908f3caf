"""TLS between the nodes of a cluster (issue 19): three `partita serve` processes whose controller
listener is SSL the way a Kafka operator configures it (`controller.listener.names=CONTROLLER`,
`listener.security.protocol.map=CONTROLLER:SSL`, `listener.name.controller.ssl.*` PEM stores),
with every peer required to show a certificate of the cluster's CA. acks=all writes to a topic
of three replicas with min.insync.replicas=2, a node SIGKILLed and restarted catching up, the
active controller failing over; the bytes a node sends a peer are a TLS record, not a partita
hello; a plaintext peer, a peer without a certificate, one with another CA's, and (authorizer
on) one whose principal is not a super user are refused and logged while the cluster goes on;
SASL on the controller listener stops `partita serve` with Kafka's reason."""

import re
import signal
import socket
import ssl
import struct
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from cluster import CLUSTER_CONFIG, Cluster
from conftest import Server, partita_binary
from test_cluster import (PARTITIONS, active_controller, all_in_isr, fully_replicated,
                          log_end_offsets, produce_acked, read_all)
from test_tls import certs, issue, openssl  # noqa: F401 (certs is a fixture)

NODE_SUBJECT = "/O=Partita Test/CN=partita-node"
NODE_PRINCIPAL = "User:CN=partita-node,O=Partita Test"
STANDARD = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


@pytest.fixture(scope="module")
def peer_certs(certs):
    """Next to test_tls's CA: a node certificate good for both ends of a link (serverAuth and
    clientAuth, SAN 127.0.0.1) as one PEM keystore, a client-only certificate of the same CA,
    and another CA with a node certificate of its own."""
    issue(certs, "node", NODE_SUBJECT, "serverAuth,clientAuth")
    (certs / "node-keystore.pem").write_text(
        (certs / "node.key").read_text() + (certs / "node.pem").read_text())
    rogue = certs / "rogue"
    rogue.mkdir()
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Another CA", cwd=rogue)
    issue(rogue, "node", NODE_SUBJECT, "serverAuth,clientAuth")
    return certs


def peer_tls_config(certs) -> list[str]:
    return ["--config", "controller.listener.names=CONTROLLER",
            "--config", "listener.security.protocol.map=CONTROLLER:SSL,PLAINTEXT:PLAINTEXT",
            "--config", "listener.name.controller.ssl.keystore.type=PEM",
            "--config", f"listener.name.controller.ssl.keystore.location={certs / 'node-keystore.pem'}",
            "--config", "listener.name.controller.ssl.truststore.type=PEM",
            "--config", f"listener.name.controller.ssl.truststore.location={certs / 'ca.pem'}"]


class LoggedCluster(Cluster):
    """A cluster whose nodes log to files (`node-N.log`, appended across restarts)."""

    def start(self, node_id: int) -> Server:
        log = open(self.data_dir / f"node-{node_id}.log", "a")
        server = Server(self.data_dir / f"node-{node_id}", "--node-id", str(node_id),
                        "--controller-quorum-voters", self.voters,
                        *CLUSTER_CONFIG, *self.extra_args, stderr=log)
        self.nodes[node_id] = server
        return server

    def logged(self, node_id: int, *parts: str, timeout_s: float = 15) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = (self.data_dir / f"node-{node_id}.log").read_text()
            lines = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
            if any(all(part in line for part in parts) for line in lines):
                return True
            time.sleep(0.2)
        return False

    def peer_address(self, node_id: int) -> tuple[str, int]:
        voters = dict(v.split("@") for v in self.voters.split(","))
        host, port = voters[str(node_id)].split(":")
        return host, int(port)


@pytest.fixture
def tls_cluster(peer_certs, data_dir):
    running = LoggedCluster(data_dir, 3, *peer_tls_config(peer_certs))
    yield running
    running.stop()


def hello(node_id: int) -> bytes:
    """The first frame of a plaintext peer connection (peer/codec.rs)."""
    return struct.pack(">IB4sHi", 11, 0, b"PRTA", 1, node_id)


def first_bytes_sent_to(address: tuple[str, int], count: int = 64) -> bytes:
    """Listens on a dead node's peer address and returns the first bytes another node's link
    sends when it reconnects (links retry with a backoff of at most 2 s)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen()
        listener.settimeout(30)
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(10)
            data = b""
            while len(data) < count:
                chunk = connection.recv(count - len(data))
                if not chunk:
                    break
                data += chunk
            return data


def test_a_tls_cluster_replicates_survives_a_kill_and_a_controller_failover(tls_cluster):
    cluster = tls_cluster
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    for node_id in (1, 2, 3):
        assert cluster.logged(node_id, "peer links are SSL")
    admin.create_topics([NewTopic("orders", PARTITIONS, 3, config={"min.insync.replicas": "2"})])["orders"].result(30)
    cluster.wait_for("replicated", lambda: fully_replicated(cluster, "orders"))
    first = produce_acked(cluster.bootstrap(), "orders", 0, 300)

    cluster.nodes[2].kill()  # SIGKILL
    # What the other nodes send to node 2's peer address is a TLS handshake record (content
    # type 22, version 3.x), and never the plaintext hello.
    sent = first_bytes_sent_to(cluster.peer_address(2))
    assert sent[0] == 0x16 and sent[1] == 0x03, sent[:8]
    assert b"PRTA" not in sent
    cluster.wait_for("node 2 out of every ISR",
                     lambda: all(2 not in p.isrs for p in cluster.topic("orders").partitions.values()))
    second = produce_acked(cluster.bootstrap(), "orders", 300, 300)

    cluster.start(2)
    cluster.wait_for("node 2 back in every ISR", lambda: all_in_isr(cluster, "orders"))
    expected = {p: first.get(p, []) + second.get(p, []) for p in range(PARTITIONS)}
    counts = {p: len(v) for p, v in expected.items()}
    cluster.wait_for("node 2 holding every record",
                     lambda: log_end_offsets(cluster.nodes[2], "orders") == counts)

    old = cluster.wait_for("an active controller", lambda: active_controller(cluster))
    cluster.nodes[old].kill()
    new = cluster.wait_for("another controller elected",
                           lambda: (c := active_controller(cluster)) not in (old, None, -1) and c)
    assert new != old
    admin = cluster.admin()  # kept alive until the answer came
    admin.create_topics([NewTopic("after-failover", 3, 2)])["after-failover"].result(30)
    cluster.wait_for(f"node {old} out of every ISR",
                     lambda: all(old not in p.isrs and p.leader != old
                                 for p in cluster.topic("orders").partitions.values()))
    third = produce_acked(cluster.bootstrap(), "orders", 600, 100)
    expected = {p: expected[p] + third.get(p, []) for p in range(PARTITIONS)}
    got = read_all(cluster.bootstrap(), "orders", sum(len(v) for v in expected.values()))
    for p in range(PARTITIONS):
        assert got.get(p, []) == expected[p], f"partition {p}"
    cluster.start(old)
    cluster.wait_for(f"node {old} back in every ISR", lambda: all_in_isr(cluster, "orders"))


def refused(address, wrap=None) -> bool:
    """Connects (through `wrap`, an SSL context, if given), sends a hello from node 2 and a
    frame, and reports whether the node refused: closed, reset, or a TLS alert."""
    raw = socket.create_connection(address, timeout=10)
    try:
        conn = wrap.wrap_socket(raw, server_hostname=address[0]) if wrap else raw
        conn.sendall(hello(2))
        data = b""
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        # Plaintext: nothing, or the TLS alert rustls answers garbage with (content type 21).
        return data == b"" or data[0] == 0x15
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False  # the node kept the connection open: accepted
    finally:
        raw.close()


def client_context(certs, cert_dir=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if cert_dir is not None:
        context.load_cert_chain(str(cert_dir / "node.pem"), str(cert_dir / "node.key"))
    return context


def test_plaintext_and_foreign_certificates_are_refused_at_the_peer_port(tls_cluster, peer_certs):
    cluster = tls_cluster
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    address = cluster.peer_address(1)
    assert refused(address), "a plaintext hello"
    assert cluster.logged(1, "peer connection from", "TLS handshake failed")
    assert refused(address, client_context(peer_certs)), "TLS without a client certificate"
    assert refused(address, client_context(peer_certs, peer_certs / "rogue")), "another CA's certificate"
    # A certificate of the cluster's CA is let in (the node then waits for frames).
    with socket.create_connection(address, timeout=10) as raw:
        with client_context(peer_certs, peer_certs).wrap_socket(raw, server_hostname=address[0]) as tls:
            tls.sendall(hello(2))
            tls.settimeout(1)
            with pytest.raises(socket.timeout):
                tls.recv(1)
    # The cluster goes on: acks=all through every node.
    admin.create_topics([NewTopic("after-refusals", 3, 3, config={"min.insync.replicas": "2"})])["after-refusals"].result(30)
    cluster.wait_for("replicated", lambda: all_in_isr(cluster, "after-refusals"))
    assert len(produce_acked(cluster.bootstrap(), "after-refusals", 0, 30)) > 0


def test_with_the_authorizer_a_peer_must_be_a_super_user(peer_certs, data_dir):
    """Kafka requires the inter-broker principal to be a super user; partita requires it of the
    peer certificate's principal, which tells a node from a client when one CA signs both."""
    cluster = LoggedCluster(data_dir, 3, *peer_tls_config(peer_certs),
                            "--config", f"authorizer.class.name={STANDARD}",
                            "--config", f"super.users={NODE_PRINCIPAL}",
                            "--config", "allow.everyone.if.no.acl.found=true")
    try:
        admin = cluster.admin()
        cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
        admin.create_topics([NewTopic("secured", 3, 3)])["secured"].result(30)
        cluster.wait_for("replicated", lambda: all_in_isr(cluster, "secured"))
        # test_tls's client certificate: same CA, not a super user.
        context = ssl.create_default_context(cafile=str(peer_certs / "ca.pem"))
        context.load_cert_chain(str(peer_certs / "client.pem"), str(peer_certs / "client.key"))
        assert refused(cluster.peer_address(1), context)
        assert cluster.logged(1, "peer connection from", "not one of super.users")
        assert len(produce_acked(cluster.bootstrap(), "secured", 0, 30)) > 0
    finally:
        cluster.stop()


def serve_fails(data_dir, *args: str) -> str:
    done = subprocess.run([str(partita_binary()), "serve", "--data-dir", str(data_dir),
                           "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
                           "--controller-quorum-voters", "1@127.0.0.1:1", *args],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    return done.stderr


def test_what_does_not_map_onto_the_peer_listener_stops_the_start(peer_certs, data_dir):
    sasl = serve_fails(data_dir, "--config", "controller.listener.names=CONTROLLER",
                       "--config", "listener.security.protocol.map=CONTROLLER:SASL_SSL")
    assert "SCRAM" in sasl and "metadata log" in sasl, sasl
    no_ca = serve_fails(data_dir, "--config", "controller.listener.names=CONTROLLER",
                        "--config", "listener.security.protocol.map=CONTROLLER:SSL",
                        "--tls-cert", str(peer_certs / "node.pem"),
                        "--tls-key", str(peer_certs / "node.key"))
    assert "cluster's CA" in no_ca, no_ca
    missing = serve_fails(data_dir, *peer_tls_config(peer_certs)[:-2],
                          "--config", "listener.name.controller.ssl.truststore.location=/nonexistent/ca.pem")
    assert "/nonexistent/ca.pem" in missing, missing


def test_partita_cluster_passes_peer_tls_to_every_node(peer_certs, data_dir):
    """`partita cluster --config ...` hands the settings to every node: one keystore naming
    127.0.0.1 serves the three."""
    log_path = data_dir / "cluster.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([str(partita_binary()), "cluster", "--nodes", "3", "--any-ports",
                                    "--data-dir", str(data_dir / "nodes"), *peer_tls_config(peer_certs)],
                                   stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        bootstrap = None
        deadline = time.monotonic() + 60
        while bootstrap is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if m := re.match(r"partita: bootstrap servers (\S+)", line):
                bootstrap = m.group(1)
        assert bootstrap, "the cluster printed its addresses"
        admin = AdminClient({"bootstrap.servers": bootstrap})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if len(admin.list_topics(timeout=5).brokers) == 3:
                    break
            except Exception:  # before a controller is elected
                pass
            time.sleep(0.2)
        admin.create_topics([NewTopic("tls-launched", 3, 3, config={"min.insync.replicas": "2"})])["tls-launched"].result(30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            partitions = admin.list_topics(topic="tls-launched", timeout=5).topics["tls-launched"].partitions
            if partitions and all(sorted(p.isrs) == [1, 2, 3] for p in partitions.values()):
                break
            time.sleep(0.2)
        assert len(produce_acked(bootstrap, "tls-launched", 0, 30)) > 0
        text = re.sub(r"\x1b\[[0-9;]*m", "", log_path.read_text())
        assert text.count("peer links are SSL") == 3, text[-2000:]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=30) == 0
        except subprocess.TimeoutExpired:
            process.kill()
            raise


class MixedCluster(LoggedCluster):
    """A LoggedCluster whose node 3 runs with its own peer TLS settings (`bad`)."""

    def __init__(self, data_dir, good: list[str], bad: list[str], *common: str):
        self.good, self.bad = good, bad
        super().__init__(data_dir, 3, *common)

    def start(self, node_id: int) -> Server:
        log = open(self.data_dir / f"node-{node_id}.log", "a")
        server = Server(self.data_dir / f"node-{node_id}", "--node-id", str(node_id),
                        "--controller-quorum-voters", self.voters, *CLUSTER_CONFIG,
                        *self.extra_args, *(self.bad if node_id == 3 else self.good), stderr=log)
        self.nodes[node_id] = server
        return server

    def peer_lines(self) -> dict[int, int]:
        """How many log lines each node wrote about peer links so far."""
        counts = {}
        for node_id in (1, 2, 3):
            text = re.sub(r"\x1b\[[0-9;]*m", "", (self.data_dir / f"node-{node_id}.log").read_text())
            counts[node_id] = sum(1 for line in text.splitlines() if "peer" in line)
        return counts


def keystore(directory, name: str) -> Path:
    path = directory / f"{name}-keystore.pem"
    path.write_text((directory / f"{name}.key").read_text() + (directory / f"{name}.pem").read_text())
    return path


def tls_with(certs, keystore_path) -> list[str]:
    config = peer_tls_config(certs)
    config[config.index(f"listener.name.controller.ssl.keystore.location={certs / 'node-keystore.pem'}")] = \
        f"listener.name.controller.ssl.keystore.location={keystore_path}"
    return config


@pytest.mark.parametrize("case", ["not-a-super-user", "another-ca", "wrong-name"])
def test_a_refused_peer_does_not_flood_the_logs(peer_certs, data_dir, case):
    """Node 3 is misconfigured and refused after every TCP connect (its principal is not a
    super user; its certificate is of another CA; its certificate names localhost while the
    voters dial 127.0.0.1): links back off and log once per outage, the listeners rate-limit
    their refusals, and nodes 1 and 2 keep serving."""
    common: list[str] = []
    if case == "not-a-super-user":
        issue(peer_certs, "outsider", "/O=Partita Test/CN=broker", "serverAuth,clientAuth")
        bad = tls_with(peer_certs, keystore(peer_certs, "outsider"))
        common = ["--config", f"authorizer.class.name={STANDARD}",
                  "--config", f"super.users={NODE_PRINCIPAL}",
                  "--config", "allow.everyone.if.no.acl.found=true"]
    elif case == "another-ca":
        bad = tls_with(peer_certs, keystore(peer_certs / "rogue", "node"))
    else:
        if not (peer_certs / "localhost.pem").exists():
            issue(peer_certs, "localhost", NODE_SUBJECT, "serverAuth,clientAuth", san="DNS:localhost")
        bad = tls_with(peer_certs, keystore(peer_certs, "localhost"))
    cluster = MixedCluster(data_dir, peer_tls_config(peer_certs), bad, *common)
    try:
        healthy = f"{cluster.nodes[1].kafka},{cluster.nodes[2].kafka}"
        admin = AdminClient({"bootstrap.servers": healthy})
        cluster.wait_for("nodes 1 and 2 live",
                         lambda: {1, 2} <= set(admin.list_topics(timeout=5).brokers))
        before = cluster.peer_lines()
        time.sleep(5)
        after = cluster.peer_lines()
        for node_id in (1, 2, 3):
            assert after[node_id] - before[node_id] < 50, (node_id, before, after)
        if case == "wrong-name":
            # The dialling nodes say why their link to node 3 fails, at warn.
            for node_id in (1, 2):
                assert cluster.logged(node_id, "WARN", "peer 3", "TLS handshake failed",
                                      "certificate"), node_id
        # Nodes 1 and 2 keep serving: a topic on them, acks=all.
        admin.create_topics([NewTopic("healthy", num_partitions=1, replica_assignment=[[1, 2]],
                                      config={"min.insync.replicas": "2"})])["healthy"].result(30)
        cluster.wait_for("replicated", lambda: sorted(
            admin.list_topics(topic="healthy", timeout=5).topics["healthy"].partitions[0].isrs) == [1, 2])
        assert len(produce_acked(healthy, "healthy", 0, 30)) > 0
    finally:
        cluster.stop()
