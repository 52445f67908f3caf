"""confluent-kafka's AdminClient against partita: topic configs (describe and incremental
alter), partition increases, cluster description, and what `partita topics --describe` shows."""

from confluent_kafka import KafkaException
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   NewPartitions, NewTopic)


def test_topic_configs_partitions_and_cluster(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    created = admin.create_topics([NewTopic("orders", 3, 1, config={"min.insync.replicas": "1", "retention.ms": "3600000"})])
    created["orders"].result(10)

    resource = ConfigResource(ConfigResource.Type.TOPIC, "orders")
    configs = admin.describe_configs([resource])[resource].result(10)
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "delete", "broker defaults are listed too"

    alter = ConfigResource(ConfigResource.Type.TOPIC, "orders", incremental_configs=[
        ConfigEntry("retention.ms", "7200000", incremental_operation=AlterConfigOpType.SET),
    ])
    admin.incremental_alter_configs([alter])[alter].result(10)
    configs = admin.describe_configs([resource])[resource].result(10)
    assert configs["retention.ms"].value == "7200000"
    assert "retention.ms=7200000" in server.partita("topics", "--describe", "--topic", "orders")

    bad = ConfigResource(ConfigResource.Type.TOPIC, "orders", incremental_configs=[
        ConfigEntry("min.insync.replicas", "0", incremental_operation=AlterConfigOpType.SET),
    ])
    try:
        admin.incremental_alter_configs([bad])[bad].result(10)
        raise AssertionError("an invalid value was accepted")
    except KafkaException as e:
        assert "min.insync.replicas" in str(e)

    admin.create_partitions([NewPartitions("orders", 5)])["orders"].result(10)
    assert len(admin.list_topics(timeout=10).topics["orders"].partitions) == 5

    cluster = admin.describe_cluster().result(10)
    assert [n.id for n in cluster.nodes] == [1]
    assert cluster.controller.id == 1

    admin.delete_topics(["orders"])["orders"].result(10)
    assert "orders" not in admin.list_topics(timeout=10).topics
