// Every guided tour in headless Chromium, against a real `partita serve`: open it from a link,
// step it, check what the page shows, save a screenshot, and fail on any page error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { startServer, launchBrowser, screenshotPath, partitaBinary } from "./support.mjs";

let server;
let chrome;

before(async () => {
  server = await startServer();
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

async function open(query) {
  const page = await chrome.newPage();
  await page.goto(`${server.httpUrl}?${query}`);
  await page.getByTestId("playground").waitFor({ timeout: 20_000 });
  return page;
}

const eventCount = async (page) => Number((await page.getByTestId("clock").textContent()).match(/event (\d+)/)[1]);

test("stepping, stepping back, playing and the URL", async () => {
  const page = await open("scenario=keyed-ordering&seed=3&step=0");
  assert.equal(await eventCount(page), 0);
  await page.getByTestId("step").click();
  await page.getByTestId("step").click();
  await page.keyboard.press("n");
  assert.equal(await eventCount(page), 3);
  await page.getByTestId("step-back").click();
  assert.equal(await eventCount(page), 2);
  assert.match(page.url(), /scenario=keyed-ordering&seed=3&step=2/);
  await page.getByTestId("play").click();
  await page.waitForFunction(() => /event ([1-9]\d{2,})/.test(document.querySelector("[data-testid=clock]").textContent));
  await page.keyboard.press(" ");
  assert.ok((await page.getByTestId("event").count()) > 0);
  assert.deepEqual(chrome.errors, []);
});

test("a shared link reproduces the same cluster, with what was done by hand", async () => {
  const a = await open("scenario=acks1-leader-crash&seed=7&step=400");
  const b = await open("scenario=acks1-leader-crash&seed=7&step=400");
  const view = (p) => p.locator(".layout").innerText();
  assert.equal(await view(a), await view(b));

  // Crash a broker, step, create a topic, send to it, step: the address bar now holds all of it.
  const byHand = await open("scenario=keyed-ordering&seed=3&step=150");
  await byHand.getByTestId("crash-broker").nth(1).click();
  for (let i = 0; i < 5; i++) await byHand.getByTestId("step").click();
  await byHand.getByTestId("topic-name").fill("payments");
  await byHand.getByTestId("topic-name").dispatchEvent("change");
  await byHand.getByTestId("create-topic").click();
  for (let i = 0; i < 50; i++) await byHand.getByTestId("step").click();
  await byHand.getByTestId("producer-topic").selectOption("payments");
  await byHand.getByTestId("send-burst").click();
  for (let i = 0; i < 100; i++) await byHand.keyboard.press("n");
  const link = byHand.url();
  assert.match(link, /actions=/);
  const opened = await chrome.newPage();
  await opened.goto(link);
  await opened.getByTestId("playground").waitFor({ timeout: 20_000 });
  for (const part of [".brokers", ".partitions", ".clients", ".timeline"]) {
    assert.equal(await opened.locator(part).innerText(), await byHand.locator(part).innerText(), part);
  }
  assert.match(await opened.locator(".partitions").innerText(), /payments-2/);
  assert.deepEqual(chrome.errors, []);
});

// Steps until `holds()` (an injected fault is an event like any other, queued behind others).
async function stepUntil(page, what, holds) {
  for (let i = 0; i < 300; i++) {
    if (await holds()) return;
    await page.getByTestId("step").click();
  }
  assert.fail(`${what} never happened`);
}

test("crashing and restarting a broker from its button", async () => {
  const page = await open("scenario=keyed-ordering&seed=1&step=200");
  assert.equal(await page.getByTestId("broker").count(), 3);
  const crash = page.getByTestId("crash-broker").first();
  await crash.click();
  await stepUntil(page, "the crash", async () => (await crash.textContent()) === "Restart");
  assert.ok((await page.getByText("crashed").count()) > 0);
  assert.ok((await page.getByText(/^broker 1 \(down\)/).count()) > 0, "its replicas are shown as down");
  await crash.click();
  await stepUntil(page, "the restart", async () => (await crash.textContent()) === "Crash");
  assert.deepEqual(chrome.errors, []);
});

// What each tour shows once it has run to its end (seed 1): the outcome the article describes.
const outcomes = {
  "keyed-ordering": /acknowledged [1-9]/,
  "keyed-vs-keyless": /keyless \(producer\)\s*sent 60 · acknowledged 60/,
  "partition-parallelism": /owns nothing \(idle\)/,
  "replication-isr": /broker 2 \(in sync\)/,
  "acks0-leader-crash": /epoch [1-9]/,
  "acks1-leader-crash": /epoch [1-9]/,
  "acks-all-leader-crash": /epoch [1-9]/,
  "min-isr": /NOT_ENOUGH_REPLICAS|failed [1-9]/,
  "rebalance-eager": /3 members/,
  "rebalance-cooperative": /3 members/,
  "at-least-once": /processed [1-9]/,
  "at-most-once": /processed [1-9]/,
  "idempotence-off": /acknowledged [1-9]/,
  "idempotence-on": /acknowledged [1-9]/,
  lag: /lag 0\b/,
  compaction: /kept \d+ of \d+ records|\+\d+/,
  "controller-failover": /leader term [2-9]/,
  "coordinator-failover": /processed 200\b/,
  transactions: /read-committed \(consumer\) \[read_committed\] polled 40\b/,
  "exactly-once": /writes to invoices \(exactly-once, transactional\.id=transformer-0\)/,
  "at-least-once-ctp": /writes to invoices \(at-least-once\)/,
  "zombie-fenced": /transactional\.id=payments-app/,
  "txn-coordinator-crash": /payments-reader \(consumer\) \[read_committed\] polled 60\b/,
};

test("every guided tour renders, runs to its outcome and explains itself", async () => {
  const first = await open("scenario=keyed-ordering&seed=1&step=0");
  const scenarios = await first.getByTestId("scenario").locator("option").evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual([...scenarios].sort(), Object.keys(outcomes).sort());
  for (const scenario of scenarios) {
    // Step the tour from its start, then open it at its end.
    const start = await open(`scenario=${scenario}&seed=1&step=0`);
    for (let i = 0; i < 3; i++) await start.getByTestId("step").click();
    assert.match(await start.getByTestId("clock").textContent(), /event 3 /, scenario);
    await start.close();
    const page = await open(`scenario=${scenario}&seed=1&step=100000`);
    await page.getByTestId("tour").waitFor();
    const text = await page.getByTestId("playground").innerText();
    assert.match(text, outcomes[scenario], scenario);
    assert.ok((await page.getByTestId("partition").count()) >= 1, scenario);
    // The seed's twelve partitions; the group's __consumer_offsets partitions are shown too.
    if (scenario === "replication-isr") {
      assert.equal(await page.getByTestId("partition").filter({ hasNotText: "__consumer_offsets" }).count(), 12);
    }
    assert.ok((await page.getByTestId("event").count()) > 0, scenario);
    await page.screenshot({ path: screenshotPath(`tour-${scenario}`), fullPage: true });
    await page.close();
  }
  assert.deepEqual(chrome.errors, []);
});

// Determinism across platforms: the simulator compiled to wasm and run in Chromium gives the
// trace hash (and the checker's verdict) that the native `partita sim` gives for the seed.
test("the browser's run of a seed equals the native one, verdict included", async () => {
  for (const [scenario, seed] of [["acks1-leader-crash", 1], ["rebalance-cooperative", 3], ["at-most-once", 5], ["at-least-once-ctp", 2]]) {
    const native = JSON.parse(
      execFileSync(partitaBinary(), ["sim", "--scenario", scenario, "--seed", String(seed), "--json"], { encoding: "utf8" }),
    );
    const page = await open(`scenario=${scenario}&seed=${seed}&step=0`);
    await page.getByTestId("finish").click();
    await page.getByTestId("verdict").waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId("trace-hash").textContent(), native.trace_hash, `${scenario} seed ${seed}`);
    const anomalies = await page.getByTestId("anomalies").textContent();
    for (const kind of new Set(native.anomalies.map((a) => a.kind))) {
      assert.match(anomalies, new RegExp(kind), `${scenario}: the page shows ${kind}`);
    }
    if (native.anomalies.length === 0) assert.match(anomalies, /No anomalies/);
    await page.screenshot({ path: screenshotPath(`verdict-${scenario}`), fullPage: true });
    await page.close();
  }
  assert.deepEqual(chrome.errors, []);
});

// The compaction tour: while it plays, the first cleaning collapses each key's cells (gap marks
// appear); at its end the leader's strip holds exactly the records the native run left, and its
// cells plus its gap marks cover every offset up to the high watermark: the offsets a consumer
// reading from the start jumps over.
test("the compaction tour shows cells collapsing to the latest of each key, and the offset gaps", async () => {
  const native = JSON.parse(
    execFileSync(partitaBinary(), ["sim", "--scenario", "compaction", "--seed", "1", "--json"], { encoding: "utf8" }),
  );
  const page = await open("scenario=compaction&seed=1&step=0");
  const gaps = page.getByTestId("offset-gap");
  assert.equal(await gaps.count(), 0, "nothing cleaned at the start");
  await page.getByTestId("show-messages").uncheck();
  await page.getByTestId("speed").fill("50");
  await page.getByTestId("speed").dispatchEvent("change");
  await page.getByTestId("play").click();
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=offset-gap]").length > 0, null, { timeout: 60_000 });
  await page.keyboard.press(" ");
  assert.match(await page.locator(".timeline").innerText(), /log cleaner compacted table-0 below offset \d+: kept \d+ of \d+ records/);
  await page.screenshot({ path: screenshotPath("tour-compaction-first-cleaning"), fullPage: true });
  await page.close();

  const end = await open("scenario=compaction&seed=1&step=100000");
  await end.getByTestId("tour").waitFor();
  assert.match(await end.getByTestId("tour").innerText(), /Compaction keeps the latest value of each key/);
  // The topic's partition, not one of __consumer_offsets (shown once the reader's group runs).
  const leader = end.getByTestId("partition").filter({ hasText: "table-0 ·" }).locator(".replica").first();
  const strip = leader.locator(".strip");
  const offsets = (await strip.locator(".offsets").innerText()).match(/start (\d+) · hw (\d+) · end (\d+)/);
  assert.equal(Number(offsets[2]), native.high_watermark);
  const records = await strip.locator(".cell.committed, .cell.uncommitted").count();
  assert.equal(records, native.records_left, "the leader's cells are the records the native run left");
  assert.equal(await strip.locator(".cell.tombstone").count(), native.tombstones_left);
  const gapTexts = await strip.getByTestId("offset-gap").allInnerTexts();
  assert.ok(gapTexts.length >= 1);
  const skipped = gapTexts.reduce((sum, t) => sum + Number(t.replace("+", "")), 0);
  assert.equal(records + skipped, Number(offsets[2]), "cells and gaps cover every offset below the high watermark");
  await end.screenshot({ path: screenshotPath("tour-compaction-end"), fullPage: true });
  await end.close();
  assert.deepEqual(chrome.errors, []);
});

