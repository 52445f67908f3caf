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

test("the playground fits a phone-sized screen and works there", async () => {
  const page = await chrome.newPage({ width: 390, height: 844 });
  await page.goto(`${server.httpUrl}?scenario=replication-isr&seed=1&step=1500`);
  await page.getByTestId("playground").waitFor({ timeout: 10_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  // The controls are on the first screen, and big enough to hit with a finger.
  for (const id of ["step", "play", "step-back"]) {
    const box = await page.getByTestId(id).boundingBox();
    assert.ok(box.y + box.height <= 844, `${id} is on the first screen`);
    assert.ok(box.height >= 32, `${id} is ${box.height}px high`);
  }
  await page.getByTestId("step").click();
  assert.match(await page.getByTestId("clock").textContent(), /event 1501 /);
  // Every partition and broker is laid out within the screen's width.
  const widest = await page.locator("[data-testid=partition], [data-testid=broker]").evaluateAll((els) =>
    Math.max(...els.map((e) => e.getBoundingClientRect().right)));
  assert.ok(widest <= 390, `something reaches ${widest}px`);
  await page.screenshot({ path: screenshotPath("phone"), fullPage: true });
  assert.deepEqual(chrome.errors, []);
});
