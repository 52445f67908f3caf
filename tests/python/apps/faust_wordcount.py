"""A faust-streaming app with a table: counts words from the `words` topic in a table whose
changelog (`wordcount-counts-changelog`, created compacted by faust) is its only durable
state. A timer writes the table to $DUMP as JSON for the test to read."""

import json
import os

import faust

app = faust.App(
    "wordcount",
    broker=f"kafka://{os.environ['BOOTSTRAP']}",
    store="memory://",
    topic_partitions=1,
    topic_replication_factor=1,
    web_enabled=False,
    # The test runs the broker with log.segment.bytes=600, which the changelog inherits: a
    # larger producer batch is refused with RECORD_LIST_TOO_LARGE (as Kafka does), and faust
    # only logs that and drops the update (then commits its input anyway). Batches of at most
    # 400 bytes always fit.
    producer_max_batch_size=400,
)
words = app.topic("words", value_type=str)
counts = app.Table("counts", default=int, partitions=1)


@app.agent(words)
async def count(stream):
    async for word in stream:
        counts[word] += 1


@app.timer(0.3)
async def dump():
    path = os.environ["DUMP"]
    with open(path + ".tmp", "w") as out:
        json.dump(dict(counts.items()), out)
    os.replace(path + ".tmp", path)
