// The live view (`?live`): the real `partita serve` behind the page, as its JSON API reports
// it, updated while real clients (here partita's own console clients) produce and consume.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { startServer, launchBrowser, screenshotPath, partitaBinary } from "./support.mjs";

let server;
let chrome;

before(async () => {
  server = await startServer(["--config", "group.initial.rebalance.delay.ms=0"]);
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
});

const partita = (args, input) =>
  execFileSync(partitaBinary(), [...args, "--bootstrap-server", server.kafka], { input, encoding: "utf8", timeout: 30_000 });
const produce = (count, from) =>
  partita(["produce", "--topic", "orders"], Array.from({ length: count }, (_, i) => `line-${from + i}`).join("\n") + "\n");

test("the live view shows the server's partitions and a group's commits and lag as they move", async () => {
  partita(["topics", "--create", "--topic", "orders", "--partitions", "2", "--replication-factor", "1"]);
  produce(10, 0);
  partita(["consume", "--topic", "orders", "--group", "printer", "--from-beginning", "--max-messages", "4", "--timeout-ms", "3000"]);

  const page = await chrome.newPage();
  await page.goto(`${server.httpUrl}?live`);
  await page.getByTestId("live").waitFor({ timeout: 10_000 });
  const partitions = page.getByTestId("live-partition");
  await partitions.nth(1).waitFor({ timeout: 10_000 });
  assert.equal(await page.getByTestId("live-broker").count(), 1);

  // Every partition as the API has it.
  const api = await (await fetch(`${server.httpUrl}api/topics`)).json();
  for (const p of api.find((t) => t.name === "orders").partitions) {
    const text = await partitions.filter({ hasText: `orders-${p.partition} ` }).innerText();
    assert.match(text, new RegExp(`start ${p.log_start_offset} · hw ${p.high_watermark} · end ${p.log_end_offset}`));
  }
  const group = page.getByTestId("live-group").filter({ hasText: "printer" });
  assert.match(await group.innerText(), /Empty · 0 members · lag 6\b/);

  // More records: the page follows within a poll or two.
  produce(5, 10);
  await group.getByText(/lag 11\b/).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: screenshotPath("live"), fullPage: true });

  await page.getByTestId("to-simulator").click();
  await page.getByTestId("step").waitFor();
  assert.deepEqual(chrome.errors, []);
});
