"""Admin tools against a three-node cluster (issue 14), whichever node they reach:

- DescribeConfigs is answered by every node from its own metadata, as Kafka's brokers answer it
  (not a controller request); `partita configs --alter`, `topics --create/--delete` go to the
  active controller that Metadata names, and follow it again after NOT_CONTROLLER;
- `partita groups --list` asks every broker (ListGroups is per broker: each lists the groups it
  coordinates) and merges, as kafka-consumer-groups.sh --list does;
- Metadata lists the replicas on a dead (fenced) broker as offline replicas (v5+);
- a broker that is not the active controller forwards config changes to it (KIP-590), so
  confluent-kafka's AdminClient, which sends a broker's config change to that broker, works."""

import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource,
                                  NewTopic)
from kafka import KafkaAdminClient

from cluster import Cluster
from conftest import partita_binary


@pytest.fixture
def cluster(data_dir):
    running = Cluster(data_dir, 3)
    yield running
    running.stop()


def active_controller(cluster: Cluster) -> int:
    return cluster.wait_for("an active controller",
                            lambda: cluster.admin().list_topics(timeout=5).controller_id)


def create(cluster: Cluster, name: str, partitions: int, replication_factor: int, **configs) -> None:
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    futures = admin.create_topics([NewTopic(name, partitions, replication_factor,
                                            config={k.replace("_", "."): v for k, v in configs.items()})])
    futures[name].result(timeout=30)
    cluster.wait_for(f"{name} led everywhere", lambda: all(
        p.leader >= 0 for p in cluster.topic(name).partitions.values()))


def test_configs_are_described_on_every_node_and_altered_through_any(cluster):
    create(cluster, "orders", 3, 3, min_insync_replicas="2")
    controller = active_controller(cluster)
    others = [n for n in cluster.nodes if n != controller]
    for node_id, node in cluster.nodes.items():
        # Every node answers, from its own metadata (no NOT_CONTROLLER).
        described = node.partita("configs", "--describe", "--entity-type", "topics", "--entity-name", "orders")
        assert "Dynamic configs for topic orders are:" in described, (node_id, described)
        assert "min.insync.replicas=2 sensitive=false" in described, (node_id, described)
        # A broker's own configs come from that broker, whichever node was asked first.
        for broker in cluster.nodes:
            brokers = node.partita("configs", "--describe", "--entity-type", "brokers",
                                   "--entity-name", str(broker), "--all")
            assert f"All configs for broker {broker} are:" in brokers
            assert "log.retention.hours=" in brokers
        # Every topic, every broker and the default, through one node.
        assert "Dynamic configs for topic orders are:" in node.partita(
            "configs", "--describe", "--entity-type", "topics")
        assert "Default configs for brokers in the cluster are:" in node.partita(
            "configs", "--describe", "--entity-type", "brokers")

    # A real client asking one node that is not the controller: librdkafka sends
    # DescribeConfigs for a topic to any broker.
    from confluent_kafka.admin import AdminClient
    only = AdminClient({"bootstrap.servers": cluster.nodes[others[0]].kafka})
    [config] = only.describe_configs([ConfigResource("topic", "orders")]).values()
    assert config.result(timeout=20)["min.insync.replicas"].value == "2"

    # Altering through a node that is not the controller: the tool goes to the controller.
    cluster.nodes[others[1]].partita("configs", "--alter", "--entity-type", "topics", "--entity-name", "orders",
                                     "--add-config", "retention.ms=60000")
    for node_id, node in cluster.nodes.items():
        cluster.wait_for(f"node {node_id} sees the change", lambda: "retention.ms=60000" in node.partita(
            "configs", "--describe", "--entity-type", "topics", "--entity-name", "orders"))
    # Creating and deleting through a node that is not the controller.
    cluster.nodes[others[0]].partita("topics", "--create", "--topic", "extra", "--partitions", "2",
                                     "--replication-factor", "3")
    cluster.nodes[others[1]].partita("topics", "--delete", "--topic", "extra")


