"""Topic and broker configs with real clients: every Kafka 4.x topic config accepted and
described, DescribeConfigs' synonyms and documentation, IncrementalAlterConfigs SET / DELETE /
APPEND / SUBTRACT, the legacy AlterConfigs (replace all), and dynamic broker configs that take
effect at run time and survive a restart."""

import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   ConfigSource, NewTopic)

from clients import produce_all
from conftest import Server, partita_binary

TOPIC = ConfigResource.Type.TOPIC
BROKER = ConfigResource.Type.BROKER

# Every topic config Kafka 4.x has, with a valid non-default value.
ALL_TOPIC_CONFIGS = {
    "cleanup.policy": "compact,delete",
    "compression.gzip.level": "5",
    "compression.lz4.level": "10",
    "compression.type": "zstd",
    "compression.zstd.level": "7",
    "delete.retention.ms": "1000",
    "file.delete.delay.ms": "2000",
    "flush.messages": "1000",
    "flush.ms": "5000",
    "follower.replication.throttled.replicas": "0:1",
    "index.interval.bytes": "8192",
    "leader.replication.throttled.replicas": "*",
    "local.retention.bytes": "-2",
    "local.retention.ms": "-2",
    "max.compaction.lag.ms": "600000",
    "max.message.bytes": "2000000",
    "message.downconversion.enable": "false",
    "message.timestamp.after.max.ms": "60000",
    "message.timestamp.before.max.ms": "60000",
    "message.timestamp.type": "LogAppendTime",
    "min.cleanable.dirty.ratio": "0.1",
    "min.compaction.lag.ms": "100",
    "min.insync.replicas": "1",
    "preallocate": "true",
    "remote.log.copy.disable": "false",
    "remote.log.delete.on.disable": "false",
    "remote.storage.enable": "false",
    "retention.bytes": "100000000",
    "retention.ms": "7200000",
    "segment.bytes": "4096",
    "segment.index.bytes": "4096",
    "segment.jitter.ms": "10",
    "segment.ms": "3600000",
    "unclean.leader.election.enable": "true",
}


def describe(admin, kind, name):
    resource = ConfigResource(kind, name)
    return admin.describe_configs([resource])[resource].result(10)


def alter(admin, kind, name, *entries, validate_only=False):
    resource = ConfigResource(kind, name, incremental_configs=list(entries))
    return admin.incremental_alter_configs([resource], validate_only=validate_only)[resource].result(10)


def refused(future) -> str:
    with pytest.raises(KafkaException) as info:
        future.result(10)
    return str(info.value)


