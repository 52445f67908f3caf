#!/usr/bin/env python3
"""Records a history for `partita check` from a real client (confluent-kafka, librdkafka).

Two phases, each appending JSON lines (format: ARCHITECTURE.md, "History files") to --out:

  workload  creates the topic (if asked), then for --duration-s produces values with unique ids
            (`v<P>.<N>` from producer P, keyed `k<N mod 16>`; --producers threads at --rate
            sends a second in all) and consumes them in a group, recording every send,
            acknowledgement (partition, offset) or error, assignment, revocation, poll and
            commit; then flushes the producer (bounded by message.timeout.ms).
  final     waits for every partition to have a leader, then reads each from the beginning up to
            its high watermark and writes one `final` line per partition.

`partita chaos` runs `workload` while it injects faults and `final` after it healed the cluster;
the tests run both against a healthy cluster. Bounded in time: every wait has a deadline.
"""

import argparse
import json
import sys
import threading
import time

from confluent_kafka import (TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

T0 = time.monotonic()


class History:
    """The output file; lines from several threads, one write each."""

    def __init__(self, path: str):
        self.file = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, kind: str, **fields) -> None:
        fields = {"type": kind, **fields}
        if "at" not in fields and kind != "final":
            fields["at"] = int((time.monotonic() - T0) * 1000)
        line = json.dumps(fields, separators=(",", ":"))
        with self.lock:
            self.file.write(line + "\n")

    def close(self) -> None:
        with self.lock:
            self.file.flush()
            self.file.close()


def create_topic(args) -> None:
    config = {"min.insync.replicas": str(args.min_insync_replicas)}
    for pair in args.topic_config:
        name, _, value = pair.partition("=")
        config[name] = value
    topic = NewTopic(args.topic, args.partitions, args.replication_factor, config=config)
    deadline = time.monotonic() + 60
    while True:
        # A fresh client each time: librdkafka keeps the first Metadata's "no controller yet"
        # (the quorum elects one in the first seconds) and waits on it until it times out.
        admin = AdminClient({"bootstrap.servers": args.bootstrap})
        try:
            admin.create_topics([topic], operation_timeout=10,
                                request_timeout=10)[args.topic].result()
            break
        except KafkaException as e:
            if e.args[0].name() == "TOPIC_ALREADY_EXISTS":
                break
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    wait_for_leaders(args, admin)


def wait_for_leaders(args, admin, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            meta = admin.list_topics(topic=args.topic, timeout=5).topics[args.topic]
            if meta.error is None and len(meta.partitions) == args.partitions and all(
                    p.leader >= 0 for p in meta.partitions.values()):
                return
            last = meta
        except KafkaException as e:
            last = e
        time.sleep(0.3)
    raise SystemExit(f"history_recorder: partitions of {args.topic} have no leader: {last!r}")


def producer_config(args) -> dict:
    config = {
        "bootstrap.servers": args.bootstrap,
        "acks": args.acks,
        "enable.idempotence": args.idempotence,
        "message.timeout.ms": args.message_timeout_ms,
        "request.timeout.ms": 5000,
        "linger.ms": 5,
    }
    if args.idempotence and not args.pipeline:
        # librdkafka (rdkafka_request.c, 2.15) handles OUT_OF_ORDER_SEQUENCE_NUMBER on a
        # request behind a failed one (R1 refused during a leader change, R2 then reaching the
        # new leader) by bumping the producer epoch for every partition and numbering every
        # queued batch from 0 again, including a batch of another partition whose request failed
        # after the old leader wrote it (a disconnection: "possibly persisted"). No broker can
        # recognise that resend; Apache Kafka writes it twice too: librdkafka issue 4953, fix
        # proposed in PR 4972 (Java's producer does not bump there). One request in flight per
        # connection never has a request behind a failed one, so a duplicate found with it is
        # the broker's (unless sends timed out too: librdkafka bumps the epoch then as well, and
        # the history has their `fail`s). --pipeline keeps librdkafka's five.
        config["max.in.flight.requests.per.connection"] = 1
    return config


def produce(args, history: History, stop: threading.Event, index: int) -> None:
    """One producer: `--rate / --producers` sends a second (paced against the clock, so
    librdkafka batches them and keeps many in flight), or as many as it can when --rate is 0."""
    producer = Producer(producer_config(args))
    name = f"p{index}"

    def delivered(err, msg):
        value = msg.value().decode()
        if err is not None:
            history.write("fail", producer=name, value=value, error=err.name())
        else:
            # No offset (None) when librdkafka acknowledges a batch implicitly: its request
            # failed (timed out) but a later batch of the partition succeeded, so it is written,
            # at an offset the client never learnt. -1 says "unknown", as with acks=0.
            offset = msg.offset()
            stamped = {}
            kind, timestamp = msg.timestamp()
            if kind == TIMESTAMP_LOG_APPEND_TIME:
                # The leader's clock (message.timestamp.type=LogAppendTime): clock-skew runs.
                stamped["log_append_time_ms"] = timestamp
            history.write("ack", producer=name, value=value, topic=msg.topic(),
                          partition=msg.partition(), offset=-1 if offset is None else offset,
                          **stamped)

    interval = args.producers / args.rate if args.rate > 0 else 0
    started = time.monotonic()
    n = 0
    while not stop.is_set():
        value, key = f"v{index}.{n}", f"k{n % 16}"
        try:
            producer.produce(args.topic, value=value, key=key, on_delivery=delivered)
        except BufferError:
            producer.poll(0.1)
            continue
        history.write("send", producer=name, value=value, key=key)
        n += 1
        producer.poll(0)
        if interval:
            ahead = started + n * interval - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    remaining = producer.flush(args.message_timeout_ms / 1000 + 10)
    if remaining:
        print(f"history_recorder: {remaining} sends neither acknowledged nor failed",
              file=sys.stderr)


def consume(args, history: History, stop: threading.Event) -> None:
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
    })

    def partitions(tps):
        return [{"topic": tp.topic, "partition": tp.partition} for tp in tps]

    def committed(err, tps):
        if err is None:
            for tp in tps:
                if tp.error is None and tp.offset >= 0:
                    history.write("commit", consumer="c", topic=tp.topic,
                                  partition=tp.partition, offset=tp.offset)

    consumer.subscribe(
        [args.topic],
        on_assign=lambda _c, tps: history.write("assign", consumer="c",
                                                partitions=partitions(tps)),
        on_revoke=lambda _c, tps: history.write("revoke", consumer="c",
                                                partitions=partitions(tps)),
    )
    last_commit = time.monotonic()
    try:
        while not stop.is_set():
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                history.write("poll", consumer="c", topic=msg.topic(), partition=msg.partition(),
                              offset=msg.offset(), value=msg.value().decode())
            if time.monotonic() - last_commit > 1:
                last_commit = time.monotonic()
                try:
                    committed(None, consumer.commit(asynchronous=False) or [])
                except KafkaException:
                    pass  # nothing to commit yet, or the coordinator is away: next second
    finally:
        consumer.close()


