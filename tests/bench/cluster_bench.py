"""Benchmark (not a test): acks=all on a local three-node cluster, replication factor 3
(min.insync.replicas=2) against replication factor 1, with confluent-kafka. Prints a table of
throughput and p50/p99 produce latency (send to acknowledgement).

    .venv/bin/python tests/bench/cluster_bench.py [--messages N] [--size BYTES]
"""

import argparse
import pathlib
import shutil
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import NewTopic  # noqa: E402

from cluster import Cluster  # noqa: E402


def run(bootstrap: str, topic: str, messages: int, size: int) -> tuple[float, float, float]:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                         "enable.idempotence": True})
    latencies, failures = [], []
    value = b"x" * size

    def delivered(sent: float):
        def callback(err, _msg):
            if err:
                failures.append(err)
            latencies.append(time.monotonic() - sent)
        return callback

    start = time.monotonic()
    for i in range(messages):
        producer.produce(topic, key=str(i).encode(), value=value, on_delivery=delivered(time.monotonic()))
        producer.poll(0)
    producer.flush(120)
    elapsed = time.monotonic() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    assert len(latencies) == messages and not failures, failures[:3]
    return messages / elapsed, pick(0.50), pick(0.99)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="partita-cluster-bench-"))
    cluster = Cluster(data_dir, 3)
    try:
        admin = cluster.admin()
        cluster.wait_for("three brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
        topics = [NewTopic("rf1", 6, 1), NewTopic("rf3", 6, 3, config={"min.insync.replicas": "2"})]
        for future in admin.create_topics(topics).values():
            future.result(30)
        cluster.wait_for("rf3 fully replicated", lambda: all(
            len(p.isrs) == 3 for p in cluster.topic("rf3").partitions.values()))
        rows = []
        for topic in ("rf1", "rf3"):
            rate, p50, p99 = run(cluster.bootstrap(), topic, args.messages, args.size)
            rows.append((topic, rate, rate * args.size / 1e6, p50, p99))
        print(f"acks=all, {args.messages} messages of {args.size} B, 6 partitions, 3 nodes on loopback")
        print(f"{'replication':<12} {'msg/s':>10} {'MB/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for topic, rate, mbs, p50, p99 in rows:
            print(f"{topic:<12} {rate:>10.0f} {mbs:>8.1f} {p50:>8.1f} {p99:>8.1f}")
    finally:
        cluster.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