def test_the_tools_follow_a_new_controller(cluster):
    create(cluster, "orders", 2, 3)
    controller = active_controller(cluster)
    cluster.nodes[controller].kill()
    survivor = next(n for n in cluster.nodes if n != controller)
    # The survivors elect a new controller; the tool finds it (retrying NOT_CONTROLLER and
    # connection errors to the dead one while the metadata still names it).
    deadline = time.monotonic() + 30
    while True:
        try:
            cluster.nodes[survivor].partita("configs", "--alter", "--entity-type", "topics",
                                            "--entity-name", "orders", "--add-config", "retention.ms=120000")
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    # Each node answers DescribeConfigs from its own metadata image, as a Kafka broker answers
    # from its metadata cache: a node sees the change once it has applied the record.
    for node_id in cluster.nodes:
        if node_id != controller:
            deadline = time.monotonic() + 15
            while True:
                described = cluster.nodes[node_id].partita(
                    "configs", "--describe", "--entity-type", "topics", "--entity-name", "orders")
                if "retention.ms=120000" in described or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert "retention.ms=120000" in described, (node_id, described)


def commit(bootstrap: str, group: str, offset: int) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition("events", 0, offset)], asynchronous=False)
    finally:
        consumer.close()


def test_groups_are_listed_from_every_coordinator(cluster):
    create(cluster, "events", 1, 3)
    groups = [f"app-{i}" for i in range(12)]
    for i, group in enumerate(groups):
        commit(cluster.bootstrap(), group, i + 1)
    admin = cluster.admin()
    described = admin.describe_consumer_groups(groups)
    coordinators = {group: f.result(timeout=30).coordinator.id for group, f in described.items()}
    assert len(set(coordinators.values())) >= 2, f"the groups should spread over coordinators: {coordinators}"
    # Each broker alone lists only the groups it coordinates...
    for node_id, node in cluster.nodes.items():
        admin = KafkaAdminClient(bootstrap_servers=node.kafka)
        try:
            own = {g["group_id"] for g in admin.list_groups(broker_ids=[node_id])}
        finally:
            admin.close()
        assert own == {g for g, c in coordinators.items() if c == node_id}, node_id
    # ... and the tool, through any node, lists them all.
    for node in cluster.nodes.values():
        assert node.partita("groups", "--list").split() == sorted(groups)


def test_replicas_on_a_dead_broker_are_offline_in_metadata(cluster):
    create(cluster, "orders", 3, 3)
    cluster.nodes[2].kill()
    cluster.wait_for("broker 2 fenced", lambda: 2 not in cluster.admin().list_topics(timeout=5).brokers)
    admin = KafkaAdminClient(bootstrap_servers=cluster.nodes[1].kafka)
    try:
        [topic] = admin.describe_topics(["orders"])
    finally:
        admin.close()
    partitions = topic["partitions"]
    assert len(partitions) == 3
    for p in partitions:
        assert sorted(p["replica_nodes"]) == [1, 2, 3], p
        assert p["offline_replicas"] == [2], p
    # A live cluster has none.
    cluster.start(2)
    cluster.wait_for("broker 2 back", lambda: 2 in cluster.admin().list_topics(timeout=5).brokers)
    admin = KafkaAdminClient(bootstrap_servers=cluster.nodes[1].kafka)
    try:
        [topic] = admin.describe_topics(["orders"])
    finally:
        admin.close()
    assert all(p["offline_replicas"] == [] for p in topic["partitions"]), topic


