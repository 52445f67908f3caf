// KafkaJS against a real `partita serve`: a third client implementation (after librdkafka
// and kafka-python), written from the protocol spec after the Java client, with its own
// assignors and its own way through the group protocol.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { startServer } from "../browser/server.mjs";

const MESSAGES = 40;
const KEYS = 5;
const CONSUME_TIMEOUT_MS = 30_000;

let server;
let kafka;

before(async () => {
  // Kafka waits 3 s for more members before a new group's first rebalance; tests need not.
  server = await startServer(["--config", "group.initial.rebalance.delay.ms=0"]);
  kafka = new Kafka({ clientId: "partita-kafkajs-test", brokers: [server.kafka], logLevel: logLevel.NOTHING });
});

after(async () => {
  await server?.stop();
});

/** Polls `holds` every 100 ms until it is true. */
async function until(holds, what) {
  const deadline = Date.now() + CONSUME_TIMEOUT_MS;
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `consumer` until `count` messages arrived in all (shared by several consumers). */
function collect(consumers, count) {
  const got = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages`)), CONSUME_TIMEOUT_MS);
    for (const [name, consumer] of consumers) {
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          got.push({ consumer: name, partition, offset: Number(message.offset), key: message.key.toString(), value: message.value.toString() });
          if (got.length === count) {
            clearTimeout(timer);
            resolve(got);
          }
        },
      }).catch(reject);
    }
  });
}

test("admin, an idempotent producer and a group of two consumers", async () => {
  const admin = kafka.admin();
  await admin.connect();
  assert.ok(await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 3, replicationFactor: 1 }] }));
  assert.ok((await admin.listTopics()).includes("orders"));

  // Two members, and a stable group of both, before anything is produced: each gets a share.
  const consumers = [];
  for (const name of ["a", "b"]) {
    const consumer = kafka.consumer({ groupId: "order-processor", heartbeatInterval: 300, sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: "orders", fromBeginning: true });
    consumers.push([name, consumer]);
  }
  const got = collect(consumers, MESSAGES);
  await until(async () => {
    const [group] = (await admin.describeGroups(["order-processor"])).groups;
    return group.state === "Stable" && group.members.length === 2;
  }, "a stable group of two");

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent = await producer.send({
    topic: "orders",
    acks: -1,
    messages: Array.from({ length: MESSAGES }, (_, i) => ({ key: `k${i % KEYS}`, value: `v${i}` })),
  });
  assert.ok(sent.every((r) => r.errorCode === 0));
  const ends = await admin.fetchTopicOffsets("orders");
  assert.equal(ends.reduce((sum, p) => sum + Number(p.high), 0), MESSAGES);

  const messages = await got;
  assert.deepEqual(messages.map((m) => m.value).sort(), Array.from({ length: MESSAGES }, (_, i) => `v${i}`).sort(), "each message once");
  for (let k = 0; k < KEYS; k++) {
    const ofKey = messages.filter((m) => m.key === `k${k}`);
    assert.equal(new Set(ofKey.map((m) => m.partition)).size, 1, `k${k} is in one partition`);
    const order = ofKey.map((m) => Number(m.value.slice(1)));
    assert.deepEqual(order, [...order].sort((x, y) => x - y), `k${k} in the order sent`);
  }
  assert.deepEqual(new Set(messages.map((m) => m.consumer)), new Set(["a", "b"]), "both members consumed");
  for (const partition of [0, 1, 2]) {
    assert.equal(new Set(messages.filter((m) => m.partition === partition).map((m) => m.consumer)).size, 1,
      `partition ${partition} went to one member`);
  }

  for (const [, consumer] of consumers) await consumer.disconnect();
  const committed = await admin.fetchOffsets({ groupId: "order-processor", topics: ["orders"] });
  assert.deepEqual(
    committed[0].partitions.map((p) => [p.partition, Number(p.offset)]).sort(),
    ends.map((p) => [p.partition, Number(p.high)]).sort(),
    "the group committed up to every high watermark",
  );
  assert.equal((await admin.describeGroups(["order-processor"])).groups[0].state, "Empty");

  await producer.disconnect();
  await admin.deleteTopics({ topics: ["orders"] });
  assert.ok(!(await admin.listTopics()).includes("orders"));
  await admin.disconnect();
});

test("transactions: a committed transaction is read, an aborted one is not (read_committed)", async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "payments", numPartitions: 1 }] });
  const transactional = kafka.producer({ transactionalId: "tx-1", idempotent: true, maxInFlightRequests: 1 });
  await transactional.connect();
  const committed = await transactional.transaction();
  await committed.send({ topic: "payments", messages: [{ key: "k", value: "committed-1" }, { key: "k", value: "committed-2" }] });
  await committed.commit();
  const aborted = await transactional.transaction();
  await aborted.send({ topic: "payments", messages: [{ key: "k", value: "aborted" }] });
  await aborted.abort();
  await transactional.disconnect();
  // A plain record after both: once it arrives, everything before it has been fetched.
  const plain = kafka.producer();
  await plain.connect();
  const [result] = await plain.send({ topic: "payments", messages: [{ key: "k", value: "after" }] });
  assert.equal(result.errorCode, 0);
  await plain.disconnect();

  const consumer = kafka.consumer({ groupId: "payments-reader", readUncommitted: false, heartbeatInterval: 300, sessionTimeout: 10_000 });
  await consumer.connect();
  await consumer.subscribe({ topic: "payments", fromBeginning: true });
  const got = await collect([["reader", consumer]], 3);
  await consumer.disconnect();
  assert.deepEqual(got.map((m) => m.value), ["committed-1", "committed-2", "after"]);
  await admin.disconnect();
});

test("SASL/PLAIN: KafkaJS logs in to a broker that requires it, and a wrong password is refused", async () => {
  const secured = await startServer(["--sasl-plain-user", "alice:s3:cret"]);
  try {
    const client = (password) => new Kafka({
      clientId: "partita-kafkajs-sasl",
      brokers: [secured.kafka],
      sasl: { mechanism: "plain", username: "alice", password },
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    const admin = client("s3:cret").admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "secured", numPartitions: 1 }] });
    const producer = client("s3:cret").producer();
    await producer.connect();
    const [sent] = await producer.send({ topic: "secured", messages: [{ value: "hello" }] });
    assert.equal(sent.errorCode, 0);
    const [offsets] = await admin.fetchTopicOffsets("secured");
    assert.equal(Number(offsets.high), 1);
    await producer.disconnect();
    await admin.disconnect();

    const intruder = client("guess").admin();
    await assert.rejects(() => intruder.connect(), /SASL|authentication/i);
  } finally {
    await secured.stop();
  }
});
