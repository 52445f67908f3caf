"""Load benchmark: librdkafka (confluent-kafka) produces N messages of a given size with acks=1
to a fresh `partita serve`, then consumes them; prints msgs/s, MB/s, produce latency p50/p99
and the broker's peak RSS. Not a test: figures depend on the machine. Run via scripts/bench.sh."""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from confluent_kafka import Consumer, Producer  # noqa: E402

from conftest import Server  # noqa: E402


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(size: int, count: int, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="partita-bench-") as data_dir:
        server = Server(Path(data_dir), *extra)
        try:
            server.partita("topics", "--create", "--topic", "bench", "--partitions", "3", "--replication-factor", "1")
            producer = Producer({"bootstrap.servers": server.kafka, "acks": "1", "linger.ms": 5,
                                 "queue.buffering.max.messages": 1_000_000})
            latencies = []
            payload = b"x" * size

            def on_delivery(err, msg):
                assert err is None, err
                latencies.append(msg.latency())

            started = time.perf_counter()
            for i in range(count):
                while True:
                    try:
                        producer.produce("bench", value=payload, on_delivery=on_delivery)
                        break
                    except BufferError:
                        producer.poll(0.01)
                if i % 1000 == 0:
                    producer.poll(0)
            producer.flush(120)
            produce_s = time.perf_counter() - started
            assert len(latencies) == count

            consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "bench",
                                 "auto.offset.reset": "earliest", "fetch.min.bytes": 1})
            consumer.subscribe(["bench"])
            started = time.perf_counter()
            received = 0
            deadline = started + 120
            while received < count and time.perf_counter() < deadline:
                for msg in consumer.consume(num_messages=10_000, timeout=1.0):
                    assert msg.error() is None, msg.error()
                    received += 1
            consume_s = time.perf_counter() - started
            consumer.close()
            assert received == count, received
            rss = peak_rss_mib(server.process.pid)
        finally:
            server.stop()
    latencies.sort()
    mb = size * count / 1e6
    return {
        "size": size, "count": count, "mode": " ".join(extra) or "page-cache",
        "produce_msgs_s": count / produce_s, "produce_mb_s": mb / produce_s,
        "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * latencies[int(0.99 * (count - 1))],
        "consume_msgs_s": count / consume_s, "consume_mb_s": mb / consume_s, "peak_rss_mib": rss,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the median is printed")
    args = parser.parse_args()
    columns = ["size", "mode", "produce_msgs_s", "produce_mb_s", "p50_ms", "p99_ms",
               "consume_msgs_s", "consume_mb_s", "peak_rss_mib"]
    print(" | ".join(columns))
    for size in (100, 1024):
        for extra in ([], ["--durable"]):
            runs = [run(size, args.count, extra) for _ in range(args.repeat)]
            row = {c: statistics.median(r[c] for r in runs) if isinstance(runs[0][c], float) else runs[0][c]
                   for c in columns}
            print(" | ".join(f"{row[c]:.1f}" if isinstance(row[c], float) else str(row[c]) for c in columns),
                  flush=True)


if __name__ == "__main__":
    main()