def test_quorum_describe_like_kafka_metadata_quorum(cluster):
    create(cluster, "orders", 2, 3)
    controller = active_controller(cluster)
    for node in cluster.nodes.values():
        status = node.partita("quorum", "--describe", "--status")
        fields = dict(line.split(":", 1) for line in status.splitlines())
        fields = {k: v.strip() for k, v in fields.items()}
        assert list(fields) == ["ClusterId", "LeaderId", "LeaderEpoch", "HighWatermark", "MaxFollowerLag",
                                "MaxFollowerLagTimeMs", "CurrentVoters", "CurrentObservers"], status
        assert int(fields["LeaderId"]) == controller, status
        assert int(fields["LeaderEpoch"]) >= 1
        assert int(fields["HighWatermark"]) > 0
        assert fields["CurrentVoters"] == '[{"id": 1}, {"id": 2}, {"id": 3}]', status
        assert fields["CurrentObservers"] == "[]"

        replication = node.partita("quorum", "--describe", "--replication").splitlines()
        assert replication[0].split() == ["NodeId", "DirectoryId", "LogEndOffset", "Lag", "LastFetchTimestamp",
                                          "LastCaughtUpTimestamp", "Status"]
        rows = [line.split() for line in replication[1:]]
        assert [r[6] for r in rows] == ["Leader", "Follower", "Follower"], replication
        assert int(rows[0][0]) == controller
        leader_end = int(rows[0][2])
        assert leader_end >= int(fields["HighWatermark"])
        for r in rows:
            assert int(r[3]) == leader_end - int(r[2])
    # The followers catch up: every voter's lag reaches 0.
    cluster.wait_for("every voter caught up", lambda: all(
        line.split()[3] == "0" for line in
        cluster.nodes[controller].partita("quorum", "--describe", "--replication").splitlines()[1:]))
    # The leader stamps each voter with when it last heard it (epoch ms, as Kafka prints them),
    # the followers too, not -1.
    before = int(time.time() * 1000) - 60_000
    rows = [line.split() for line in
            cluster.nodes[controller].partita("quorum", "--describe", "--replication").splitlines()[1:]]
    for r in rows:
        assert int(r[4]) > before and int(r[5]) > before, rows
    # A new epoch after the leader dies.
    cluster.nodes[controller].kill()
    survivor = next(n for n in cluster.nodes if n != controller)

    def new_leader():
        try:
            status = cluster.nodes[survivor].partita("quorum", "--describe", "--status")
        except AssertionError:
            return None
        leader = int(status.split("LeaderId:")[1].split()[0])
        return leader if leader != controller else None
    assert cluster.wait_for("a new leader", new_leader) != controller


def broker_configs(node, broker: str) -> str:
    """`partita configs --describe` of broker `broker` (or the default, ""), through `node`."""
    which = ["--entity-default"] if broker == "" else ["--entity-name", broker]
    return node.partita("configs", "--describe", "--entity-type", "brokers", *which)