test("cutting a broker off, healing, and pausing, slowing or crashing a consumer", async () => {
  const page = await open("scenario=partition-parallelism&seed=2&step=300");
  const firstBroker = page.getByTestId("broker").first();
  await page.getByTestId("cut-off-broker").first().click();
  await page.getByTestId("speed").fill("50");
  await page.getByTestId("speed").dispatchEvent("change");
  await page.getByTestId("play").click();
  // Cut off from the controller, it misses its heartbeats and is fenced.
  await firstBroker.getByText("fenced").waitFor({ timeout: 30_000 });
  await page.getByTestId("heal").click();
  await firstBroker.getByText(/^up$/).waitFor({ timeout: 30_000 });
  await page.keyboard.press(" ");
  const timeline = () => page.locator(".timeline").innerText();
  for (const [action, shown] of [["pause-client", /fault: pause client-\d+ for 5000ms/], ["slow-client", /fault: slow client-\d+/],
                                 ["crash-client", /fault: crash client-\d+ at AfterProcessingBeforeCommit/]]) {
    await page.getByTestId(action).first().click();
    await stepUntil(page, action, async () => shown.test(await timeline()));
  }
  await page.screenshot({ path: screenshotPath("faults"), fullPage: true });
  assert.deepEqual(chrome.errors, []);
});