def test_every_kafka_topic_config_is_accepted_and_described(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    # librdkafka's admin test creates topics with delete.retention.ms.
    admin.create_topics([NewTopic("every", 1, 1, config=ALL_TOPIC_CONFIGS)])["every"].result(10)
    configs = describe(admin, TOPIC, "every")
    assert sorted(configs) == sorted(ALL_TOPIC_CONFIGS), "exactly Kafka's 34 topic configs"
    for name, value in ALL_TOPIC_CONFIGS.items():
        assert configs[name].value == value, name
        assert configs[name].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value, name
        assert not configs[name].is_read_only

    plain = NewTopic("plain", 1, 1)
    admin.create_topics([plain])["plain"].result(10)
    defaults = describe(admin, TOPIC, "plain")
    assert defaults["delete.retention.ms"].value == "86400000"
    assert defaults["min.cleanable.dirty.ratio"].value == "0.5"
    assert defaults["max.compaction.lag.ms"].value == "9223372036854775807"
    assert defaults["message.timestamp.after.max.ms"].value == "3600000"
    assert defaults["follower.replication.throttled.replicas"].value == ""
    assert defaults["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value

    cases = {
        "min.cleanable.dirty.ratio": ("1.5", "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"),
        "compression.type": ("brotli", "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"),
        "compression.gzip.level": ("10", "Invalid value 10 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1"),
        "leader.replication.throttled.replicas": ("0-1", "leader.replication.throttled.replicas must be the literal '*' or a list of replicas"),
        "remote.storage.enable": ("true", "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."),
        "retention.weeks": ("1", "Unknown topic config name: retention.weeks"),
    }
    for i, (name, (value, message)) in enumerate(cases.items()):
        topic = f"bad{i}"
        error = refused(admin.create_topics([NewTopic(topic, 1, 1, config={name: value})])[topic])
        assert "INVALID_CONFIG" in error and message in error, error
    conflict = NewTopic("conflict", 1, 1, config={"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"})
    error = refused(admin.create_topics([conflict])["conflict"])
    assert "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)" in error


def test_synonyms_sources_and_documentation(data_dir):
    server = Server(data_dir, "--config", "log.retention.ms=3600000")
    try:
        admin = AdminClient({"bootstrap.servers": server.kafka})
        admin.create_topics([NewTopic("t", 1, 1, config={"retention.ms": "7200000"})])["t"].result(10)
        configs = describe(admin, TOPIC, "t")
        retention = configs["retention.ms"]
        assert retention.value == "7200000"
        assert retention.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
        assert [(s.name, s.value, s.source) for s in retention.synonyms.values()] == [
            ("retention.ms", "7200000", ConfigSource.DYNAMIC_TOPIC_CONFIG.value),
            ("log.retention.ms", "3600000", ConfigSource.STATIC_BROKER_CONFIG.value),
            ("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG.value),
        ]
        cleaner = configs["delete.retention.ms"]
        assert cleaner.source == ConfigSource.DEFAULT_CONFIG.value
        assert [s.name for s in cleaner.synonyms.values()] == ["log.cleaner.delete.retention.ms"]

        broker = describe(admin, BROKER, "1")
        assert broker["log.retention.ms"].value == "3600000"
        assert broker["log.retention.ms"].source == ConfigSource.STATIC_BROKER_CONFIG.value
        assert not broker["log.retention.ms"].is_read_only, "log.retention.ms is dynamic"
        assert broker["log.retention.hours"].is_read_only, "only the first synonym is dynamic"
        assert broker["num.partitions"].is_read_only
        assert broker["log.cleaner.enable"].value == "true"

        # include_documentation needs DescribeConfigs v3+: kafka-python's request, by hand.
        from kafka import KafkaAdminClient
        from kafka.protocol.admin import DescribeConfigsRequest
        client = KafkaAdminClient(bootstrap_servers=server.kafka)
        try:
            request = DescribeConfigsRequest(
                resources=[(2, "t", ["retention.ms", "min.cleanable.dirty.ratio"])],
                include_synonyms=True, include_documentation=True, min_version=3)
            response = client._manager.run(client._manager.send, request)
            entries = {c.name: c for c in response.results[0].configs}
            assert entries["retention.ms"].documentation.startswith(
                "This configuration controls the maximum time we will retain a log")
            assert entries["retention.ms"].config_type == 5  # LONG
            assert entries["min.cleanable.dirty.ratio"].config_type == 6  # DOUBLE
            assert [(s.name, s.source) for s in entries["retention.ms"].synonyms] == [
                ("retention.ms", 1), ("log.retention.ms", 4), ("log.retention.hours", 5)]
        finally:
            client.close()
    finally:
        server.stop()


def test_incremental_alter_configs_set_delete_append_subtract(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic("t", 1, 1)])["t"].result(10)
    op = AlterConfigOpType

    alter(admin, TOPIC, "t", ConfigEntry("cleanup.policy", "compact", incremental_operation=op.APPEND))
    assert describe(admin, TOPIC, "t")["cleanup.policy"].value == "delete,compact", "appended to the default"
    alter(admin, TOPIC, "t", ConfigEntry("cleanup.policy", "compact", incremental_operation=op.APPEND))
    assert describe(admin, TOPIC, "t")["cleanup.policy"].value == "delete,compact", "no duplicates"
    alter(admin, TOPIC, "t", ConfigEntry("cleanup.policy", "delete", incremental_operation=op.SUBTRACT))
    assert describe(admin, TOPIC, "t")["cleanup.policy"].value == "compact"

    replicas = "leader.replication.throttled.replicas"
    alter(admin, TOPIC, "t", ConfigEntry(replicas, "0:1,1:1", incremental_operation=op.APPEND))
    alter(admin, TOPIC, "t", ConfigEntry(replicas, "0:1", incremental_operation=op.SUBTRACT))
    assert describe(admin, TOPIC, "t")[replicas].value == "1:1"

    error = refused(admin.incremental_alter_configs([ConfigResource(TOPIC, "t", incremental_configs=[
        ConfigEntry("retention.ms", "1000", incremental_operation=op.APPEND)])])[ConfigResource(TOPIC, "t")])
    assert "INVALID_CONFIG" in error and "Can't APPEND to key retention.ms because its type is not LIST." in error

    alter(admin, TOPIC, "t", ConfigEntry("retention.ms", "1000", incremental_operation=op.SET), validate_only=True)
    assert describe(admin, TOPIC, "t")["retention.ms"].value == "604800000", "validate_only keeps nothing"
    alter(admin, TOPIC, "t", ConfigEntry("retention.ms", "1000", incremental_operation=op.SET))
    assert describe(admin, TOPIC, "t")["retention.ms"].value == "1000"
    alter(admin, TOPIC, "t", ConfigEntry("retention.ms", None, incremental_operation=op.DELETE))
    retention = describe(admin, TOPIC, "t")["retention.ms"]
    assert (retention.value, retention.source) == ("604800000", ConfigSource.DEFAULT_CONFIG.value)


def test_legacy_alter_configs_replaces_every_override(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic("t", 1, 1, config={"segment.ms": "60000", "retention.ms": "5000"})])["t"].result(10)
    resource = ConfigResource(TOPIC, "t", set_config={"retention.ms": "9000"})
    admin.alter_configs([resource])[resource].result(10)
    configs = describe(admin, TOPIC, "t")
    assert configs["retention.ms"].value == "9000"
    assert (configs["segment.ms"].value, configs["segment.ms"].source) == (
        "604800000", ConfigSource.DEFAULT_CONFIG.value), "an override not named is removed"

    bad = ConfigResource(TOPIC, "t", set_config={"segment.ms": "0"})
    assert "Value must be at least 1" in refused(admin.alter_configs([bad])[bad])
    assert describe(admin, TOPIC, "t")["retention.ms"].value == "9000", "a refused change keeps everything"


def test_broker_configs_change_at_run_time_and_survive_a_restart(data_dir):
    server = Server(data_dir, "--config", "log.retention.check.interval.ms=200")
    try:
        admin = AdminClient({"bootstrap.servers": server.kafka})
        # Small segments (the topic's own override) and no retention override: the broker's
        # default retention applies.
        admin.create_topics([NewTopic("logs", 1, 1, config={"segment.bytes": "1024"})])["logs"].result(10)
        for _ in range(8):
            produce_all({"bootstrap.servers": server.kafka, "linger.ms": 0}, [("logs", None, b"x" * 200)] * 3)
        consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "g"})
        assert consumer.get_watermark_offsets(TopicPartition("logs", 0), timeout=10) == (0, 24)
        time.sleep(1.5)  # every closed segment is now older than a second

        alter(admin, BROKER, "1", ConfigEntry("log.retention.ms", "1000", incremental_operation=AlterConfigOpType.SET))
        deadline = time.monotonic() + 20
        low = 0
        while time.monotonic() < deadline and low == 0:
            low, high = consumer.get_watermark_offsets(TopicPartition("logs", 0), timeout=10)
            time.sleep(0.2)
        assert 0 < low <= high == 24, "the new broker default deleted old segments"
        consumer.close()
        retention = describe(admin, TOPIC, "logs")["retention.ms"]
        assert (retention.value, retention.source) == ("1000", ConfigSource.DYNAMIC_BROKER_CONFIG.value)

        # The cluster-wide default (resource name ""), which confluent-kafka cannot name: with
        # `partita configs`, as with kafka-configs.sh.
        done = server.partita("configs", "--entity-type", "brokers", "--entity-default", "--alter",
                              "--add-config", "log.cleaner.backoff.ms=500")
        assert done == "Completed updating default config for brokers in the cluster.\n"
        assert server.partita("configs", "--entity-type", "brokers", "--entity-default", "--describe") == (
            "Default configs for brokers in the cluster are:\n"
            "  log.cleaner.backoff.ms=500 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.cleaner.backoff.ms=500}\n")

        fixed = ConfigResource(BROKER, "1", incremental_configs=[
            ConfigEntry("num.partitions", "3", incremental_operation=AlterConfigOpType.SET)])
        error = refused(admin.incremental_alter_configs([fixed])[fixed])
        assert "INVALID_REQUEST" in error and "Cannot update these configs dynamically: Set(num.partitions)" in error
        # Clients send a broker's configs to that broker; `partita configs` finds no broker 2
        # to describe them (the controller itself would take any broker id, as Kafka's does).
        done = subprocess.run([str(partita_binary()), "configs", "--bootstrap-server", server.kafka,
                               "--entity-type", "brokers", "--entity-name", "2", "--alter",
                               "--add-config", "log.retention.ms=1"], capture_output=True, text=True, timeout=30)
        assert done.returncode != 0
        assert "broker 2 is not among the cluster's live brokers" in done.stderr
    finally:
        server.stop()

    server = Server(data_dir)
    try:
        admin = AdminClient({"bootstrap.servers": server.kafka})
        broker = describe(admin, BROKER, "1")
        assert (broker["log.retention.ms"].value, broker["log.retention.ms"].source) == (
            "1000", ConfigSource.DYNAMIC_BROKER_CONFIG.value), "kept in the metadata log"
        assert broker["log.cleaner.backoff.ms"].source == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value
        alter(admin, BROKER, "1", ConfigEntry("log.retention.ms", None, incremental_operation=AlterConfigOpType.DELETE))
        assert describe(admin, TOPIC, "logs")["retention.ms"].value == "604800000"
    finally:
        server.stop()