def test_a_brokers_dynamic_configs_are_altered_for_any_node_and_the_default(cluster):
    """Issue 14: `--entity-type brokers --entity-name N` for another node than the one asked
    (and than the active controller) sets N's dynamic config, which N then describes; the
    cluster default too; a bad broker name gets Kafka's controller's answer."""
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    controller = active_controller(cluster)
    others = [n for n in cluster.nodes if n != controller]
    target, through = others[0], cluster.nodes[others[1]]
    out = through.partita("configs", "--alter", "--entity-type", "brokers", "--entity-name",
                          str(target), "--add-config", "log.retention.ms=7200000")
    assert out == f"Completed updating config for broker {target}.\n"
    cluster.wait_for(f"broker {target} has the config", lambda: "log.retention.ms=7200000" in
                     broker_configs(cluster.nodes[target], str(target)))
    # Only broker `target` has it: the others keep their own (none set).
    for node_id in others[1:] + [controller]:
        assert "log.retention.ms" not in broker_configs(cluster.nodes[node_id], str(node_id))
    # The controller's own, altered through another node, and deleted again through a third.
    through.partita("configs", "--alter", "--entity-type", "brokers", "--entity-name",
                    str(controller), "--add-config", "log.cleaner.backoff.ms=5000")
    cluster.wait_for("the controller has its config", lambda: "log.cleaner.backoff.ms=5000" in
                     broker_configs(cluster.nodes[controller], str(controller)))
    out = cluster.nodes[target].partita("configs", "--alter", "--entity-type", "brokers",
                                        "--entity-name", str(controller), "--delete-config",
                                        "log.cleaner.backoff.ms")
    assert out == f"Completed updating config for broker {controller}.\n"
    cluster.wait_for("the config deleted", lambda: "log.cleaner.backoff.ms" not in
                     broker_configs(cluster.nodes[controller], str(controller)))
    # The cluster-wide default, seen by every node.
    out = through.partita("configs", "--alter", "--entity-type", "brokers", "--entity-default",
                          "--add-config", "log.retention.ms=86400000")
    assert out == "Completed updating default config for brokers in the cluster.\n"
    for node in cluster.nodes.values():
        cluster.wait_for("the default everywhere", lambda: "log.retention.ms=86400000" in
                         broker_configs(node, ""))
    # Deleting what broker `target` does not have is refused before anything is sent, as
    # kafka-configs.sh does (the check asks broker `target` itself).
    done = subprocess.run([str(partita_binary()), "configs", "--bootstrap-server", through.kafka,
                           "--alter", "--entity-type", "brokers", "--entity-name", str(target),
                           "--delete-config", "log.segment.bytes"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "Invalid config(s): log.segment.bytes" in done.stderr, done.stderr
    # A broker the cluster does not have: no broker can answer for it.
    done = subprocess.run([str(partita_binary()), "configs", "--bootstrap-server", through.kafka,
                           "--alter", "--entity-type", "brokers", "--entity-name=-1",
                           "--add-config", "log.retention.ms=1000"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "broker -1 is not among the cluster's live brokers" in done.stderr, \
        done.stderr


def test_confluent_admin_alters_each_brokers_config_at_that_broker(cluster):
    """KIP-590: librdkafka sends a BROKER resource's AlterConfigs and IncrementalAlterConfigs to
    that broker itself, which forwards them to the active controller when it is not that (here:
    both brokers that are not the controller) and answers with the controller's outcome; a topic
    resource in the same request rides along to that broker and is forwarded too. Then each
    broker describes its new dynamic config."""
    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    create(cluster, "forwarded", 1, 3)
    controller = active_controller(cluster)
    others = [n for n in cluster.nodes if n != controller]
    assert len(others) == 2
    for broker in others:
        resource = ConfigResource(ConfigResource.Type.BROKER, str(broker), incremental_configs=[
            ConfigEntry("log.retention.ms", str(3_600_000 * broker),
                        incremental_operation=AlterConfigOpType.SET)])
        topic = ConfigResource(ConfigResource.Type.TOPIC, "forwarded", incremental_configs=[
            ConfigEntry("retention.ms", str(60_000 * broker),
                        incremental_operation=AlterConfigOpType.SET)])
        futures = admin.incremental_alter_configs([resource, topic])
        for future in futures.values():
            future.result(timeout=30)
        described = ConfigResource(ConfigResource.Type.BROKER, str(broker))
        entry = admin.describe_configs([described])[described].result(timeout=30)["log.retention.ms"]
        assert entry.value == str(3_600_000 * broker)
        assert entry.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
        topic_described = ConfigResource(ConfigResource.Type.TOPIC, "forwarded")
        cluster.wait_for("the topic config", lambda: admin.describe_configs([topic_described])[
            topic_described].result(timeout=30)["retention.ms"].value == str(60_000 * broker))
    # The other brokers keep their own: only the one named changed.
    described = ConfigResource(ConfigResource.Type.BROKER, str(controller))
    entry = admin.describe_configs([described])[described].result(timeout=30)["log.retention.ms"]
    assert entry.source != ConfigSource.DYNAMIC_BROKER_CONFIG.value
    # The legacy AlterConfigs replaces a broker's dynamic configs, forwarded the same way.
    broker = others[0]
    legacy = ConfigResource(ConfigResource.Type.BROKER, str(broker),
                            set_config={"log.cleaner.backoff.ms": "5000"})
    admin.alter_configs([legacy])[legacy].result(timeout=30)
    described = ConfigResource(ConfigResource.Type.BROKER, str(broker))
    configs = admin.describe_configs([described])[described].result(timeout=30)
    assert configs["log.cleaner.backoff.ms"].value == "5000"
    assert configs["log.cleaner.backoff.ms"].source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
    assert configs["log.retention.ms"].source != ConfigSource.DYNAMIC_BROKER_CONFIG.value
    # The controller's refusal comes back through the forwarding broker as it is.
    bad = ConfigResource(ConfigResource.Type.BROKER, str(broker), incremental_configs=[
        ConfigEntry("log.retention.ms", "soon", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException) as refused:
        admin.incremental_alter_configs([bad])[bad].result(timeout=30)
    assert "log.retention.ms" in str(refused.value)


def test_topic_commands_sent_to_a_non_controller_are_forwarded(cluster):
    """KIP-590 for the topic commands: kafka-python's own CreateTopics, CreatePartitions and
    DeleteTopics requests sent straight to a node that is not the active controller (not through
    `_send_request_to_controller`, which would retry at the controller) are forwarded there and
    answered with the controller's outcome."""
    from kafka.protocol.admin import (CreatePartitionsRequest, CreateTopicsRequest,
                                      DeleteTopicsRequest)

    admin = cluster.admin()
    cluster.wait_for("three live brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
    controller = active_controller(cluster)
    other = next(n for n in cluster.nodes if n != controller)
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap())
    try:
        def send(request):
            async def call():
                return await admin._manager.send(request, node_id=other)
            return admin._manager.run(call)

        topic = CreateTopicsRequest.CreatableTopic
        created = send(CreateTopicsRequest(
            topics=[topic(name="grown", num_partitions=2, replication_factor=3, assignments=[],
                          configs=[])],
            timeout_ms=30000, validate_only=False))
        [result] = created.topics
        assert (result.name, result.error_code) == ("grown", 0), result
        # The created topic's counts, read from the forwarding node's image (v5+).
        assert (result.num_partitions, result.replication_factor) == (2, 3), result
        # The controller's refusal comes back as it is: the topic exists.
        again = send(CreateTopicsRequest(
            topics=[topic(name="grown", num_partitions=2, replication_factor=3, assignments=[],
                          configs=[])],
            timeout_ms=30000, validate_only=False))
        assert [t.error_code for t in again.topics] == [36]  # TOPIC_ALREADY_EXISTS
        cluster.wait_for("grown led everywhere", lambda: len(cluster.topic("grown").partitions) == 2
                         and all(p.leader >= 0 for p in cluster.topic("grown").partitions.values()))

        grow = CreatePartitionsRequest(
            topics=[CreatePartitionsRequest.CreatePartitionsTopic(name="grown", count=5,
                                                                  assignments=None)],
            timeout_ms=30000, validate_only=False)
        response = send(grow)
        assert [(r.name, r.error_code) for r in response.results] == [("grown", 0)]
        cluster.wait_for("five partitions", lambda: len(cluster.topic("grown").partitions) == 5)
        # The controller's refusal comes back as it is: fewer partitions than there are.
        shrink = CreatePartitionsRequest(
            topics=[CreatePartitionsRequest.CreatePartitionsTopic(name="grown", count=3,
                                                                  assignments=None)],
            timeout_ms=30000, validate_only=False)
        assert [r.error_code for r in send(shrink).results] == [37]  # INVALID_PARTITIONS
        delete = DeleteTopicsRequest(
            topics=[DeleteTopicsRequest.DeleteTopicState(name="grown")], timeout_ms=30000)
        response = send(delete)
        assert [r.error_code for r in response.responses] == [0]
        cluster.wait_for("the topic gone", lambda: "grown" not in
                         cluster.admin().list_topics(timeout=5).topics)
    finally:
        admin.close()
