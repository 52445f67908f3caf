"""`partita consume --group`, the console consumer as a group member: it resumes from the
group's committed offsets, commits what it printed, and shares partitions with other members."""

import re
import subprocess
import time

from confluent_kafka.admin import AdminClient, NewTopic

from clients import produce_all
from conftest import partita_binary

MESSAGES = 30
JOIN_TIMEOUT_S = 30


def consume_args(server, group: str, *extra: str) -> list[str]:
    return [str(partita_binary()), "consume", "--bootstrap-server", server.kafka,
            "--topic", "lines", "--group", group, "--from-beginning", *extra]


def create_and_fill(server, count: int, first: int = 0) -> set[str]:
    admin = AdminClient({"bootstrap.servers": server.kafka})
    if "lines" not in admin.list_topics(timeout=10).topics:
        admin.create_topics([NewTopic("lines", 3, 1)])["lines"].result(10)
    values = [f"line-{i}" for i in range(first, first + count)]
    produce_all({"bootstrap.servers": server.kafka},
                [("lines", str(i).encode(), v.encode()) for i, v in enumerate(values)])
    return set(values)


def committed_and_lag(server, group: str) -> tuple[int, int]:
    """Sums of CURRENT-OFFSET and LAG over the partitions `partita groups --describe` lists."""
    out = server.partita("groups", "--describe", "--group", group)
    rows = [line.split() for line in out.splitlines() if line.startswith(group)]
    return sum(int(r[3]) for r in rows), sum(int(r[5]) for r in rows)


def test_a_group_member_resumes_from_what_it_committed(server):
    values = create_and_fill(server, MESSAGES)
    first = subprocess.run(consume_args(server, "console", "--max-messages", "12",
                                        "--timeout-ms", "3000"),
                           capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    first_lines = first.stdout.split()
    assert len(first_lines) == 12
    assert "joined group console with lines-0, lines-1, lines-2" in first.stderr
    assert committed_and_lag(server, "console") == (12, MESSAGES - 12)

    second = subprocess.run(consume_args(server, "console", "--timeout-ms", "2000"),
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    second_lines = second.stdout.split()
    assert len(second_lines) == MESSAGES - 12, "nothing printed twice, nothing skipped"
    assert set(first_lines) | set(second_lines) == values
    assert committed_and_lag(server, "console") == (MESSAGES, 0)


def wait_for_join(process: subprocess.Popen, group: str) -> str:
    """Reads the member's stderr until it says which partitions it joined with."""
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if m := re.search(rf"joined group {group} with (.*)", line):
            return m.group(1)
    raise AssertionError("the member never joined")


def test_two_members_share_the_partitions(server):
    create_and_fill(server, 0)
    a = subprocess.Popen(consume_args(server, "duo", "--timeout-ms", "6000"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    b = None
    try:
        assert wait_for_join(a, "duo") == "lines-0, lines-1, lines-2"
        b = subprocess.Popen(consume_args(server, "duo", "--timeout-ms", "6000"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        b_partitions = wait_for_join(b, "duo")
        a_partitions = wait_for_join(a, "duo")
        assert sorted(f"{a_partitions}, {b_partitions}".split(", ")) == ["lines-0", "lines-1", "lines-2"]
        values = create_and_fill(server, MESSAGES)
        a_lines = a.communicate(timeout=60)[0].split()
        b_lines = b.communicate(timeout=60)[0].split()
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.kill()
    assert a_lines and b_lines, "each member read its own partitions"
    assert sorted(a_lines + b_lines) == sorted(values), "every line once"


def test_a_failed_produce_run_says_how_many_records_were_acknowledged(server):
    """A run that fails part way names how many of the records read were acknowledged before
    the failure (here: a batch over the topic's max.message.bytes, after a full batch of 500)."""
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic("small", 1, 1, config={"max.message.bytes": "20000"})])["small"].result(10)
    lines = "".join(f"short-{i}\n" for i in range(500)) + "x" * 30000 + "\n"
    done = subprocess.run([str(partita_binary()), "produce", "--bootstrap-server", server.kafka,
                           "--topic", "small"], input=lines, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "500 of the 501 messages read were acknowledged before this failure" in done.stderr, done.stderr
    assert "MESSAGE_TOO_LARGE" in done.stderr or "RECORD_LIST_TOO_LARGE" in done.stderr, done.stderr
