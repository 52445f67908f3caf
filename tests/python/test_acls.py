"""ACLs with Kafka's StandardAuthorizer semantics (`authorizer.class.name`, `super.users`,
`allow.everyone.if.no.acl.found`), over SASL_PLAINTEXT with PLAIN users: real clients
(confluent-kafka, kafka-python, kcat) are allowed and refused with Kafka's codes, ACLs are
added, listed and removed with `partita acls` and with confluent-kafka's AdminClient, and they
survive a restart and, on three nodes, the SIGKILL of the active controller. With mTLS the
client certificate's principal is the caller."""

import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation,
                                   AclPermissionType, AdminClient, NewTopic, ResourcePatternType,
                                   ResourceType)

from clients import consume, produce_all
from cluster import Cluster
from conftest import Server, partita_binary
from test_tls import CLIENT_PRINCIPAL, certs  # noqa: F401 (a fixture)

STANDARD = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
USERS = {"admin": "admin-pw", "alice": "alice-pw", "bob": "bob-pw"}
SECURED = [arg for name, pw in USERS.items() for arg in ("--sasl-plain-user", f"{name}:{pw}")] + [
    "--config", f"authorizer.class.name={STANDARD}",
    "--config", "super.users=User:admin",
]
DEADLINE_S = 30


@pytest.fixture
def secured(data_dir):
    running = Server(data_dir, *SECURED)
    yield running
    running.stop()


def conf(bootstrap: str, user: str) -> dict:
    return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN", "sasl.username": user, "sasl.password": USERS[user]}


