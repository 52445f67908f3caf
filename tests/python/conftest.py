"""Fixtures: a real `partita serve` on free ports, stopped after each test."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

WORKSPACE = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30


def partita_binary() -> Path:
    path = Path(os.environ.get("PARTITA_BIN", WORKSPACE / "target" / "release" / "partita"))
    if not path.exists():
        pytest.fail(f"{path} is missing: run `cargo build --release -p partita-server` first")
    return path


# Kafka waits 3 s for more members before a new group's first rebalance; tests need not.
TEST_CONFIG = ["--config", "group.initial.rebalance.delay.ms=0"]


class Server:
    def __init__(self, data_dir: Path, *extra_args: str, stderr=None):
        """`stderr`: where the server's log goes (a file, to read it back); the terminal if None."""
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [str(partita_binary()), "serve", "--data-dir", str(data_dir),
             "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", *TEST_CONFIG, *extra_args],
            stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
        self.kafka = self.http = None
        deadline = time.monotonic() + START_TIMEOUT_S
        while (self.kafka is None or self.http is None) and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if m := re.match(r"partita: kafka listening on (\S+)", line):
                self.kafka = m.group(1)
            if m := re.match(r"partita: http listening on (\S+)", line):
                self.http = m.group(1)
        if self.kafka is None or self.http is None:
            self.stop()
            pytest.fail("partita serve did not print its addresses")

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye, as a crash."""
        self.process.kill()
        self.process.wait()

    def partita(self, *args: str) -> str:
        """Runs an admin command (`partita topics ...`) against this server; returns stdout."""
        done = subprocess.run([str(partita_binary()), *args, "--bootstrap-server", self.kafka],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="partita-py-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server(data_dir):
    running = Server(data_dir)
    yield running
    running.stop()
