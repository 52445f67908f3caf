"""`--bootstrap-server` as a comma-separated list, as Kafka's tools take it: any listed server
bootstraps and the first that answers is used. Every admin tool is run against a three-node
cluster with a list whose first entry is a dead port and the second a live broker; a list of
dead ports only fails naming each."""

import subprocess

import pytest

from cluster import Cluster, free_ports
from conftest import partita_binary
from test_cluster_admin import create


@pytest.fixture
def cluster(data_dir):
    # The authorizer on (anyone allowed while no ACL names a resource), for `acls`.
    running = Cluster(data_dir, 3, "--config",
                      "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                      "--config", "allow.everyone.if.no.acl.found=true")
    yield running
    running.stop()


def run(bootstrap: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(partita_binary()), *args, "--bootstrap-server", bootstrap],
                          input="", capture_output=True, text=True, timeout=120)


def test_every_tool_bootstraps_from_the_first_live_server_of_a_list(cluster):
    create(cluster, "existing", 3, 3)
    (dead,) = free_ports(1)  # nothing listens on it
    nodes = list(cluster.nodes.values())
    listed = f"127.0.0.1:{dead},{nodes[1].kafka},{nodes[2].kafka}"

    def ok(*args: str) -> str:
        done = run(listed, *args)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    ok("topics", "--create", "--topic", "listed", "--partitions", "3", "--replication-factor", "3")
    assert "listed" in ok("topics", "--list").split()
    assert "Topic: listed" in ok("topics", "--describe", "--topic", "listed")
    ok("configs", "--alter", "--entity-type", "topics", "--entity-name", "listed",
       "--add-config", "retention.ms=3600000")
    assert "retention.ms=3600000" in ok("configs", "--describe", "--entity-type", "topics",
                                        "--entity-name", "listed")
    assert "broker" in ok("log-dirs", "--describe", "--topic-list", "listed")
    assert "LeaderId" in ok("quorum", "--describe", "--status")
    ok("acls", "--add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "guarded")
    assert "User:alice" in ok("acls", "--list", "--topic", "guarded")
    ok("transactions", "--list")
    produced = run(listed, "produce", "--topic", "listed")
    assert produced.returncode == 0, produced.stderr
    ok("groups", "--list")
    ok("topics", "--delete", "--topic", "listed")


def test_a_list_of_dead_servers_fails_naming_each():
    first, second = free_ports(2)
    done = run(f"127.0.0.1:{first},127.0.0.1:{second}", "topics", "--list")
    assert done.returncode != 0
    assert f"127.0.0.1:{first}" in done.stderr and f"127.0.0.1:{second}" in done.stderr, done.stderr
