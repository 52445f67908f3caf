"""Stress (not collected by pytest; run by hand against a release build):
`.venv/bin/python tests/python/stress_compaction.py [ROUNDS=3000]`.

Many updates per key on a compacted topic with tiny segments and a busy cleaner; concurrently,
fresh consumers read from the start to the high watermark and check the last value per key.
A key whose acknowledged record below the high watermark was not read is a problem unless a
newer record of it lies at or past that high watermark: the cleaner, running during the read
with a newer high watermark, may remove the older one (counted as "explained"). Issue 20's
session saw such races and, once, librdkafka's MSG_SIZE_TOO_LARGE on segments the cleaner had
left with empty batches only (fixed in `Log::read_bounded`)."""
import sys, time, threading, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import Server

data = Path(tempfile.mkdtemp(prefix="flakestress-"))
server = Server(data, "--config", "log.segment.bytes=600", "--config", "log.cleaner.backoff.ms=10",
                "--config", "log.cleaner.min.cleanable.ratio=0.01")
T = "st"
admin = AdminClient({"bootstrap.servers": server.kafka})
admin.create_topics([NewTopic(T, 1, 1, config={"cleanup.policy": "compact", "segment.bytes": "600"})])[T].result()
KEYS = 5
acked = {}  # key -> (offset, value) of the latest acknowledged
lock = threading.Lock()
stop = False
problems = []
explained = []

def produce():
    p = Producer({"bootstrap.servers": server.kafka, "linger.ms": 5, "batch.size": 400})
    def cb(err, msg):
        if err: problems.append(f"produce error {err}"); return
        with lock:
            k = msg.key()
            if k not in acked or acked[k][0] < msg.offset(): acked[k] = (msg.offset(), msg.value())
    n = 0
    while not stop and n < int(sys.argv[1]) if len(sys.argv) > 1 else 3000:
        for k in range(KEYS):
            p.produce(T, key=f"k{k}".encode(), value=str(n).encode(), on_delivery=cb)
        n += 1
        p.poll(0)
        if n % 20 == 0: p.flush(); time.sleep(0.02)
    p.flush()

def read_once(i):
    with lock:
        snapshot = dict(acked)
    c = Consumer({"bootstrap.servers": server.kafka, "group.id": f"g{i}", "enable.auto.commit": False, "auto.offset.reset": "error"})
    tp = TopicPartition(T, 0)
    low, high = c.get_watermark_offsets(tp, timeout=10)
    c.assign([TopicPartition(T, 0, 0 if low <= 0 else low)])
    last = {}
    offsets = []
    pos = low
    deadline = time.monotonic() + 20
    while pos < high and time.monotonic() < deadline:
        m = c.poll(1)
        if m is None: continue
        if m.error(): problems.append(f"read {i}: error {m.error()} at pos {pos} low {low} high {high}"); break
        offsets.append(m.offset())
        last[m.key()] = (m.offset(), m.value())
        pos = m.offset() + 1
    c.close()
    if pos < high:
        problems.append(f"read {i}: stuck at {pos} < high {high}")
    time.sleep(0.5)  # let the producer's delivery callbacks for what was appended arrive
    with lock:
        after = dict(acked)
    for k, (off, v) in snapshot.items():
        if off < high and (k not in last or last[k][0] < off):
            # Legit only if a newer record of k lies at or past high (the cleaner, running
            # with a newer high watermark during the read, superseded off by it).
            if after[k][0] >= high:
                explained.append(f"read {i}: key {k} acked {off} < high {high} superseded by {after[k][0]}")
            else:
                problems.append(f"read {i}: key {k} last read {last.get(k)} but acked {(off, v)} below high {high}, newest acked {after[k]}")
    if offsets != sorted(set(offsets)):
        problems.append(f"read {i}: offsets not increasing")
    return high

t = threading.Thread(target=produce); t.start()
i = 0
try:
    while t.is_alive() and not problems:
        read_once(i); i += 1
    t.join()
    for _ in range(5):
        read_once(i); i += 1
finally:
    stop = True; t.join()
    server.stop()
print(f"{i} reads, acked {len(acked)} keys; problems: {len(problems)}; explained by the read racing the cleaner: {len(explained)}")
for e in explained[:3]: print(e)
for p in problems[:10]: print(p)
print("data dir", data)
sys.exit(1 if problems else 0)
