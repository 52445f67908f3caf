"""Compaction of compressed batches: a compacted topic written by a producer with
`compression.type` gzip, snappy, lz4 or zstd shrinks once the log cleaner ran, every key's latest
value is read back at the offset it was written at, and what the cleaner kept is still compressed
with the producer's codec."""

import os
import struct
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer

from conftest import Server
from test_compaction import CLEANER, create, rows, wait_for

# Kafka's codec ids (record batch attributes, bits 0-2).
CODEC_IDS = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
KEYS = 10
ROUNDS = 8


def batches(partition_dir: Path) -> list:
    """(base offset, record count, codec id, bytes) of every batch in the partition's segments."""
    out = []
    for segment in sorted(partition_dir.glob("*.log")):
        data = segment.read_bytes()
        pos = 0
        while pos + 61 <= len(data):
            base, length = struct.unpack(">qi", data[pos:pos + 12])
            (attributes,) = struct.unpack(">h", data[pos + 21:pos + 23])
            (count,) = struct.unpack(">i", data[pos + 57:pos + 61])
            out.append((base, count, attributes & 0b111, 12 + length))
            pos += 12 + length
    return out


def log_bytes(partition_dir: Path) -> int:
    return sum(segment.stat().st_size for segment in partition_dir.glob("*.log"))


@pytest.mark.parametrize("codec", sorted(CODEC_IDS))
def test_a_compacted_topic_of_compressed_batches_shrinks_and_keeps_the_latest_values(data_dir, codec):
    topic = f"state-{codec}"
    partition_dir = data_dir / f"{topic}-0"
    # Written with the cleaner off, so the size before cleaning is known exactly.
    server = Server(data_dir, "--config", "log.cleaner.enable=false")
    try:
        create(server, topic, "cleanup.policy=compact", "segment.bytes=4000", "segment.ms=100",
               "min.cleanable.dirty.ratio=0.01", "delete.retention.ms=600000")
        producer = Producer({"bootstrap.servers": server.kafka, "compression.type": codec,
                             "linger.ms": 50, "enable.idempotence": True})
        written = {}

        def on_delivery(err, msg):
            assert err is None, err
            written[msg.offset()] = (msg.key(), msg.value())

        # One batch per round: every key once (the last round only half of them, so the
        # round before keeps half its records: rewritten and recompressed), values long
        # enough that they dominate the log (hex: compressible, not to nothing).
        for round_ in range(ROUNDS):
            for k in range(KEYS if round_ < ROUNDS - 1 else KEYS // 2):
                value = f"value {round_} of key {k} ".encode() + os.urandom(100).hex().encode()
                producer.produce(topic, key=f"k{k}".encode(), value=value, on_delivery=on_delivery)
            producer.flush(10)
        # Keyed fillers, each after segment.ms, close the segment holding the last round, so it
        # can be cleaned too.
        for i in range(6):
            time.sleep(0.15)
            producer.produce(topic, key=f"filler{i}".encode(), value=b"x" * 200, on_delivery=on_delivery)
            producer.flush(10)
        assert len(written) == KEYS * (ROUNDS - 1) + KEYS // 2 + 6
        stored = batches(partition_dir)
        assert all(c == CODEC_IDS[codec] for _, _, c, _ in stored), f"the producer compressed: {stored}"
        rounds_bytes = sum(size for base, _, _, size in stored if base < KEYS * ROUNDS - KEYS // 2)
        before = log_bytes(partition_dir)
    finally:
        server.stop()

    latest = {}
    for offset, (key, value) in sorted(written.items()):
        latest[key] = (offset, value)
    expect = sorted((offset, key, value) for key, (offset, value) in latest.items())

    server = Server(data_dir, *CLEANER)
    try:
        got = wait_for(lambda: (r := rows(server, topic)) == expect and r,
                       f"the cleaner to keep only the latest value of each key ({codec})")
        assert all(written[o] == (k, v) for o, k, v in got), "offsets unchanged"
        after = log_bytes(partition_dir)
        assert before - after > rounds_bytes / 2, \
            f"the log shrank by most of the rounds' {rounds_bytes} bytes: {before} -> {after} bytes"
        kept = [(base, count, c) for base, count, c, _ in batches(partition_dir) if count > 0]
        assert any(count == KEYS - KEYS // 2 for _, count, _ in kept), \
            f"the round before the last was rewritten with the keys it still holds: {kept}"
        assert all(c == CODEC_IDS[codec] for _, _, c in kept), \
            f"rewritten batches keep the producer's codec: {kept}"
        # A fresh producer with the same codec still writes and is read after the cleaning.
        producer = Producer({"bootstrap.servers": server.kafka, "compression.type": codec})
        producer.produce(topic, key=b"k0", value=b"after")
        producer.flush(10)
        assert rows(server, topic)[-1][1:] == (b"k0", b"after")
    finally:
        server.stop()
