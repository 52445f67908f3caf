"""SCRAM credentials in a three-node cluster: they are metadata records, committed by the
controller quorum and applied by every node, so a credential created through one node (a
non-controller forwards AlterUserScramCredentials to the active controller, KIP-590) logs in
at every other, and a deletion stops it everywhere."""

import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import (AdminClient, ScramCredentialInfo, ScramMechanism,
                                   UserScramCredentialDeletion, UserScramCredentialUpsertion)

from cluster import CLUSTER_CONFIG, WAIT_S, Cluster
from conftest import Server
from test_scram import ADMIN, SCRAM_CONFIG, logs_in, scram


class ScramCluster(Cluster):
    """Every node a SASL_PLAINTEXT listener with SCRAM, `admin` created by `--add-scram`."""

    def start(self, node_id: int) -> Server:
        self.nodes[node_id] = Server(self.data_dir / f"node-{node_id}", "--node-id", str(node_id),
                                     "--controller-quorum-voters", self.voters, *CLUSTER_CONFIG,
                                     *SCRAM_CONFIG)
        return self.nodes[node_id]


def eventually(what: str, check) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def controller_id(node: Server) -> int:
    admin = AdminClient(scram(node))
    return admin.describe_cluster(request_timeout=10).result(10).controller.id


def test_a_credential_made_at_one_node_logs_in_at_the_others(data_dir):
    cluster = ScramCluster(data_dir, 3)
    try:
        for node in cluster.nodes.values():
            eventually(f"admin logs in at {node.kafka}", lambda node=node: logs_in(scram(node)))
        # Through a node that is not the active controller: it forwards.
        controller = controller_id(cluster.nodes[1])
        via = next(n for i, n in cluster.nodes.items() if i != controller)
        admin = AdminClient({**scram(via), "bootstrap.servers": via.kafka})
        futures = admin.alter_user_scram_credentials([UserScramCredentialUpsertion(
            "grace", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), b"grace-pw")])
        futures["grace"].result(30)
        for node in cluster.nodes.values():
            login = scram(node, "SCRAM-SHA-512", user="grace", password="grace-pw")
            eventually(f"grace logs in at {node.kafka}", lambda login=login: logs_in(login))
            assert not logs_in({**login, "sasl.password": "wrong"})

        futures = admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion("grace", ScramMechanism.SCRAM_SHA_512)])
        futures["grace"].result(30)
        for node in cluster.nodes.values():
            login = scram(node, "SCRAM-SHA-512", user="grace", password="grace-pw")
            eventually(f"grace refused at {node.kafka}", lambda login=login: not logs_in(login))
        # Deleting it again: RESOURCE_NOT_FOUND from the controller, through the forward.
        futures = admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion("grace", ScramMechanism.SCRAM_SHA_512)])
        try:
            futures["grace"].result(30)
            raise AssertionError("a second deletion succeeded")
        except KafkaException as e:
            assert e.args[0].name() == "RESOURCE_NOT_FOUND", e
    finally:
        cluster.stop()


def test_add_scram_on_a_restarted_node_keeps_a_password_changed_since(data_dir):
    """`--add-scram` creates a credential only if the active controller has none of that
    mechanism: the restarted former controller, whose own image is not caught up when its flag
    runs, must not put back the password it was first started with."""
    cluster = ScramCluster(data_dir, 3)
    try:
        for node in cluster.nodes.values():
            eventually(f"admin logs in at {node.kafka}", lambda node=node: logs_in(scram(node)))
        controller = controller_id(cluster.nodes[1])
        via = next(n for i, n in cluster.nodes.items() if i != controller)
        admin = AdminClient({**scram(via), "bootstrap.servers": via.kafka})
        admin.alter_user_scram_credentials([UserScramCredentialUpsertion(
            ADMIN, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), b"changed-pw")])[ADMIN].result(30)

        def changed_everywhere() -> bool:
            return all(logs_in(scram(n, "SCRAM-SHA-512", password="changed-pw"))
                       and not logs_in(scram(n, "SCRAM-SHA-512"))
                       for n in cluster.nodes.values() if n.process.poll() is None)
        eventually("the changed password at every node", changed_everywhere)

        cluster.nodes[controller].kill()
        cluster.start(controller)
        restarted = cluster.nodes[controller]
        eventually("the restarted node knows the changed password",
                   lambda: logs_in(scram(restarted, "SCRAM-SHA-512", password="changed-pw")))
        # Its --add-scram has run by now or runs within these seconds; whenever it does, the
        # controller keeps the changed password.
        for _ in range(10):
            assert changed_everywhere(), "--add-scram put back the first password"
            time.sleep(0.5)
    finally:
        cluster.stop()