test("sending from the page: one message, a burst, and a consumer joining", async () => {
  const page = await open("scenario=partition-parallelism&seed=4&step=100");
  await page.getByTestId("producer-acks").selectOption("1");
  await page.getByTestId("send-one").click();
  const clients = () => page.locator(".clients").innerText();
  await page.getByTestId("speed").fill("20");
  await page.getByTestId("speed").dispatchEvent("change");
  await page.getByTestId("play").click();
  await page.waitForFunction(() => /web-producer-\d+ \(producer\)\s*sent 1 · acknowledged 1/.test(document.querySelector(".clients").innerText), null, { timeout: 30_000 });
  await page.getByTestId("producer-keys").selectOption("0");
  await page.getByTestId("producer-idempotence").check();
  await page.getByTestId("send-burst").click();
  await page.waitForFunction(() => /sent 20 · acknowledged 20/.test(document.querySelector(".clients").innerText), null, { timeout: 30_000 });
  await page.getByTestId("add-consumer").click();
  await page.waitForFunction(() => /web-consumer-\d+ \(consumer\)/.test(document.querySelector(".clients").innerText), null, { timeout: 30_000 });
  await page.keyboard.press(" ");
  // Stepping back replays what was done before the step it returns to (the sends).
  const before = await eventCount(page);
  await page.getByTestId("step-back").click();
  assert.equal(await eventCount(page), before - 1);
  assert.match(await clients(), /web-producer/);
  await page.screenshot({ path: screenshotPath("send-from-the-page"), fullPage: true });
  assert.deepEqual(chrome.errors, []);
});