def acls(bootstrap: str, *args: str, user: str = "admin") -> str:
    """`partita acls ...` as `user`; returns stdout, asserting success."""
    done = subprocess.run([str(partita_binary()), "acls", "--bootstrap-server", bootstrap,
                           "--sasl-username", user, "--sasl-password", USERS[user], *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def create_topics(bootstrap: str, *names: str, replication: int = 1) -> None:
    admin = AdminClient(conf(bootstrap, "admin"))
    for future in admin.create_topics([NewTopic(n, 1, replication) for n in names]).values():
        future.result(DEADLINE_S)


def produce_errors(bootstrap: str, user: str, topic: str, count: int = 1) -> list:
    """Produces `count` messages as `user`; returns each delivery's error (None: delivered)."""
    producer = Producer({**conf(bootstrap, user), "message.timeout.ms": 10000})
    results = []
    for i in range(count):
        producer.produce(topic, value=f"{user}-{i}".encode(),
                         on_delivery=lambda err, msg: results.append(err))
    producer.flush(DEADLINE_S)
    return results


def consume_as(bootstrap: str, user: str, topic: str, group: str, count: int) -> list[bytes]:
    consumer = Consumer({**conf(bootstrap, user), "group.id": group,
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        return sorted(m.value() for m in consume(consumer, count))
    finally:
        consumer.close()


def first_consumer_error(bootstrap: str, user: str, topic: str, group: str) -> KafkaError:
    consumer = Consumer({**conf(bootstrap, user), "group.id": group,
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is not None:
                return msg.error()
            assert msg is None, f"read {msg.value()!r} without being allowed"
        raise AssertionError("no error within the deadline")
    finally:
        consumer.close()


def test_a_reader_consumes_and_cannot_produce(secured):
    create_topics(secured.kafka, "orders")
    produce_all(conf(secured.kafka, "admin"), [("orders", None, f"o{i}".encode()) for i in range(3)])
    out = acls(secured.kafka, "--add", "--allow-principal", "User:alice", "--operation", "Read",
               "--topic", "orders", "--group", "readers")
    assert ("Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, "
            "patternType=LITERAL)`: \n \t(principal=User:alice, host=*, operation=READ, "
            "permissionType=ALLOW) \n") in out

    assert consume_as(secured.kafka, "alice", "orders", "readers", 3) == [b"o0", b"o1", b"o2"]
    errors = produce_errors(secured.kafka, "alice", "orders")
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED], errors
    # Read on the topic is not Read on another group.
    error = first_consumer_error(secured.kafka, "alice", "orders", "strangers")
    assert error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, error
    # bob has no ACL at all.
    errors = produce_errors(secured.kafka, "bob", "orders")
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED], errors


def test_a_prefixed_acl_covers_every_topic_it_starts(secured):
    create_topics(secured.kafka, "orders-eu", "orders-us", "payments")
    acls(secured.kafka, "--add", "--allow-principal", "User:bob", "--operation", "Write",
         "--topic", "orders-", "--resource-pattern-type", "prefixed")
    assert produce_errors(secured.kafka, "bob", "orders-eu", 2) == [None, None]
    assert produce_errors(secured.kafka, "bob", "orders-us") == [None]
    errors = produce_errors(secured.kafka, "bob", "payments")
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
    listed = acls(secured.kafka, "--list", "--topic", "orders-", "--resource-pattern-type",
                  "prefixed")
    assert ("Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders-, "
            "patternType=PREFIXED)`: \n \t(principal=User:bob, host=*, operation=WRITE, "
            "permissionType=ALLOW) \n") in listed


def test_a_deny_beats_an_allow(secured):
    create_topics(secured.kafka, "ledger")
    produce_all(conf(secured.kafka, "admin"), [("ledger", None, b"entry")])
    acls(secured.kafka, "--add", "--allow-principal", "User:alice", "--operation", "All",
         "--topic", "ledger", "--group", "auditors")
    acls(secured.kafka, "--add", "--deny-principal", "User:alice", "--operation", "Write",
         "--topic", "ledger")
    errors = produce_errors(secured.kafka, "alice", "ledger")
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
    assert consume_as(secured.kafka, "alice", "ledger", "auditors", 1) == [b"entry"]


def test_a_super_user_does_everything_without_acls(secured):
    admin = AdminClient(conf(secured.kafka, "admin"))
    admin.create_topics([NewTopic("anything", 2, 1)])["anything"].result(DEADLINE_S)
    assert produce_errors(secured.kafka, "admin", "anything", 2) == [None, None]
    assert consume_as(secured.kafka, "admin", "anything", "admins", 2) == [b"admin-0", b"admin-1"]
    admin.delete_topics(["anything"])["anything"].result(DEADLINE_S)
    # Nobody else may create a topic.
    alice = AdminClient(conf(secured.kafka, "alice"))
    with pytest.raises(KafkaException) as refused:
        alice.create_topics([NewTopic("mine", 1, 1)])["mine"].result(DEADLINE_S)
    assert refused.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_metadata_hides_topics_the_caller_may_not_describe(secured):
    create_topics(secured.kafka, "public", "secret")
    acls(secured.kafka, "--add", "--allow-principal", "User:alice", "--operation", "Describe",
         "--topic", "public")
    alice = AdminClient(conf(secured.kafka, "alice"))
    topics = alice.list_topics(timeout=10).topics
    assert "public" in topics and "secret" not in topics, sorted(topics)
    named = alice.list_topics(topic="secret", timeout=10).topics["secret"]
    assert named.error is not None and named.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    # kcat sees the same.
    listed = subprocess.run(["kcat", "-b", secured.kafka, "-X", "security.protocol=SASL_PLAINTEXT",
                             "-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=alice",
                             "-X", f"sasl.password={USERS['alice']}", "-L"],
                            capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert 'topic "public"' in listed.stdout and "secret" not in listed.stdout
    # kafka-python: a Describe-only user's consumer is refused Read.
    from kafka import KafkaConsumer
    from kafka.errors import TopicAuthorizationFailedError
    consumer = KafkaConsumer(bootstrap_servers=secured.kafka, security_protocol="SASL_PLAINTEXT",
                             sasl_mechanism="PLAIN", sasl_plain_username="alice",
                             sasl_plain_password=USERS["alice"], consumer_timeout_ms=3000)
    from kafka import TopicPartition
    consumer.assign([TopicPartition("public", 0)])
    consumer.seek(TopicPartition("public", 0), 0)
    with pytest.raises(TopicAuthorizationFailedError):
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            consumer.poll(timeout_ms=500)
    consumer.close()


def test_allow_everyone_if_no_acl_found(data_dir):
    server = Server(data_dir, "--config", f"authorizer.class.name={STANDARD}",
                    "--config", "allow.everyone.if.no.acl.found=true")
    try:
        plain = {"bootstrap.servers": server.kafka, "message.timeout.ms": 10000}
        admin = AdminClient(plain)
        for name in ["free", "guarded"]:
            admin.create_topics([NewTopic(name, 1, 1)])[name].result(DEADLINE_S)
        # No ACL on the cluster: anonymous may add one; then "guarded" has an ACL, and only
        # what it allows is allowed there.
        futures = admin.create_acls([AclBinding(
            ResourceType.TOPIC, "guarded", ResourcePatternType.LITERAL, "User:ops", "*",
            AclOperation.WRITE, AclPermissionType.ALLOW)])
        for future in futures.values():
            future.result(DEADLINE_S)
        produce_all(plain, [("free", None, b"anyone")])
        producer = Producer(plain)
        errors = []
        producer.produce("guarded", value=b"anon", on_delivery=lambda err, msg: errors.append(err))
        producer.flush(DEADLINE_S)
        assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED], errors
        described = admin.describe_acls(AclBindingFilter(
            ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
            AclPermissionType.ANY)).result(DEADLINE_S)
        assert [(b.name, b.principal, b.operation) for b in described] == [
            ("guarded", "User:ops", AclOperation.WRITE)]
    finally:
        server.stop()


def test_acls_survive_a_restart(data_dir):
    server = Server(data_dir, *SECURED)
    try:
        create_topics(server.kafka, "kept")
        produce_all(conf(server.kafka, "admin"), [("kept", None, b"k")])
        acls(server.kafka, "--add", "--allow-principal", "User:alice", "--operation", "Read",
             "--topic", "kept", "--group", "g")
    finally:
        server.stop()
    server = Server(data_dir, *SECURED)
    try:
        listed = acls(server.kafka, "--list")
        assert "ResourcePattern(resourceType=TOPIC, name=kept, patternType=LITERAL)" in listed
        assert "ResourcePattern(resourceType=GROUP, name=g, patternType=LITERAL)" in listed
        assert consume_as(server.kafka, "alice", "kept", "g", 1) == [b"k"]
        errors = produce_errors(server.kafka, "alice", "kept")
        assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
    finally:
        server.stop()


def test_partita_acls_adds_lists_and_removes(secured):
    acls(secured.kafka, "--add", "--allow-principal", "User:alice", "--allow-principal",
         "User:bob", "--operation", "Read", "--operation", "Describe", "--topic", "t1")
    acls(secured.kafka, "--add", "--deny-principal", "User:bob", "--deny-host", "10.0.0.9",
         "--operation", "Write", "--transactional-id", "tx-")
    listed = acls(secured.kafka, "--list", "--topic", "t1")
    for principal in ["User:alice", "User:bob"]:
        for op in ["READ", "DESCRIBE"]:
            assert f"\t(principal={principal}, host=*, operation={op}, permissionType=ALLOW)" in listed
    only_bob = acls(secured.kafka, "--list", "--principal", "User:bob")
    assert only_bob.startswith("ACLs for principal `User:bob`\n")
    assert "User:alice" not in only_bob
    assert ("ResourcePattern(resourceType=TRANSACTIONAL_ID, name=tx-, patternType=LITERAL)`: \n"
            " \t(principal=User:bob, host=10.0.0.9, operation=WRITE, permissionType=DENY) \n") in only_bob
    # Remove one principal's entries, then everything left on the topic.
    acls(secured.kafka, "--remove", "--force", "--allow-principal", "User:bob", "--operation",
         "Read", "--operation", "Describe", "--topic", "t1")
    listed = acls(secured.kafka, "--list", "--topic", "t1")
    assert "User:alice" in listed and "User:bob" not in listed
    acls(secured.kafka, "--remove", "--force", "--topic", "t1")
    assert acls(secured.kafka, "--list", "--topic", "t1") == ""
    # A match filter lists what applies to a name: the literal ACL of tx- does not match tx-1.
    assert acls(secured.kafka, "--list", "--transactional-id", "tx-1",
                "--resource-pattern-type", "match") == ""
    # Only those allowed Alter on the cluster may add ACLs.
    done = subprocess.run([str(partita_binary()), "acls", "--bootstrap-server", secured.kafka,
                           "--sasl-username", "alice", "--sasl-password", USERS["alice"],
                           "--add", "--allow-principal", "User:alice", "--topic", "x"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "CLUSTER_AUTHORIZATION_FAILED" in done.stderr, done.stderr


def test_acl_apis_without_an_authorizer_answer_security_disabled(server):
    """kafka-python's admin client (librdkafka reports an empty list instead of the error)."""
    from kafka.admin import (ACLFilter, ACLOperation, ACLPermissionType,
                             ACLResourcePatternType, KafkaAdminClient, ResourcePatternFilter)
    from kafka.admin import ResourceType as KafkaPythonResourceType
    from kafka.errors import SecurityDisabledError
    admin = KafkaAdminClient(bootstrap_servers=server.kafka)
    try:
        with pytest.raises(SecurityDisabledError, match="No Authorizer is configured"):
            admin.describe_acls(ACLFilter(
                principal=None, host="*", operation=ACLOperation.ANY,
                permission_type=ACLPermissionType.ANY,
                resource_pattern=ResourcePatternFilter(KafkaPythonResourceType.ANY, None,
                                                       ACLResourcePatternType.ANY)))
    finally:
        admin.close()


def test_acls_survive_a_sigkill_of_the_active_controller(data_dir):
    cluster = Cluster(data_dir, 3, *SECURED)
    nodes = cluster.nodes
    try:
        bootstrap = cluster.bootstrap()
        admin = AdminClient(conf(bootstrap, "admin"))
        cluster.wait_for("three brokers", lambda: len(admin.list_topics(timeout=5).brokers) == 3)
        admin.create_topics([NewTopic("replicated", 1, 3)])["replicated"].result(DEADLINE_S)
        produce_all({**conf(bootstrap, "admin"), "acks": "all"}, [("replicated", None, b"r")])
        controller = cluster.wait_for("one active controller every node names",
                                      lambda: agreed_controller(nodes.values()))
        # Created through a node that is not the active controller: forwarded (KIP-590).
        other = next(n for i, n in nodes.items() if i != controller)
        other_admin = AdminClient(conf(other.kafka, "admin"))  # kept alive until answered
        for future in other_admin.create_acls([
            AclBinding(ResourceType.TOPIC, "replicated", ResourcePatternType.LITERAL,
                       "User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW),
            AclBinding(ResourceType.GROUP, "survivors", ResourcePatternType.LITERAL,
                       "User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW),
        ]).values():
            future.result(DEADLINE_S)
        nodes[controller].kill()
        alive = cluster.bootstrap()
        survivor = AdminClient(conf(alive, "admin"))
        cluster.wait_for("another active controller",
                         lambda: survivor.list_topics(timeout=5).controller_id
                         not in (-1, controller))
        for node_id, node in nodes.items():
            if node_id == controller:
                continue
            listed = acls(node.kafka, "--list", "--topic", "replicated")
            assert "(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)" in listed
        assert consume_as(alive, "alice", "replicated", "survivors", 1) == [b"r"]
        errors = produce_errors(alive, "alice", "replicated")
        assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
        # The new controller takes new ACLs too.
        acls(alive.split(",")[0], "--add", "--allow-principal", "User:bob", "--operation",
             "Write", "--topic", "replicated")
        assert produce_errors(alive, "bob", "replicated") == [None]
    finally:
        cluster.stop()


def agreed_controller(nodes) -> int | None:
    """The active controller when every node's Metadata names the same one."""
    ids = set()
    for node in nodes:
        client = AdminClient(conf(node.kafka, "admin"))
        ids.add(client.list_topics(timeout=5).controller_id)
    return ids.pop() if len(ids) == 1 and min(ids) > 0 else None


def test_the_client_certificate_is_the_principal(certs, data_dir):
    """mTLS: a client certificate's principal (`User:CN=...`) is a super user; a client without
    one (`ssl.client.auth=requested`) is `User:ANONYMOUS`, allowed only what an ACL allows it."""
    server = Server(data_dir, "--tls-cert", str(certs / "broker.pem"),
                    "--tls-key", str(certs / "broker.key"),
                    "--tls-client-ca", str(certs / "ca.pem"),
                    "--config", "ssl.client.auth=requested",
                    "--config", f"authorizer.class.name={STANDARD}",
                    "--config", f"super.users={CLIENT_PRINCIPAL}")
    try:
        anonymous = {"bootstrap.servers": server.kafka, "security.protocol": "SSL",
                     "ssl.ca.location": str(certs / "ca.pem"), "message.timeout.ms": 10000}
        with_cert = {**anonymous, "ssl.certificate.location": str(certs / "client.pem"),
                     "ssl.key.location": str(certs / "client.key")}
        admin = AdminClient(with_cert)
        admin.create_topics([NewTopic("mtls", 1, 1)])["mtls"].result(DEADLINE_S)
        produce_all(with_cert, [("mtls", None, b"by certificate")])

        def anonymous_produce() -> list:
            producer = Producer(anonymous)
            errors = []
            producer.produce("mtls", value=b"anon", on_delivery=lambda err, msg: errors.append(err))
            producer.flush(DEADLINE_S)
            return errors

        errors = anonymous_produce()
        assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED], errors
        for future in admin.create_acls([AclBinding(
                ResourceType.TOPIC, "mtls", ResourcePatternType.LITERAL, "User:ANONYMOUS",
                "127.0.0.1", AclOperation.WRITE, AclPermissionType.ALLOW)]).values():
            future.result(DEADLINE_S)
        assert anonymous_produce() == [None]
    finally:
        server.stop()


def test_partita_acls_logs_in_with_a_command_config(secured, tmp_path):
    """kafka-acls.sh's --command-config: Kafka client properties with a PLAIN login."""
    properties = tmp_path / "admin.properties"
    properties.write_text(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="admin" password="{USERS["admin"]}";\n')
    done = subprocess.run([str(partita_binary()), "acls", "--bootstrap-server", secured.kafka,
                           "--command-config", str(properties), "--add", "--allow-principal",
                           "User:alice", "--operation", "Describe", "--group", "g"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ("Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=g, "
            "patternType=LITERAL)`: \n \t(principal=User:alice, host=*, operation=DESCRIBE, "
            "permissionType=ALLOW) \n") in done.stdout
