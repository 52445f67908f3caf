"""What exists, described as Kafka 4.x describes it without tiered storage, with kafka-python's
admin client: DescribeProducers (an idempotent confluent-kafka producer's id, epoch, last
sequence and last timestamp), ListOffsets earliest-local (-4: the log start) and latest-tiered
(-5: offset -1), DescribeLogDirs (the data directory, each partition's size, lag 0, the disk's
total and usable bytes), and `partita log-dirs --describe` printing what kafka-log-dirs.sh
prints."""

import json
import time

import kafka
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka.admin import OffsetSpec

RECORDS = 5


def test_producers_tiered_offsets_and_log_dirs(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    for f in admin.create_topics([NewTopic("events", 2, 1), NewTopic("other", 1, 1)]).values():
        f.result(10)
    before_ms = int(time.time() * 1000)
    producer = Producer({"bootstrap.servers": server.kafka, "enable.idempotence": True,
                         "linger.ms": 0})
    for i in range(RECORDS):
        producer.produce("events", value=f"v{i}".encode(), partition=0)
        assert producer.flush(30) == 0
    client = kafka.KafkaAdminClient(bootstrap_servers=server.kafka)
    try:
        states = client.describe_producers([kafka.TopicPartition("events", 0),
                                            kafka.TopicPartition("events", 1)])
        [state] = states[kafka.TopicPartition("events", 0)].active_producers
        assert state.producer_id >= 0 and state.producer_epoch == 0
        assert state.last_sequence == RECORDS - 1
        assert before_ms <= state.last_timestamp <= int(time.time() * 1000)
        assert (state.coordinator_epoch, state.current_transaction_start_offset) == (-1, -1)
        assert states[kafka.TopicPartition("events", 1)].active_producers == []

        tp = kafka.TopicPartition("events", 0)
        client.delete_records({tp: 2})
        offsets = client.list_partition_offsets({tp: OffsetSpec.EARLIEST_LOCAL})[tp]
        assert (offsets.offset, offsets.timestamp) == (2, -1), "the local log is the whole log"
        tiered = client.list_partition_offsets({tp: OffsetSpec.LATEST_TIERED})[tp]
        assert (tiered.offset, tiered.timestamp, tiered.leader_epoch) == (-1, -1, None), \
            "epoch -1 on the wire"

        [described] = client.describe_log_dirs()
        [log_dir] = described["log_dirs"]
        assert log_dir["error_code"] == 0
        assert log_dir["log_dir"] == str(server.data_dir.resolve())
        assert 0 < log_dir["usable_bytes"] <= log_dir["total_bytes"]
        sizes = {(t["name"], p["partition_index"]): (p["partition_size"], p["offset_lag"],
                                                    p["is_future_key"])
                 for t in log_dir["topics"] for p in t["partitions"]}
        assert set(sizes) == {("events", 0), ("events", 1), ("other", 0)}
        assert sizes[("events", 0)][0] > 0 and sizes[("events", 1)][0] == 0
        assert {lag for _, lag, _ in sizes.values()} == {0}
        assert not any(future for _, _, future in sizes.values())
    finally:
        client.close()

    out = server.partita("log-dirs", "--describe", "--topic-list", "events").splitlines()
    assert out[:2] == ["Querying brokers for log directories information",
                       "Received log directory information from brokers 1"]
    printed = json.loads(out[2])
    assert out[2].startswith('{"brokers":[{"broker":1,"logDirs":[{"partitions":[')
    [broker] = printed["brokers"]
    [log_dir] = broker["logDirs"]
    assert (printed["version"], log_dir["error"], log_dir["logDir"]) == \
        (1, None, str(server.data_dir.resolve()))
    assert sorted(p["partition"] for p in log_dir["partitions"]) == ["events-0", "events-1"]
    assert all(p["offsetLag"] == 0 and p["isFuture"] is False for p in log_dir["partitions"])
