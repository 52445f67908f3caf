"""Authorized operations (KIP-430): without an authorizer Kafka answers every operation that
applies to the resource: 8 for a topic, 7 for the cluster, 5 for a group (Kafka 4.x). Asked
with confluent-kafka's describe_topics, describe_cluster and describe_consumer_groups."""

from confluent_kafka import Consumer, TopicCollection
from confluent_kafka.admin import AclOperation, AdminClient, NewTopic

from clients import consume, produce_all

TOPIC_OPERATIONS = {AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE,
                    AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE,
                    AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS}
CLUSTER_OPERATIONS = {AclOperation.CREATE, AclOperation.ALTER, AclOperation.DESCRIBE,
                      AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
                      AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE}
GROUP_OPERATIONS = {AclOperation.READ, AclOperation.DELETE, AclOperation.DESCRIBE,
                    AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS}


def test_every_operation_is_authorized_without_an_authorizer(server):
    admin = AdminClient({"bootstrap.servers": server.kafka})
    admin.create_topics([NewTopic("ops", 1, 1)])["ops"].result(10)

    [topic] = admin.describe_topics(TopicCollection(["ops"]),
                                    include_authorized_operations=True).values()
    assert set(topic.result(10).authorized_operations) == TOPIC_OPERATIONS
    without = admin.describe_topics(TopicCollection(["ops"]))["ops"].result(10)
    assert not without.authorized_operations, "only when asked"

    cluster = admin.describe_cluster(include_authorized_operations=True).result(10)
    assert set(cluster.authorized_operations) == CLUSTER_OPERATIONS
    assert len(cluster.authorized_operations) == 7
    assert not admin.describe_cluster().result(10).authorized_operations

    produce_all({"bootstrap.servers": server.kafka}, [("ops", None, b"x")])
    consumer = Consumer({"bootstrap.servers": server.kafka, "group.id": "g",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe(["ops"])
    try:
        assert len(consume(consumer, 1)) == 1
        group = admin.describe_consumer_groups(["g"], include_authorized_operations=True)["g"]
        assert set(group.result(10).authorized_operations) == GROUP_OPERATIONS
    finally:
        consumer.close()
