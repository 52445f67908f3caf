// KafkaJS over TLS (Node's own `tls`): over SSL with client certificates required (mTLS), a
// client with a certificate signed by the CA produces and consumes in a group and one without
// is refused; over SASL_SSL it logs in with SCRAM-SHA-512 and does the same. The throwaway CA
// and certificates come from `openssl`, as the Python TLS tests make theirs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { startServer } from "../browser/server.mjs";
import { connectedAdmin } from "./admin.mjs";

const USER = "admin";
const PASSWORD = "admin-secret";
const CONSUME_TIMEOUT_MS = 30_000;

let dir;
let mtls;
let saslSsl;

function openssl(...args) {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}

/** A P-256 key `name.key` and an X.509 v3 certificate `name.pem` signed by the test CA. */
function issue(name, subject, usage) {
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
  writeFileSync(join(dir, `${name}.ext`),
    `subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=${usage}\n`);
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key",
    "-CAcreateserial", "-days", "2", "-out", `${name}.pem`, "-extfile", `${name}.ext`);
}

const file = (name) => readFileSync(join(dir, name), "utf8");

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "partita-kafkajs-tls-"));
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Partita KafkaJS CA");
  issue("broker", "/CN=localhost", "serverAuth");
  issue("client", "/O=Partita Test/CN=kafkajs", "clientAuth");
  const tls = ["--tls-cert", join(dir, "broker.pem"), "--tls-key", join(dir, "broker.key"),
    "--config", "group.initial.rebalance.delay.ms=0"];
  mtls = await startServer([...tls, "--tls-client-ca", join(dir, "ca.pem")]);
  saslSsl = await startServer([...tls,
    "--config", "sasl.enabled.mechanisms=SCRAM-SHA-512",
    "--add-scram", `SCRAM-SHA-512=[name=${USER},password=${PASSWORD}]`]);
});

after(async () => {
  await mtls?.stop();
  await saslSsl?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A client of `server`; `refused` for one expected to be refused (no retries). */
function kafka(server, ssl, sasl, refused = false) {
  return new Kafka({
    clientId: "partita-kafkajs-tls",
    brokers: [server.kafka],
    ssl,
    sasl,
    retry: refused ? { retries: 0 } : { retries: 5, initialRetryTime: 100 },
    logLevel: logLevel.NOTHING,
  });
}

/** Creates `topic`, produces three messages, and reads them back in a consumer group. */
async function produceAndConsumeInAGroup(client, topic) {
  const admin = await connectedAdmin(client);
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  await admin.disconnect();

  const producer = client.producer();
  await producer.connect();
  const values = ["one", "two", "three"];
  await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
  await producer.disconnect();

  const groupId = `${topic}-group`;
  const consumer = client.consumer({ groupId, heartbeatInterval: 300, sessionTimeout: 10_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = await new Promise((resolve, reject) => {
    const seen = [];
    const timer = setTimeout(() => reject(new Error(`only ${seen}`)), CONSUME_TIMEOUT_MS);
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value.toString());
        if (seen.length === values.length) {
          clearTimeout(timer);
          resolve(seen);
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  assert.deepEqual(got.sort(), [...values].sort());

  // The group committed what it read.
  const check = await connectedAdmin(client);
  const [offsets] = await check.fetchOffsets({ groupId, topics: [topic] });
  await check.disconnect();
  // A partition nothing was read from has no committed offset (-1).
  const committed = offsets.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  assert.equal(committed, values.length);
}

test("SSL with client certificates required: served with one, refused without", async () => {
  const withCert = { ca: [file("ca.pem")], cert: file("client.pem"), key: file("client.key") };
  await produceAndConsumeInAGroup(kafka(mtls, withCert), "kafkajs-mtls");

  const anonymous = kafka(mtls, { ca: [file("ca.pem")] }, undefined, true).admin();
  await assert.rejects(anonymous.connect());
  // The broker goes on serving the client with a certificate.
  const again = await connectedAdmin(kafka(mtls, withCert));
  assert.ok((await again.listTopics()).includes("kafkajs-mtls"));
  await again.disconnect();
});

test("SASL_SSL with SCRAM-SHA-512: produce and consume in a group; a wrong password is refused", async () => {
  const ssl = { ca: [file("ca.pem")] };
  const login = (password) => ({ mechanism: "scram-sha-512", username: USER, password });
  await produceAndConsumeInAGroup(kafka(saslSsl, ssl, login(PASSWORD)), "kafkajs-sasl-ssl");

  const wrong = kafka(saslSsl, ssl, login("guess"), true).admin();
  await assert.rejects(wrong.connect(), (e) => {
    assert.match(String(e.message), /SASL SCRAM SHA512 authentication failed|SASL_AUTHENTICATION_FAILED|invalid credentials/i);
    return true;
  });
  // Without TLS the SASL_SSL listener does not answer Kafka's requests.
  const plaintext = kafka(saslSsl, undefined, login(PASSWORD), true).admin();
  await assert.rejects(plaintext.connect());
});