test("the lag chart grows with the slow consumer's lag", async () => {
  const page = await open("scenario=lag&seed=1&step=0");
  await page.getByTestId("speed").fill("100");
  await page.getByTestId("speed").dispatchEvent("change");
  await page.getByTestId("play").click();
  await page.waitForFunction(() => {
    const line = document.querySelector("[data-testid=lag-chart] polyline");
    return line && line.getAttribute("points").split(" ").length > 20;
  }, null, { timeout: 30_000 });
  await page.keyboard.press(" ");
  const heights = await page.locator("[data-testid=lag-chart] polyline").first().evaluate((l) =>
    l.getAttribute("points").split(" ").map((p) => Number(p.split(",")[1])));
  assert.ok(Math.min(...heights) < 40, "some sample has lag above zero (y below the baseline)");
  await page.screenshot({ path: screenshotPath("lag-chart"), fullPage: true });
  assert.deepEqual(chrome.errors, []);
});

// The keys as the page colours them: every record of a key, in every partition's leader strip,
// has that key's colour, and each key is found in one partition only; keyless records are grey
// and in every partition.
test("log cells show each record's key by colour, one partition per key", async () => {
  const page = await open("scenario=keyed-vs-keyless&seed=2&step=100000");
  const legend = await page.getByTestId("key-legend").innerText();
  for (const key of ["k0", "k1", "k2", "no key"]) assert.ok(legend.includes(key), `legend: ${legend}`);
  const leaders = await page.getByTestId("partition").evaluateAll((partitions) =>
    partitions.map((p) => [...p.querySelector(".replica .strip").querySelectorAll(".cell[title]")].map((c) => ({
      key: (c.title.match(/key (k\d+)/) ?? [null, null])[1],
      colour: c.style.background,
    }))));
  const partitionsOf = {};
  const colourOf = {};
  leaders.forEach((cells, partition) => {
    for (const { key, colour } of cells) {
      const name = key ?? "none";
      (partitionsOf[name] ??= new Set()).add(partition);
      (colourOf[name] ??= new Set()).add(colour);
    }
  });
  for (const key of ["k0", "k1", "k2"]) {
    assert.equal(partitionsOf[key].size, 1, `${key} is in one partition`);
    assert.equal(colourOf[key].size, 1, `${key} has one colour`);
  }
  assert.equal(partitionsOf.none.size, 3, "keyless records are in every partition");
  assert.equal(new Set(["k0", "k1", "k2", "none"].map((k) => [...colourOf[k]][0])).size, 4, "four different colours");
  await page.screenshot({ path: screenshotPath("key-colours"), fullPage: true });
  assert.deepEqual(chrome.errors, []);
});

test("the controller, and a cut-off broker's state", async () => {
  const page = await open("scenario=keyed-ordering&seed=1&step=50");
  assert.match(await page.getByTestId("controller").innerText(), /controller quorum[\s\S]*active: controller 30\d\d[\s\S]*metadata log: \d+ records[\s\S]*leader term \d+, log end \d+, committed \d+[\s\S]*live brokers: 1, 2, 3/);
  await page.getByTestId("cut-off-broker").nth(1).click();
  const second = page.getByTestId("broker").nth(1);
  await stepUntil(page, "the cut", async () => /cut off/.test(await second.innerText()));
  assert.deepEqual(chrome.errors, []);
});

