// KafkaJS logs in with SASL/SCRAM-SHA-512 (its own SCRAM client, written after the Java one)
// to a `partita serve` whose first user comes from `--add-scram`, produces and consumes; a
// wrong password is refused with SASL_AUTHENTICATION_FAILED and the broker goes on.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { startServer } from "../browser/server.mjs";
import { connectedAdmin } from "./admin.mjs";

const USER = "admin";
const PASSWORD = "admin-secret";

let server;

before(async () => {
  server = await startServer([
    "--config", "group.initial.rebalance.delay.ms=0",
    "--config", "sasl.enabled.mechanisms=SCRAM-SHA-512",
    "--add-scram", `SCRAM-SHA-512=[name=${USER},password=${PASSWORD}]`,
  ]);
});

after(async () => {
  await server?.stop();
});

function kafka(password) {
  return new Kafka({
    clientId: "partita-kafkajs-scram",
    brokers: [server.kafka],
    sasl: { mechanism: "scram-sha-512", username: USER, password },
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
}

test("SCRAM-SHA-512: produce and consume; a wrong password is refused", async () => {
  const client = kafka(PASSWORD);
  const admin = await connectedAdmin(client);
  await admin.createTopics({ topics: [{ topic: "scram-js", numPartitions: 1 }] });
  await admin.disconnect();

  const producer = client.producer();
  await producer.connect();
  await producer.send({ topic: "scram-js", messages: [{ value: "one" }, { value: "two" }] });
  await producer.disconnect();

  const consumer = client.consumer({ groupId: "scram-js-group" });
  await consumer.connect();
  await consumer.subscribe({ topic: "scram-js", fromBeginning: true });
  const got = await new Promise((resolve, reject) => {
    const values = [];
    const timer = setTimeout(() => reject(new Error(`only ${values}`)), 30_000);
    consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value.toString());
        if (values.length === 2) {
          clearTimeout(timer);
          resolve(values);
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  assert.deepEqual(got, ["one", "two"]);

  const wrong = kafka("guess").admin();
  await assert.rejects(wrong.connect(), (e) => {
    assert.match(String(e.message), /SASL SCRAM SHA512 authentication failed|SASL_AUTHENTICATION_FAILED|invalid credentials/i);
    return true;
  });
  // The broker goes on.
  const again = await connectedAdmin(kafka(PASSWORD));
  assert.ok((await again.listTopics()).includes("scram-js"));
  await again.disconnect();
});
