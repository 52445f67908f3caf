"""Keyless records inside compressed batches on a compacted topic (issue 20): the broker opens the
batch at append and refuses it with INVALID_RECORD, as Kafka's LogValidator does, instead of
acknowledging records that the log cleaner would later drop; keyed records of other batches are
kept through the cleaning, at the offsets they were acknowledged with."""

import time

import pytest
from confluent_kafka import KafkaError, Producer

from conftest import Server
from test_compaction import CLEANER, create, rows, wait_for
from test_compaction_compressed import CODEC_IDS, batches

KEYS = 8


def value(round_: int, key: int) -> bytes:
    # Repetitive, so the producer's batch really is smaller compressed.
    return (f"round {round_} of key {key}; " * 8).encode()


@pytest.mark.parametrize("codec", sorted(CODEC_IDS))
def test_keyless_records_in_a_compressed_batch_are_refused_and_keyed_ones_kept(data_dir, codec):
    topic = f"state-{codec}"
    server = Server(data_dir, *CLEANER)
    try:
        create(server, topic, "cleanup.policy=compact", "segment.bytes=100000", "segment.ms=100",
               "min.cleanable.dirty.ratio=0.01")
        producer = Producer({"bootstrap.servers": server.kafka, "compression.type": codec,
                             "linger.ms": 100})

        def one_batch(records: list) -> list:
            """Produces `records` as one batch (one flush, one partition); every delivery report."""
            reports = []
            for key, val in records:
                producer.produce(topic, key=key, value=val,
                                 on_delivery=lambda err, msg: reports.append((err, msg)))
            assert producer.flush(30) == 0
            assert len(reports) == len(records)
            return reports

        first = one_batch([(f"k{k}".encode(), value(0, k)) for k in range(KEYS)])
        assert [err for err, _ in first] == [None] * KEYS
        assert [msg.offset() for _, msg in first] == list(range(KEYS))

        # Keyed and keyless records in one compressed batch: the whole batch is refused and none
        # of it is acknowledged. The answer names the keyless records by index (Kafka's record
        # errors): librdkafka fails those with INVALID_RECORD (not retriable) and the others with
        # "an invalid record in the same batch".
        # (Values compressible enough: librdkafka sends a batch uncompressed when compressing
        # does not make it smaller.)
        mixed = [(b"k0", value(9, 0)), (None, value(9, 1)), (b"k1", value(9, 2)), (None, value(9, 3))]
        errors = {msg.value(): err for err, msg in one_batch(mixed)}
        for key, val in mixed:
            err = errors[val]
            expected = KafkaError.INVALID_RECORD if key is None else KafkaError._INVALID_DIFFERENT_RECORD
            assert err is not None and err.code() == expected, (key, err)
            assert not err.retriable()

        # The next keyed batches are accepted right after the first: the refused one took no
        # offsets. Each after segment.ms, so the earlier segments close and can be cleaned.
        time.sleep(0.15)
        second = one_batch([(f"k{k}".encode(), value(1, k)) for k in range(KEYS)])
        assert [err for err, _ in second] == [None] * KEYS
        assert [msg.offset() for _, msg in second] == list(range(KEYS, 2 * KEYS))
        fillers = []
        for i in range(3):
            time.sleep(0.15)
            fillers += one_batch([(f"filler{i}".encode(), b"x" * 50)])
        assert all(err is None for err, _ in fillers)

        # Every batch with records was compressed by the producer (the cleaner may already
        # have left the first one as an empty, uncompressed header).
        stored = [batch for batch in batches(data_dir / f"{topic}-0") if batch[1] > 0]
        assert stored and all(c == CODEC_IDS[codec] for _, _, c, _ in stored), \
            f"the producer compressed every batch: {stored}"

        # After the cleaning, each key's latest acknowledged value is read at its offset; no
        # keyless record and nothing of the refused batch is in the log.
        expect = [(msg.offset(), msg.key(), msg.value()) for _, msg in second + fillers]
        got = wait_for(lambda: (r := rows(server, topic)) == expect and r,
                       f"the cleaned log to be {expect}")
        assert all(key is not None for _, key, _ in got)
    finally:
        server.stop()