def workload(args) -> None:
    if args.create_topic:
        create_topic(args)
    history = History(args.out)
    stop_producing, stop_consuming = threading.Event(), threading.Event()
    producers = [threading.Thread(target=produce, args=(args, history, stop_producing, i))
                 for i in range(args.producers)]
    consumer = threading.Thread(target=consume, args=(args, history, stop_consuming))
    for producer in producers:
        producer.start()
    consumer.start()
    time.sleep(args.duration_s)
    stop_producing.set()
    for producer in producers:
        producer.join()
    stop_consuming.set()
    consumer.join()
    history.close()


def final(args) -> None:
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    wait_for_leaders(args, admin, timeout_s=args.final_timeout_s)
    history = History(args.out)
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": f"{args.group}-final",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
    })
    for partition in range(args.partitions):
        tp = TopicPartition(args.topic, partition)
        deadline = time.monotonic() + args.final_timeout_s
        readable, records = False, []
        while time.monotonic() < deadline and not readable:
            try:
                low, high = consumer.get_watermark_offsets(tp, timeout=5)
                readable = True
            except KafkaException:
                time.sleep(0.5)
        if readable and high > low:
            tp.offset = low
            consumer.assign([tp])
            position = low
            while position < high and time.monotonic() < deadline:
                msg = consumer.poll(1)
                if msg is None or msg.error() is not None:
                    continue
                records.append([msg.offset(), msg.value().decode()])
                position = msg.offset() + 1
            readable = position >= high
            consumer.unassign()
        history.write("final", topic=args.topic, partition=partition, readable=readable,
                      records=records)
    consumer.close()
    history.close()


def end_with_parent() -> None:
    """Asks Linux to SIGKILL this process when its parent exits (PR_SET_PDEATHSIG, as
    `partita serve --parent-pid` does): a `partita chaos` that is killed leaves no recorder
    behind. Elsewhere than Linux, nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import os
    import signal
    parent = os.getppid()
    pr_set_pdeathsig = 1
    if ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
        raise SystemExit(f"history_recorder: prctl: {os.strerror(ctypes.get_errno())}")
    if os.getppid() != parent:  # the parent exited before the prctl
        raise SystemExit("history_recorder: the parent exited")


def main() -> None:
    end_with_parent()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["workload", "final"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", default="chaos")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--out", required=True, help="the history file (appended to)")
    parser.add_argument("--create-topic", action="store_true")
    parser.add_argument("--replication-factor", type=int, default=3)
    parser.add_argument("--min-insync-replicas", type=int, default=2)
    parser.add_argument("--acks", default="all", choices=["0", "1", "all", "-1"])
    parser.add_argument("--idempotence", action="store_true")
    parser.add_argument("--pipeline", action="store_true",
                        help="with --idempotence, keep librdkafka's 5 requests in flight per "
                             "partition (its epoch bump can then write a batch twice: see "
                             "producer_config)")
    parser.add_argument("--duration-s", type=float, default=10)
    parser.add_argument("--producers", type=int, default=1,
                        help="producer threads, each its own librdkafka producer")
    parser.add_argument("--rate", type=float, default=200,
                        help="sends per second over all producers (0: as fast as possible)")
    parser.add_argument("--topic-config", action="append", default=[], metavar="NAME=VALUE",
                        help="a config of the created topic; repeatable")
    parser.add_argument("--message-timeout-ms", type=int, default=30000)
    parser.add_argument("--group", default="chaos-consumer")
    parser.add_argument("--final-timeout-s", type=float, default=60)
    args = parser.parse_args()
    workload(args) if args.phase == "workload" else final(args)


if __name__ == "__main__":
    main()
