"""Other real clients: kafka-python and kcat, producing and consuming through partita."""

import subprocess

from kafka import KafkaConsumer, KafkaProducer

KCAT_TIMEOUT_S = 30


def kcat(server, *args, input_text=None):
    done = subprocess.run(["kcat", "-b", server.kafka, *args], input=input_text,
                          capture_output=True, text=True, timeout=KCAT_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kafka_python_produces_and_consumes_in_a_group(server):
    producer = KafkaProducer(bootstrap_servers=server.kafka, acks="all")
    futures = [producer.send("py-orders", key=b"user:42", value=f"order {i}".encode()) for i in range(15)]
    producer.flush(timeout=30)
    offsets = [f.get(timeout=30).offset for f in futures]
    producer.close()
    assert offsets == list(range(15))

    consumer = KafkaConsumer("py-orders", bootstrap_servers=server.kafka, group_id="py-group",
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=10_000)
    values = []
    for message in consumer:
        values.append(message.value)
        if len(values) == 15:
            break
    consumer.commit()
    consumer.close()
    assert values == [f"order {i}".encode() for i in range(15)]
    rows = server.partita("groups", "--describe", "--group", "py-group")
    assert "py-orders" in rows


def test_kcat_produces_consumes_and_queries_offsets(server):
    server.partita("topics", "--create", "--topic", "orders", "--partitions", "3", "--replication-factor", "1")
    kcat(server, "-P", "-t", "orders", "-K", "|", input_text="user:42|first\nuser:42|second\nuser:7|third\n")
    out = kcat(server, "-C", "-t", "orders", "-e", "-f", "%k=%s@%p\n")
    lines = sorted(out.splitlines())
    assert [l.split("@")[0] for l in lines] == ["user:42=first", "user:42=second", "user:7=third"]
    partition_42 = {l.split("@")[1] for l in lines if l.startswith("user:42")}
    assert len(partition_42) == 1

    listing = kcat(server, "-L", "-t", "orders")
    assert "topic \"orders\" with 3 partitions" in listing
    # -Q: the offset of the first message at or after a timestamp (0: the earliest).
    queried = kcat(server, "-Q", "-t", f"orders:{next(iter(partition_42))}:0")
    assert "offset 0" in queried


def test_partita_produce_and_consume_round_trip_with_kcat(server):
    import subprocess as sp
    from conftest import partita_binary

    produce = sp.run([str(partita_binary()), "produce", "--bootstrap-server", server.kafka, "--topic", "cli",
                      "--key-separator", "|"], input="user:42|first\nuser:7|second\n",
                     capture_output=True, text=True, timeout=30)
    assert produce.returncode == 0, produce.stderr
    kcat(server, "-P", "-t", "cli", "-z", "zstd", "-k", "user:9", input_text="third\n")
    consume = sp.run([str(partita_binary()), "consume", "--bootstrap-server", server.kafka, "--topic", "cli",
                      "--from-beginning", "--print-key", "--max-messages", "3"],
                     capture_output=True, text=True, timeout=30)
    assert consume.returncode == 0, consume.stderr
    assert sorted(consume.stdout.splitlines()) == ["user:42\tfirst", "user:7\tsecond", "user:9\tthird"]
    assert sorted(kcat(server, "-C", "-t", "cli", "-e", "-f", "%s\n").splitlines()) == ["first", "second", "third"]
