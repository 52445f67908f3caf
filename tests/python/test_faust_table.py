"""A stream processor's state survives compaction: a faust-streaming table app (tests/python/
apps/faust_wordcount.py) counts words into a table backed by a compacted changelog topic; after
the changelog was cleaned, a fresh worker (with an empty in-memory store) recovers every count
from it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clients import produce_all
from conftest import Server

faust = pytest.importorskip("faust")

APPS = Path(__file__).parent / "apps"
CHANGELOG = "wordcount-counts-changelog"


def start_worker(server: Server, dump: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "BOOTSTRAP": server.kafka, "DUMP": str(dump), "PYTHONPATH": str(APPS)}
    # --without-web: the worker command enables faust's web server (0.0.0.0:6066) whatever the
    # app says, so two runs at once (parallel suites) would collide on the port.
    return subprocess.Popen([sys.executable, "-m", "faust", "-A", "faust_wordcount", "worker", "-l", "warn",
                             "--without-web"],
                            env=env, cwd=APPS, stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def assert_nothing_refused(log: Path) -> None:
    """Faust logs a refused changelog write and goes on without it (its state is then lost on
    restart): any such error fails the test with its cause rather than as wrong counts later."""
    refused = [line for line in log.read_text().splitlines() if "_on_published error" in line]
    assert not refused, f"{len(refused)} changelog writes refused, first: {refused[0]}"


def wait_for_counts(dump: Path, expect: dict, worker: subprocess.Popen, log: Path, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    seen = None
    while time.monotonic() < deadline:
        assert worker.poll() is None, f"the worker exited: {log.read_text()[-3000:]}"
        if dump.exists():
            seen = json.loads(dump.read_text())
            if seen == expect:
                return seen
        time.sleep(0.3)
    raise AssertionError(f"counts {seen} != {expect}; worker log: {log.read_text()[-3000:]}")


def test_a_faust_table_recovers_its_state_from_a_compacted_changelog(data_dir, tmp_path):
    # Small segments by default (faust creates its changelog with cleanup.policy=compact and
    # Kafka's other defaults), and a cleaner that looks every 100 ms.
    server = Server(data_dir, "--config", "log.segment.bytes=600", "--config", "log.cleaner.backoff.ms=100",
                    "--config", "log.cleaner.min.cleanable.ratio=0.01")
    dump, log = tmp_path / "counts.json", tmp_path / "worker.log"
    worker = start_worker(server, dump, log)
    try:
        words = [w for _ in range(20) for w in ("apple", "pear", "plum", "fig", "kiwi")]
        produce_all({"bootstrap.servers": server.kafka, "batch.size": 400}, [("words", None, json.dumps(w).encode()) for w in words])
        expect = {w: 20 for w in ("apple", "pear", "plum", "fig", "kiwi")}
        wait_for_counts(dump, expect, worker, log)
        stop(worker)
        assert_nothing_refused(log)

        # The changelog had one record per update (100); compaction leaves far fewer.
        from test_compaction import rows  # noqa: PLC0415 (shares the reader)
        deadline = time.monotonic() + 30
        changelog = rows(server, CHANGELOG)
        while time.monotonic() < deadline and len(changelog) >= 50:
            time.sleep(0.5)
            changelog = rows(server, CHANGELOG)
        assert len(changelog) < 50, f"{len(changelog)} changelog records left"

        dump.unlink()
        log = tmp_path / "worker-restarted.log"
        worker = start_worker(server, dump, log)
        assert wait_for_counts(dump, expect, worker, log) == expect
        assert_nothing_refused(log)
    finally:
        stop(worker)
        server.stop()
