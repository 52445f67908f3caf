// The playground's other shell: `trunk serve` (the live-reload loop for working on web/)
// builds the same app from index.html and serves it; it mounts and steps in headless Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "./support.mjs";

const workspace = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// A first build compiles the web crate for wasm32; later ones reuse target/.
const TRUNK_START_TIMEOUT_MS = 300_000;

let trunk;
let chrome;
let url;
let dist;

/** A port the OS says is free now (trunk takes a port number, not 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

before(async () => {
  const port = await freePort();
  dist = mkdtempSync(join(tmpdir(), "partita-trunk-"));
  trunk = spawn(
    "trunk",
    ["serve", "--offline", "--skip-version-check", "--no-autoreload", "--address", "127.0.0.1", "--port", String(port), "--dist", dist],
    { cwd: workspace, stdio: ["ignore", "pipe", "pipe"] },
  );
  url = `http://127.0.0.1:${port}/`;
  let log = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trunk serve did not come up:\n${log}`)), TRUNK_START_TIMEOUT_MS);
    trunk.on("error", (e) => reject(new Error(`cannot start trunk (scripts/install.sh installs it): ${e.message}`)));
    trunk.on("exit", (code) => reject(new Error(`trunk serve exited with ${code}:\n${log}`)));
    const watch = (chunk) => {
      log += chunk;
      if (/success/.test(log) && /serving/i.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    trunk.stdout.on("data", watch);
    trunk.stderr.on("data", watch);
  });
  trunk.removeAllListeners("exit");
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.browser.close();
  if (trunk) {
    const exited = new Promise((resolve) => trunk.once("exit", resolve));
    trunk.kill("SIGTERM");
    await exited;
  }
  if (dist) rmSync(dist, { recursive: true, force: true });
});

test("trunk serve serves the playground, which steps", async () => {
  const page = await chrome.newPage();
  const response = await page.goto(`${url}?scenario=keyed-ordering&seed=1&step=0`);
  assert.equal(response.status(), 200);
  await page.getByTestId("playground").waitFor({ timeout: 30_000 });
  await page.getByTestId("step").click();
  assert.match(await page.getByTestId("clock").textContent(), /event 1 /);
  assert.equal(await page.getByTestId("broker").count(), 3);
  assert.deepEqual(chrome.errors, []);
});

test("without partita serve behind it, the live view says there is no server", async () => {
  const page = await chrome.newPage();
  await page.goto(`${url}?live`);
  await page.getByTestId("live-error").waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId("live-error").innerText(), /api\/cluster/);
  // A missing API may be logged by the browser as a failed resource; nothing else may be.
  assert.deepEqual(chrome.errors.filter((e) => !/Failed to load resource/.test(e)), []);
});
