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
