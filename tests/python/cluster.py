"""A real cluster of `partita serve` processes on loopback, for the replication tests: each
node on free ports, every node listed in `--controller-quorum-voters` (each a voter of the controller
quorum), stopped by pid at the end."""

import socket
import time
from pathlib import Path

from confluent_kafka.admin import AdminClient

from conftest import Server

# Fast failure detection, so a test sees a dead broker fenced in seconds (Kafka's defaults are
# a 2 s heartbeat and a 9 s session).
CLUSTER_CONFIG = [
    "--config", "broker.heartbeat.interval.ms=300",
    "--config", "broker.session.timeout.ms=3000",
    "--config", "replica.lag.time.max.ms=5000",
    # A fetch sent to a leader that was down is dropped on the way; the follower sends it again
    # after this (Kafka fails fast on a refused connection; the node has no such input yet).
    "--config", "replica.socket.timeout.ms=2000",
]
WAIT_S = 30


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: every socket stays bound until all are picked, so the kernel
    cannot hand out the same port twice (it did once: two voters on one port)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Cluster:
    def __init__(self, data_dir: Path, nodes: int, *extra_args: str):
        """`extra_args` go to every node's `partita serve` (SASL users, ACL configs, ...)."""
        self.extra_args = extra_args
        ports = dict(zip(range(1, nodes + 1), free_ports(nodes)))
        self.voters = ",".join(f"{i}@127.0.0.1:{p}" for i, p in ports.items())
        self.data_dir = data_dir
        self.nodes: dict[int, Server] = {}
        try:
            for node_id in ports:
                self.start(node_id)
        except BaseException:
            self.stop()
            raise

    def start(self, node_id: int) -> Server:
        self.nodes[node_id] = Server(self.data_dir / f"node-{node_id}", "--node-id", str(node_id),
                                     "--controller-quorum-voters", self.voters, *CLUSTER_CONFIG,
                                     *self.extra_args)
        return self.nodes[node_id]

    def bootstrap(self) -> str:
        return ",".join(n.kafka for n in self.nodes.values() if n.process.poll() is None)

    def admin(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap()})

    def wait_for(self, what: str, check, timeout_s: float = WAIT_S):
        """Polls `check()` (metadata from a live node) until it returns something truthy."""
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            try:
                last = check()
            except Exception as e:  # a node going away mid-request: ask again
                last = e
            if last and not isinstance(last, Exception):
                return last
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; last: {last!r}")

    def topic(self, name: str):
        """The topic's metadata, as a live node answers it."""
        return self.admin().list_topics(topic=name, timeout=5).topics[name]

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
