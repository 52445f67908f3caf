// The playground, served by a real `partita serve`, loads in headless Chromium without errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, screenshotPath } from "./support.mjs";

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

test("the playground mounts at / with no page error", async () => {
  const page = await chrome.newPage();
  const response = await page.goto(server.httpUrl);
  assert.equal(response.status(), 200);
  await page.getByTestId("playground").waitFor({ timeout: 10_000 });
  assert.match(await page.title(), /Partita/);
  await page.screenshot({ path: screenshotPath("playground"), fullPage: true });
  assert.deepEqual(chrome.errors, []);
});

test("the playground fits a phone-sized screen", async () => {
  const page = await chrome.newPage({ width: 390, height: 844 });
  await page.goto(server.httpUrl);
  await page.getByTestId("playground").waitFor({ timeout: 10_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  assert.deepEqual(chrome.errors, []);
});
