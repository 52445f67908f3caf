"""Histories from a real client, judged by `partita check`, and `partita chaos` runs (issue 15).

The recorder (scripts/history_recorder.py) is confluent-kafka: its sends, acknowledgements,
polls and commits, and a final read of every partition, go to a JSON-lines history that
`partita check` runs the core's checker on. The controller is node 1 and a single node until
the Raft quorum lands, so `partita chaos` never faults it."""

import json
import subprocess
import sys


from cluster import Cluster
from conftest import WORKSPACE, partita_binary

RECORDER = WORKSPACE / "scripts" / "history_recorder.py"


def record(bootstrap: str, out, phase: str, *extra: str) -> None:
    done = subprocess.run([sys.executable, str(RECORDER), phase, "--bootstrap", bootstrap,
                           "--topic", "h", "--partitions", "3", "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr


def check(path) -> tuple[int, dict]:
    done = subprocess.run([str(partita_binary()), "check", str(path), "--json"],
                          capture_output=True, text=True, timeout=60)
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else done.stderr)


def test_a_confluent_kafka_history_of_a_healthy_cluster_is_clean_and_a_dropped_record_is_lost(
        data_dir):
    cluster = Cluster(data_dir, 3)
    try:
        history = data_dir / "history.jsonl"
        record(cluster.bootstrap(), history, "workload", "--create-topic", "--duration-s", "4",
               "--acks", "all", "--idempotence")
        record(cluster.bootstrap(), history, "final")
    finally:
        cluster.stop()
    code, verdict = check(history)
    assert code == 0, verdict
    assert verdict["anomalies"] == []
    assert verdict["acknowledged"] > 100 and verdict["polled"] > 0, verdict
    lines = [json.loads(line) for line in history.read_text().splitlines()]
    assert {line["type"] for line in lines} >= {"send", "ack", "assign", "poll", "commit", "final"}

    # The same history with one acknowledged record taken out of the final read: a lost write.
    acked = next(line for line in lines if line["type"] == "ack")
    for line in lines:
        if line["type"] == "final" and line["partition"] == acked["partition"]:
            line["records"] = [r for r in line["records"] if r[1] != acked["value"]]
    broken = data_dir / "broken.jsonl"
    broken.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, verdict = check(broken)
    assert code == 1, verdict
    lost = [a for a in verdict["anomalies"] if a["kind"] == "lost-write"]
    assert [(a["value"], a["partition"], a["offset"]) for a in lost] == [
        (acked["value"], acked["partition"], acked["offset"])]


def test_check_rejects_a_bad_file_with_its_line_number(data_dir):
    bad = data_dir / "bad.jsonl"
    bad.write_text('{"type":"send","producer":"p","value":"v1"}\n{"type":"ack","value":"v1"}\n')
    done = subprocess.run([str(partita_binary()), "check", str(bad)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert "line 2" in done.stderr and "producer" in done.stderr, done.stderr


def chaos(*args: str) -> tuple[int, dict]:
    done = subprocess.run([str(partita_binary()), "chaos", "--json", "--python", sys.executable,
                           *args], capture_output=True, text=True, timeout=400)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return done.returncode, json.loads(done.stdout)


def test_chaos_acks_all_with_kills_and_pauses_is_clean():
    code, report = chaos("--duration-s", "20", "--acks", "all", "--idempotence",
                         "--faults", "kill,pause", "--seed", "1")
    assert report["anomalies"] == [], report["anomalies"][:5]
    assert code == 0
    assert report["acknowledged"] > 100, report
    assert report["faults"] and all(f["node"] != 1 for f in report["faults"]), report["faults"]


def test_chaos_refuses_faults_it_cannot_inject_yet():
    done = subprocess.run([str(partita_binary()), "chaos", "--faults", "partition"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "not available yet" in done.stderr
