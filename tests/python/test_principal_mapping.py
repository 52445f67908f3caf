"""`ssl.principal.mapping.rules` (KIP-371) end to end: with client certificates required and a
rule that maps `CN=<name>,O=Partita Test` to `<name>`, the ACLs see `User:alice`, not the
distinguished name; a certificate no rule maps is refused; an invalid rule stops the start with
Kafka's message. kcat also produces and consumes over SSL with a client certificate."""

import subprocess

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, AdminClient,
                                   NewTopic, ResourcePatternType, ResourceType)

from conftest import partita_binary
from test_acls import DEADLINE_S, STANDARD
from test_tls import LoggedServer, certs, issue  # noqa: F401 (certs: a fixture)

RULES = r"RULE:^CN=([^,]+),O=Partita Test$/$1/L,RULE:^CN=([^,]+),OU=Ops,O=Partita Test$/ops-$1/"


@pytest.fixture(scope="module")
def people(certs):  # noqa: F811
    """Client certificates for admin, alice and bob (`O=Partita Test`), an operator
    (`OU=Ops`), and mallory of another organisation, whom no rule maps."""
    for name, subject in [("admin", "/O=Partita Test/CN=admin"),
                          ("alice", "/O=Partita Test/CN=Alice"),
                          ("bob", "/O=Partita Test/CN=bob"),
                          ("op", "/O=Partita Test/OU=Ops/CN=carol"),
                          ("mallory", "/O=Elsewhere/CN=mallory")]:
        issue(certs, name, subject, "clientAuth")
    return certs


@pytest.fixture(scope="module")
def mapped(people, tmp_path_factory):
    running = LoggedServer(tmp_path_factory, "mapped",
                           "--tls-cert", str(people / "broker.pem"),
                           "--tls-key", str(people / "broker.key"),
                           "--tls-client-ca", str(people / "ca.pem"),
                           "--config", f"ssl.principal.mapping.rules={RULES}",
                           "--config", f"authorizer.class.name={STANDARD}",
                           "--config", "super.users=User:admin")
    yield running
    running.stop()


def as_(server, people, name: str) -> dict:
    return {"bootstrap.servers": server.kafka, "security.protocol": "SSL",
            "ssl.ca.location": str(people / "ca.pem"),
            "ssl.certificate.location": str(people / f"{name}.pem"),
            "ssl.key.location": str(people / f"{name}.key"), "message.timeout.ms": 10000}


def produce_as(config: dict, topic: str) -> list:
    producer = Producer(config)
    errors = []
    producer.produce(topic, value=b"x", on_delivery=lambda err, msg: errors.append(err))
    producer.flush(DEADLINE_S)
    return errors


def test_the_acls_see_the_mapped_principal(mapped, people):
    admin = AdminClient(as_(mapped, people, "admin"))
    admin.create_topics([NewTopic("mapped", 1, 1)])["mapped"].result(DEADLINE_S)
    for future in admin.create_acls([
            AclBinding(ResourceType.TOPIC, "mapped", ResourcePatternType.LITERAL, principal,
                       "*", AclOperation.WRITE, AclPermissionType.ALLOW)
            for principal in ("User:alice", "User:ops-carol")]).values():
        future.result(DEADLINE_S)
    # `CN=Alice,O=Partita Test` is `User:alice` (lower case: /L); the ACL names that.
    assert produce_as(as_(mapped, people, "alice"), "mapped") == [None]
    assert mapped.logged("TLS client certificate", "User:alice"), mapped.log_path.read_text()
    # The second rule, tried after the first did not match.
    assert produce_as(as_(mapped, people, "op"), "mapped") == [None]
    assert mapped.logged("TLS client certificate", "User:ops-carol")
    # bob maps too, but no ACL allows him.
    errors = produce_as(as_(mapped, people, "bob"), "mapped")
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED], errors


def test_a_certificate_no_rule_maps_is_refused(mapped, people):
    stranger = AdminClient(as_(mapped, people, "mallory"))
    with pytest.raises(KafkaException):
        stranger.list_topics(timeout=3)
    assert mapped.logged("No rules apply to CN=mallory,O=Elsewhere")
    # The broker goes on.
    assert "mapped" in AdminClient(as_(mapped, people, "admin")).list_topics(timeout=10).topics


def test_kcat_over_ssl_with_a_client_certificate(mapped, people):
    admin = AdminClient(as_(mapped, people, "admin"))
    admin.create_topics([NewTopic("kcat-mtls", 1, 1)])["kcat-mtls"].result(DEADLINE_S)
    for future in admin.create_acls([
            AclBinding(ResourceType.TOPIC, "kcat-mtls", ResourcePatternType.LITERAL,
                       "User:alice", "*", AclOperation.ALL, AclPermissionType.ALLOW)]).values():
        future.result(DEADLINE_S)
    kcat = ["kcat", "-b", mapped.kafka, "-X", "security.protocol=ssl",
            "-X", f"ssl.ca.location={people / 'ca.pem'}",
            "-X", f"ssl.certificate.location={people / 'alice.pem'}",
            "-X", f"ssl.key.location={people / 'alice.key'}"]
    produced = subprocess.run([*kcat, "-P", "-t", "kcat-mtls"], input="one\ntwo\n",
                              capture_output=True, text=True, timeout=30)
    assert produced.returncode == 0, produced.stderr
    consumed = subprocess.run([*kcat, "-C", "-t", "kcat-mtls", "-o", "beginning", "-c", "2", "-e"],
                              capture_output=True, text=True, timeout=30)
    assert consumed.returncode == 0, consumed.stderr
    assert consumed.stdout.split() == ["one", "two"]
    # bob's certificate is served, but his principal has no ACL on the topic.
    bob = [*kcat[:-4], "-X", f"ssl.certificate.location={people / 'bob.pem'}",
           "-X", f"ssl.key.location={people / 'bob.key'}"]
    refused = subprocess.run([*bob, "-C", "-t", "kcat-mtls", "-o", "beginning", "-c", "1", "-e"],
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "one" not in refused.stdout


def test_an_invalid_rule_stops_the_start(people, tmp_path):
    done = subprocess.run([str(partita_binary()), "serve", "--data-dir", str(tmp_path / "d"),
                           "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
                           "--tls-cert", str(people / "broker.pem"),
                           "--tls-key", str(people / "broker.key"),
                           "--config", "ssl.principal.mapping.rules=DEFAULT/L"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "Invalid rule: `DEFAULT/L`, unmatched substring: `/L`" in done.stderr, done.stderr
