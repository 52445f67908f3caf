// The live view (`?live`) against a server whose HTTP API requires a bearer token
// (`partita serve --http-token-file`): the API answers 401, the view asks for the token, a
// wrong one is refused, the right one (kept in sessionStorage) shows the server's topics, and
// a reload of the tab needs no new token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, launchBrowser, screenshotPath, partitaBinary } from "./support.mjs";

const TOKEN = "b6e1f0c4d2a9478e9c3b5a7d1f0e2c4a";
const tokenDir = mkdtempSync(join(tmpdir(), "partita-token-"));
let server;
let chrome;

before(async () => {
  const tokenFile = join(tokenDir, "http.token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  server = await startServer(["--http-token-file", tokenFile]);
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.browser.close();
  await server?.stop();
  rmSync(tokenDir, { recursive: true, force: true });
});

test("the live view asks for the token and then shows the topics", async () => {
  execFileSync(partitaBinary(), ["topics", "--create", "--topic", "guarded", "--partitions", "2",
    "--replication-factor", "1", "--bootstrap-server", server.kafka], { timeout: 30_000 });
  assert.equal((await fetch(`${server.httpUrl}api/topics`)).status, 401);

  const page = await chrome.newPage();
  await page.goto(`${server.httpUrl}?live`);
  await page.getByTestId("live-token").waitFor({ timeout: 10_000 });
  assert.equal(await page.getByTestId("live-partition").count(), 0);

  await page.getByTestId("live-token-input").fill("not-the-token-at-all");
  await page.getByTestId("live-token-submit").click();
  await page.getByTestId("live-token-rejected").waitFor({ timeout: 10_000 });
  await page.screenshot({ path: screenshotPath("live-token-form") });

  await page.getByTestId("live-token-input").fill(TOKEN);
  await page.getByTestId("live-token-submit").click();
  const partitions = page.getByTestId("live-partition");
  await partitions.nth(1).waitFor({ timeout: 10_000 });
  assert.match(await partitions.first().innerText(), /guarded-0/);
  assert.equal(await page.getByTestId("live-token").count(), 0);
  await page.screenshot({ path: screenshotPath("live-token"), fullPage: true });

  // The token lives in this tab's sessionStorage: a reload goes straight to the view.
  assert.equal(await page.evaluate(() => sessionStorage.getItem("partita.http.token")), TOKEN);
  await page.reload();
  await page.getByTestId("live-partition").nth(1).waitFor({ timeout: 10_000 });

  // Chromium logs each 401 response as a console error; nothing else may fail.
  assert.deepEqual(chrome.errors.filter((e) => !/status of 401/.test(e)), []);
});
