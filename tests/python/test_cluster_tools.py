"""partita's own console and group tools against a three-node cluster whose partition leaders are
spread over the nodes, as kafka-console-producer/consumer and kafka-consumer-groups.sh behave:

- `partita produce` sends each partition's batch to its leader, and `partita consume` (with and
  without `--group`) fetches and lists offsets at each leader, whichever node it bootstraps from;
- `partita groups --describe` fills LOG-END-OFFSET and LAG of every partition (ListOffsets at each
  partition's leader) and `--reset-offsets --execute` works through any node (the group's
  coordinator found with FindCoordinator);
- `--reset-offsets --topic nosuch` is refused and does not create the topic, while produce and
  consume let the broker create the topics they name, as Kafka's console clients do;
- a leader SIGKILLed between two produce runs: the second run retries on the new leaders and
  loses nothing, and `transactions list` lists what the live brokers answer."""

import re
import subprocess

import pytest

from cluster import Cluster
from conftest import partita_binary
from test_cluster_admin import create

TOPIC = "orders"
PARTITIONS = 6


@pytest.fixture
def cluster(data_dir):
    running = Cluster(data_dir, 3)
    yield running
    running.stop()


def partita(node, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([str(partita_binary()), *args, "--bootstrap-server", node.kafka],
                          input=stdin, capture_output=True, text=True, timeout=120)


def ok(node, *args: str, stdin: str = "") -> str:
    done = partita(node, *args, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


def leaders(cluster: Cluster, topic: str) -> dict[int, int]:
    """Each partition's leader, once a live node's metadata names one for every partition."""
    def led():
        found = {i: p.leader for i, p in cluster.topic(topic).partitions.items()}
        return found if len(found) == PARTITIONS and min(found.values()) >= 0 else None
    return cluster.wait_for(f"a leader for each partition of {topic}", led)


def describe_rows(node, group: str) -> list[list[str]]:
    """The rows of `groups --describe` (header dropped), each split into its columns."""
    lines = [line.split() for line in ok(node, "groups", "--describe", "--group", group).splitlines()]
    return [cols for cols in lines if cols and cols[0] == group]


def test_console_and_group_tools_follow_spread_leaders(cluster):
    create(cluster, TOPIC, PARTITIONS, 3)
    spread = leaders(cluster, TOPIC)
    assert len(set(spread.values())) > 1, spread  # otherwise the test proves nothing
    nodes = list(cluster.nodes.values())

    # Produce through one node: every partition gets records, whoever leads it.
    lines = [f"k{i}:v{i}" for i in range(60)]
    done = partita(nodes[0], "produce", "--topic", TOPIC, "--key-separator", ":",
                   stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    assert "produced 60 messages" in done.stderr

    # Without a group, from each node: every record, key and value.
    for node in nodes:
        printed = ok(node, "consume", "--topic", TOPIC, "--from-beginning", "--print-key",
                     "--max-messages", "60", "--timeout-ms", "3000")
        assert sorted(printed.splitlines()) == sorted(line.replace(":", "\t") for line in lines)

    # One partition led by a node other than the one asked.
    other = next(p for p, leader in spread.items() if cluster.nodes[leader] is not nodes[0])
    one = ok(nodes[0], "consume", "--topic", TOPIC, "--partition", str(other), "--from-beginning",
             "--timeout-ms", "2000").splitlines()
    assert one and set(one) <= {f"v{i}" for i in range(60)}

    # As a group member through a node: everything, committed on the way out.
    printed = ok(nodes[1], "consume", "--topic", TOPIC, "--group", "billing", "--from-beginning",
                 "--max-messages", "60", "--timeout-ms", "3000")
    assert sorted(printed.splitlines()) == sorted(f"v{i}" for i in range(60))

    # Describe through every node: each partition's LOG-END-OFFSET and LAG are filled in.
    for node in nodes:
        rows = describe_rows(node, "billing")
        assert sorted(int(r[2]) for r in rows) == list(range(PARTITIONS)), rows
        for r in rows:
            current, end, lag = r[3], r[4], r[5]
            assert current != "-" and end != "-" and lag != "-", rows
            assert int(lag) == 0 and int(current) == int(end), rows
        assert sum(int(r[4]) for r in rows) == 60

    # More records: the lag is what the group has not read.
    done = partita(nodes[2], "produce", "--topic", TOPIC, stdin="".join(f"w{i}\n" for i in range(12)))
    assert done.returncode == 0, done.stderr
    assert sum(int(r[5]) for r in describe_rows(nodes[0], "billing")) == 12

    # Reset through every node (the coordinator among them): dry run, then executed.
    for node in nodes:
        plan = ok(node, "groups", "--reset-offsets", "--group", "billing", "--topic", TOPIC,
                  "--to-earliest")
        assert "Dry run" in plan
        assert len([line for line in plan.splitlines() if line.startswith("billing")]) == PARTITIONS
    executed = ok(nodes[2], "groups", "--reset-offsets", "--group", "billing", "--topic", TOPIC,
                  "--to-earliest", "--execute")
    assert all(line.split()[3] == "0" for line in executed.splitlines() if line.startswith("billing"))
    for node in nodes:
        rows = describe_rows(node, "billing")
        assert sum(int(r[5]) for r in rows) == 72 and all(r[3] == "0" for r in rows), rows

    # The group reads everything again from the reset offsets.
    printed = ok(nodes[0], "consume", "--topic", TOPIC, "--group", "billing", "--max-messages", "72",
                 "--timeout-ms", "3000")
    assert len(printed.splitlines()) == 72


def test_reset_offsets_refuses_an_unknown_topic_and_does_not_create_it(cluster):
    create(cluster, TOPIC, 2, 3)
    node = cluster.nodes[1]
    done = partita(node, "groups", "--reset-offsets", "--group", "g", "--topic", "nosuch",
                   "--to-earliest")
    assert done.returncode != 0
    assert "topic nosuch does not exist" in done.stderr and "UNKNOWN_TOPIC_OR_PARTITION" in done.stderr
    assert "nosuch" not in ok(node, "topics", "--list").split()

    # The console clients let a broker that creates topics on use create them, as Kafka's do,
    # and wait for the new topic's leaders.
    ok(node, "consume", "--topic", "doesnotexist", "--timeout-ms", "500")
    assert "doesnotexist" in ok(node, "topics", "--list").split()
    done = partita(node, "produce", "--topic", "fresh", stdin="a\nb\n")
    assert done.returncode == 0, done.stderr
    assert ok(node, "consume", "--topic", "fresh", "--from-beginning", "--timeout-ms", "2000").split() == ["a", "b"]


def test_produce_retries_on_new_leaders_after_a_leader_is_killed(cluster):
    create(cluster, TOPIC, PARTITIONS, 3)
    spread = leaders(cluster, TOPIC)
    # The victim leads partitions; the tools bootstrap from a survivor.
    victim = max(set(spread.values()), key=lambda n: list(spread.values()).count(n))
    survivor = next(node for node_id, node in cluster.nodes.items() if node_id != victim)

    first = [f"a{i}" for i in range(30)]
    assert partita(survivor, "produce", "--topic", TOPIC, stdin="\n".join(first) + "\n").returncode == 0
    cluster.nodes[victim].kill()
    # transactions list answers from the live brokers; the dead one, while the metadata still
    # lists it (until it is fenced), is named in a warning instead of failing the command.
    listed = partita(survivor, "transactions", "--list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("TransactionalId")
    for warning in re.findall(r"warning: could not list the transactions of broker (\d+)", listed.stderr):
        assert int(warning) == victim

    # Right away: the victim still leads in the metadata until it is fenced; the run retries.
    second = [f"b{i}" for i in range(30)]
    done = partita(survivor, "produce", "--topic", TOPIC, stdin="\n".join(second) + "\n")
    assert done.returncode == 0, done.stderr
    assert "produced 30 messages" in done.stderr

    # Every record of both runs (a batch sent again after a lost connection may appear twice).
    printed = ok(survivor, "consume", "--topic", TOPIC, "--from-beginning", "--timeout-ms", "3000")
    assert set(printed.splitlines()) == set(first + second)

    # A group over the surviving leaders, then described with every lag filled in.
    ok(survivor, "consume", "--topic", TOPIC, "--group", "after-kill", "--from-beginning",
       "--timeout-ms", "3000")
    rows = describe_rows(survivor, "after-kill")
    assert len(rows) == PARTITIONS and all(r[5] == "0" for r in rows), rows
