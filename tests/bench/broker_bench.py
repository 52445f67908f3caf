"""The broker benchmark: a fresh `partita serve` pinned to one core, the compiled load
generator (tests/bench/loadgen, librdkafka) pinned to the other, and beside each figure the
machine's own limit measured in the same run. Prints one table. Not a test: the figures depend
on the machine. Run via scripts/bench.sh (which builds both binaries).

Measured:
- produce MB/s (acks=1, as fast as librdkafka sends) and consume MB/s (partitions assigned,
  no group join), with 100-byte and 1 KiB messages, --total-mb of each;
- produce latency p50/p99/p99.9 at a fixed rate (--rate messages/s of 1 KiB for --latency-s),
  each message timed from when it was due, so stalls are not hidden;
- the broker's CPU-seconds per GB written (utime+stime from /proc/PID/stat) and its peak RSS
  (VmHWM from /proc/PID/status);
- the limits: sequential buffered write and fdatasync write of the data directory's disk
  (dd), and loopback TCP (the load generator's tcp-pump).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from conftest import Server  # noqa: E402

WORKSPACE = Path(__file__).resolve().parents[2]
LOADGEN = Path(os.environ.get("PARTITA_LOADGEN",
                              WORKSPACE / "target" / "loadgen" / "release" / "partita-loadgen"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PARTITIONS = 3
RUN_TIMEOUT_S = 1800


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pinned(core: str | None, command: list[str]) -> list[str]:
    return ["taskset", "-c", core, *command] if core is not None else command


def loadgen(core: str | None, *args: str) -> dict:
    done = subprocess.run(pinned(core, [str(LOADGEN), *args]), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    if done.returncode != 0:
        raise SystemExit(f"partita-loadgen {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def dd_mb_per_s(path: Path, megabytes: int, sync_flag: str | None) -> float:
    """dd's own figure for writing `megabytes` of zeros to `path`."""
    command = ["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={megabytes}"]
    if sync_flag:
        command.append(f"conv={sync_flag}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    path.unlink(missing_ok=True)
    # "... bytes (...) copied, 1.234 s, 567 MB/s"
    match = re.search(r"copied, ([\d.]+) s", done.stderr)
    if not match:
        raise SystemExit(f"dd printed no figure: {done.stderr}")
    return megabytes * 1.048576 / float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-mb", type=int, default=1024,
                        help="megabytes produced (and consumed) per message size")
    parser.add_argument("--rate", type=int, default=20_000,
                        help="messages/s of the fixed-rate latency run (1 KiB each)")
    parser.add_argument("--latency-s", type=int, default=20)
    parser.add_argument("--broker-core", default="0")
    parser.add_argument("--loadgen-core", default="1")
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    args = parser.parse_args()
    broker_core = None if args.no_pin else args.broker_core
    gen_core = None if args.no_pin else args.loadgen_core
    total_bytes = args.total_mb * 1_000_000

    with tempfile.TemporaryDirectory(prefix="partita-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        data_dir = Path(tmp) / "data"
        rows = []
        limits = {
            "buffered": dd_mb_per_s(Path(tmp) / "dd.bin", args.total_mb, None),
            "fdatasync": dd_mb_per_s(Path(tmp) / "dd.bin", args.total_mb, "fdatasync"),
            "loopback": loadgen(None, "tcp-pump", "--total-bytes", str(4 * total_bytes))["mb_per_s"],
        }
        server = Server(data_dir)
        try:
            pid = server.process.pid
            if broker_core is not None:
                subprocess.run(["taskset", "-a", "-p", "-c", broker_core, str(pid)],
                               check=True, capture_output=True)
            bootstrap = server.kafka
            for size in (100, 1024):
                topic = f"bench-{size}"
                server.partita("topics", "--create", "--topic", topic, "--partitions",
                               str(PARTITIONS), "--replication-factor", "1")
                cpu_before = cpu_seconds(pid)
                produced = loadgen(gen_core, "produce", "--bootstrap-server", bootstrap,
                                   "--topic", topic, "--message-bytes", str(size),
                                   "--total-bytes", str(total_bytes))
                cpu_per_gb = (cpu_seconds(pid) - cpu_before) / (produced["bytes"] / 1e9)
                consumed = loadgen(gen_core, "consume", "--bootstrap-server", bootstrap,
                                   "--topic", topic, "--messages", str(produced["messages"]))
                rows.append((f"produce {size} B, acks=1", f"{produced['mb_per_s']:.0f} MB/s "
                             f"({produced['msgs_per_s'] / 1e6:.2f} M msg/s)",
                             f"disk {limits['buffered']:.0f} MB/s buffered, "
                             f"{limits['fdatasync']:.0f} MB/s fdatasync",
                             f"{cpu_per_gb:.1f}"))
                rows.append((f"consume {size} B", f"{consumed['mb_per_s']:.0f} MB/s "
                             f"({consumed['msgs_per_s'] / 1e6:.2f} M msg/s)",
                             f"loopback TCP {limits['loopback']:.0f} MB/s", ""))
            topic = "bench-latency"
            server.partita("topics", "--create", "--topic", topic, "--partitions",
                           str(PARTITIONS), "--replication-factor", "1")
            cpu_before = cpu_seconds(pid)
            fixed = loadgen(gen_core, "produce", "--bootstrap-server", bootstrap, "--topic", topic,
                            "--message-bytes", "1024", "--rate", str(args.rate),
                            "--total-bytes", str(args.rate * args.latency_s * 1024))
            cpu_per_gb = (cpu_seconds(pid) - cpu_before) / (fixed["bytes"] / 1e9)
            latency = fixed["latency_ms"]
            rows.append((f"produce latency at {args.rate} msg/s x 1 KiB",
                         f"p50 {latency['p50']:.2f} / p99 {latency['p99']:.2f} / "
                         f"p99.9 {latency['p999']:.2f} ms",
                         f"{fixed['mb_per_s']:.0f} MB/s offered", f"{cpu_per_gb:.1f}"))
            rss = peak_rss_mib(pid)
        finally:
            server.stop()

    pin = "unpinned" if args.no_pin else f"broker on core {args.broker_core}, " \
                                         f"load generator on core {args.loadgen_core}"
    print(f"partita serve under librdkafka (partita-loadgen), {PARTITIONS} partitions, "
          f"{args.total_mb} MB per size, {pin}")
    header = ("run", "broker", "machine limit (same run)", "broker CPU-s/GB")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"broker peak RSS (VmHWM): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