def test_kafka_python_describe_and_legacy_alter(server):
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource as KConfigResource, ConfigResourceType, NewTopic as KNewTopic

    client = KafkaAdminClient(bootstrap_servers=server.kafka)
    try:
        client.create_topics([KNewTopic("kp", 1, 1, topic_configs={"delete.retention.ms": "1000"})])
        described = client.describe_configs([KConfigResource(ConfigResourceType.TOPIC, "kp")],
                                            include_synonyms=True, config_filter="all")
        configs = described["topic"]["kp"]
        assert configs["delete.retention.ms"]["value"] == "1000"
        assert configs["delete.retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
        assert [s["name"] for s in configs["delete.retention.ms"]["synonyms"]] == [
            "delete.retention.ms", "log.cleaner.delete.retention.ms"]

        # Legacy AlterConfigs: kafka-python sends the overrides it found set along with the new
        # one (the API replaces all), so both are kept.
        result = client.alter_configs([KConfigResource(ConfigResourceType.TOPIC, "kp", configs={"retention.ms": "5000"})],
                                      raise_on_unknown=False, incremental=False)
        assert result["topic"]["kp"] == "OK"
        modified = client.describe_configs([KConfigResource(ConfigResourceType.TOPIC, "kp")])["topic"]["kp"]
        assert {n: c["value"] for n, c in modified.items()} == {"retention.ms": "5000", "delete.retention.ms": "1000"}

        result = client.alter_configs([KConfigResource(ConfigResourceType.BROKER, "1", configs={"log.retention.ms": "86400000"})],
                                      raise_on_unknown=False, incremental=False)
        assert result["broker"]["1"] == "OK"
        broker = client.describe_configs([KConfigResource(ConfigResourceType.BROKER, "1")], config_filter="all")["broker"]["1"]
        assert broker["log.retention.ms"]["value"] == "86400000"
        assert broker["log.retention.ms"]["config_source"] == "DYNAMIC_BROKER_CONFIG"
    finally:
        client.close()


def test_partita_configs_prints_what_kafka_configs_prints(server):
    server.partita("topics", "--create", "--topic", "orders", "--partitions", "1", "--replication-factor", "1")
    done = server.partita("configs", "--entity-type", "topics", "--entity-name", "orders", "--alter",
                          "--add-config", "retention.ms=7200000,cleanup.policy=[delete,compact]")
    assert done == "Completed updating config for topic orders.\n"
    assert server.partita("configs", "--entity-type", "topics", "--entity-name", "orders", "--describe") == (
        "Dynamic configs for topic orders are:\n"
        "  cleanup.policy=delete,compact sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=delete,compact, "
        "DEFAULT_CONFIG:log.cleanup.policy=delete}\n"
        "  retention.ms=7200000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=7200000}\n")
    every = server.partita("configs", "--entity-type", "topics", "--entity-name", "orders", "--describe", "--all")
    assert every.startswith("All configs for topic orders are:\n")
    assert len(every.splitlines()) == 1 + 34
    assert "  delete.retention.ms=86400000 sensitive=false synonyms={DEFAULT_CONFIG:log.cleaner.delete.retention.ms=86400000}\n" in every

    server.partita("configs", "--entity-type", "topics", "--entity-name", "orders", "--alter", "--delete-config", "retention.ms")
    assert "retention.ms" not in server.partita("configs", "--entity-type", "topics", "--entity-name", "orders", "--describe")
    missing = subprocess.run([str(partita_binary()), "configs", "--bootstrap-server", server.kafka, "--entity-type", "topics",
                              "--entity-name", "orders", "--alter", "--delete-config", "segment.ms"],
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode != 0 and "Invalid config(s): segment.ms" in missing.stderr

    server.partita("configs", "--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config", "log.retention.ms=3600000")
    assert server.partita("configs", "--entity-type", "brokers", "--entity-name", "1", "--describe") == (
        "Dynamic configs for broker 1 are:\n"
        "  log.retention.ms=3600000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=3600000, "
        "DEFAULT_CONFIG:log.retention.hours=168}\n")
    brokers = server.partita("configs", "--entity-type", "brokers", "--describe")
    assert brokers.startswith("Dynamic configs for broker 1 are:\n")
    assert "Default configs for brokers in the cluster are:\n" in brokers
