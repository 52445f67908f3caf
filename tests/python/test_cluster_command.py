"""`partita cluster --nodes 3`: three `partita serve` children that form one cluster, and all
of them stopped when the command gets SIGTERM."""

import os
import re
import signal
import subprocess
import time

from confluent_kafka.admin import AdminClient, NewTopic

from clients import consume, produce_all
from confluent_kafka import Consumer, KafkaException
from conftest import partita_binary


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose; `ps` says Z.
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout
    return bool(state.strip()) and not state.strip().startswith("Z")


def test_cluster_command_starts_three_nodes_and_stops_them(data_dir):
    process = subprocess.Popen([str(partita_binary()), "cluster", "--nodes", "3", "--any-ports",
                                "--data-dir", str(data_dir),
                                "--config", "group.initial.rebalance.delay.ms=0"],
                               stdout=subprocess.PIPE, text=True)
    pids = []
    try:
        bootstrap, nodes = None, {}
        deadline = time.monotonic() + 60
        while len(nodes) < 3 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if m := re.match(r"partita: bootstrap servers (\S+)", line):
                bootstrap = m.group(1)
            if m := re.match(r"partita: node (\d+) pid (\d+) kafka (\S+) http (\S+)", line):
                nodes[int(m.group(1))] = m.group(3)
                pids.append(int(m.group(2)))
        assert bootstrap and sorted(nodes) == [1, 2, 3], "the cluster printed its addresses"
        assert bootstrap.split(",") == [nodes[1], nodes[2], nodes[3]]

        admin = AdminClient({"bootstrap.servers": bootstrap})
        deadline = time.monotonic() + 30
        def brokers() -> int:
            try:  # before a controller is elected, Metadata names no broker
                return len(admin.list_topics(timeout=5).brokers)
            except KafkaException:
                return 0

        while brokers() < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sorted(admin.list_topics(timeout=5).brokers) == [1, 2, 3]
        admin.create_topics([NewTopic("orders", 3, 3)])["orders"].result(30)
        produce_all({"bootstrap.servers": bootstrap, "acks": "all"},
                    [("orders", f"k{i}".encode(), f"v{i}".encode()) for i in range(30)])
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "g",
                             "auto.offset.reset": "earliest"})
        consumer.subscribe(["orders"])
        got = consume(consumer, 30)
        consumer.close()
        assert sorted(m.value() for m in got) == sorted(f"v{i}".encode() for i in range(30))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            for pid in pids:
                if running(pid):
                    os.kill(pid, signal.SIGKILL)
            raise
    assert code == 0
    assert not any(running(pid) for pid in pids), "every child stopped with the command"