test("removing a consumer, creating a topic, and producing to it", async () => {
  const page = await open("scenario=rebalance-cooperative&seed=1&step=3000");
  const group = page.getByTestId("group").first();
  const members = async () => Number((await group.locator("h3").innerText()).match(/(\d+) members/)[1]);
  const before = await members();
  const consumer = page.getByTestId("client").filter({ hasText: "(consumer)" }).filter({ hasText: "running" }).first();
  const name = (await consumer.locator("strong").innerText()).split(" ")[0];
  await consumer.getByTestId("remove-client").click();
  await stepUntil(page, "the consumer leaving", async () => (await members()) === before - 1);
  const removed = page.getByTestId("client").filter({ hasText: `${name} (consumer)` });
  assert.match(await removed.innerText(), /stopped/);
  assert.equal(await removed.getByTestId("remove-client").count(), 0, "a stopped client has no buttons");

  await page.getByTestId("topic-name").fill("bad name!");
  await page.getByTestId("topic-name").dispatchEvent("change");
  assert.ok(await page.getByTestId("create-topic").isDisabled());
  await page.getByTestId("topic-error").waitFor();
  await page.getByTestId("topic-name").fill("payments");
  await page.getByTestId("topic-name").dispatchEvent("change");
  await page.getByTestId("topic-partitions").fill("4");
  await page.getByTestId("topic-partitions").dispatchEvent("change");
  await page.getByTestId("topic-replication").fill("2");
  await page.getByTestId("topic-replication").dispatchEvent("change");
  await page.getByTestId("create-topic").click();
  const payments = page.getByTestId("partition").filter({ hasText: /payments-\d/ });
  await stepUntil(page, "the topic's partitions", async () => (await payments.count()) === 4);
  assert.match(await payments.first().innerText(), /leader [123] · epoch \d+ · ISR \[\d, \d\]/);

  // A topic with a small retention: the log start moves once old segments are deleted.
  await page.getByTestId("topic-name").fill("short-lived");
  await page.getByTestId("topic-name").dispatchEvent("change");
  await page.getByTestId("topic-partitions").fill("1");
  await page.getByTestId("topic-partitions").dispatchEvent("change");
  await page.getByTestId("topic-retention").selectOption("small");
  await page.getByTestId("create-topic").click();
  const shortLived = page.getByTestId("partition").filter({ hasText: "short-lived-0" });
  await stepUntil(page, "the short-lived topic", async () => (await shortLived.count()) === 1);
  await page.getByTestId("producer-topic").selectOption("short-lived");
  await page.getByTestId("send-rate").click();

  await page.getByTestId("producer-topic").selectOption("payments");
  await page.getByTestId("send-burst").click();
  await page.getByTestId("add-consumer").click();
  await page.getByTestId("speed").fill("50");
  await page.getByTestId("speed").dispatchEvent("change");
  await page.getByTestId("play").click();
  await page.waitForFunction(() => /sent 20 · acknowledged 20/.test(document.querySelector(".clients").innerText), null, { timeout: 30_000 });
  await page.waitForFunction(() => /playground-group/.test(document.querySelector(".groups").innerText), null, { timeout: 30_000 });
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=partition]")]
    .some((p) => /short-lived-0/.test(p.innerText) && /start [1-9]\d* · hw/.test(p.innerText)), null, { timeout: 60_000 });
  await page.keyboard.press(" ");
  await page.screenshot({ path: screenshotPath("remove-consumer-create-topic"), fullPage: true });
  assert.deepEqual(chrome.errors, []);
});

test("the timeline in plain words, with the network messages hidden on request", async () => {
  const page = await open("scenario=replication-isr&seed=1&step=1200");
  await page.getByTestId("show-messages").uncheck();
  const events = await page.getByTestId("event").allInnerTexts();
  assert.ok(events.length > 10);
  assert.ok(events.every((e) => !/ sent | received /.test(e)), "no message sends or receipts");
  assert.ok(events.some((e) => /broker \d fetched offsets? \d+(–\d+)? from broker \d, leader of orders-\d+ in epoch \d+/.test(e)),
    `a follower's fetch in words:\n${events.join("\n")}`);
  assert.ok(events.some((e) => /producer got an acknowledgement/.test(e)), "clients by name");
  await page.getByTestId("show-messages").check();
  assert.ok((await page.getByTestId("event").allInnerTexts()).some((e) => / sent | received /.test(e)));
  assert.deepEqual(chrome.errors, []);
});

// Transactions (issue 16): commit and abort markers are cells of their own, the records of
// aborted transactions are shaded, the LSO is shown beside the high watermark, and a
// read_committed consumer reads fewer records than a read_uncommitted one beside it.
test("the transactions tour shows markers, aborted records, the LSO and both isolation levels", async () => {
  const page = await open("scenario=transactions&seed=1&step=100000");
  await page.getByTestId("tour").waitFor();
  const payments = page.getByTestId("partition").filter({ hasText: "payments-" });
  assert.equal(await payments.count(), 2);
  const markers = payments.getByTestId("control-record");
  assert.ok((await markers.filter({ hasText: "C" }).count()) > 0, "commit markers");
  assert.ok((await markers.filter({ hasText: "A" }).count()) > 0, "abort markers");
  assert.ok((await payments.locator(".cell.aborted").count()) > 0, "aborted records shaded");
  assert.match(await markers.first().getAttribute("title"), /marker/);
  // At the end every transaction is closed: the LSO has caught up with the high watermark.
  for (const strip of await payments.locator(".strip").all()) {
    const [, hw] = (await strip.locator(".offsets").innerText()).match(/hw (\d+)/);
    assert.equal(await strip.getByTestId("lso").innerText(), `lso ${hw}`);
  }
  const clients = await page.locator(".clients").innerText();
  assert.match(clients, /read-committed \(consumer\) \[read_committed\] polled 40\b/);
  assert.match(clients, /read-uncommitted \(consumer\) polled 60\b/);
  assert.match(clients, /txn-producer \(producer\) \[transactional\.id=payments-app\] sent 60 · acknowledged 60/);
  await page.screenshot({ path: screenshotPath("tour-transactions-end"), fullPage: true });
  assert.deepEqual(chrome.errors, []);
});

// Exactly-once: while the crashed application's transaction is open the LSO stays behind the
// high watermark of an invoices partition; at the end its invoices are aborted (shaded) and
// the reader saw each order once.
test("the exactly-once tour holds the LSO back while a transaction is open, then aborts it", async () => {
  let held = null;
  for (let step = 400; step <= 6000 && held === null; step += 200) {
    const page = await open(`scenario=exactly-once&seed=1&step=${step}`);
    for (const strip of await page.getByTestId("partition").filter({ hasText: "invoices-" }).locator(".strip").all()) {
      const [, hw] = (await strip.locator(".offsets").innerText()).match(/hw (\d+)/);
      const lso = await strip.getByTestId("lso").count() ? Number((await strip.getByTestId("lso").innerText()).match(/lso (\d+)/)[1]) : Number(hw);
      if (lso < Number(hw)) held = { step, lso, hw: Number(hw) };
    }
    if (held) await page.screenshot({ path: screenshotPath("tour-exactly-once-open-transaction"), fullPage: true });
    await page.close();
  }
  assert.ok(held, "some step shows an open transaction holding the LSO below the high watermark");
  const end = await open("scenario=exactly-once&seed=1&step=100000");
  await end.getByTestId("tour").waitFor();
  assert.match(await end.getByTestId("tour").innerText(), /Exactly-once/);
  const invoices = end.getByTestId("partition").filter({ hasText: "invoices-" });
  assert.ok((await invoices.locator(".cell.aborted").count()) > 0, "the crashed transaction's invoices are shaded");
  assert.ok((await invoices.getByTestId("control-record").filter({ hasText: "A" }).count()) > 0);
  assert.match(await end.locator(".clients").innerText(), /invoice-reader \(consumer\) \[read_committed\] polled 80\b/);
  await end.getByTestId("finish").click();
  await end.getByTestId("verdict").waitFor({ timeout: 60_000 });
  assert.match(await end.getByTestId("anomalies").textContent(), /No anomalies/);
  assert.deepEqual(chrome.errors, []);
});
