// Shared by the browser tests: start a real `partita serve` on free ports, and a headless
// Chromium (Debian's) that records every page error and console error.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const workspace = join(here, "..", "..");
export const screenshotDir = join(here, "screenshots");

const SERVER_START_TIMEOUT_MS = 30_000;

export function partitaBinary() {
  return process.env.PARTITA_BIN ?? join(workspace, "target", "release", "partita");
}

/** Starts `partita serve` with ports chosen by the OS; resolves to { httpUrl, kafka, stop }. */
export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), "partita-browser-"));
  const child = spawn(
    partitaBinary(),
    ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const addresses = await new Promise((resolve, reject) => {
    const found = {};
    let buffered = "";
    const timer = setTimeout(() => reject(new Error("partita serve did not print its addresses")), SERVER_START_TIMEOUT_MS);
    child.on("error", (e) => reject(new Error(`cannot start ${partitaBinary()}: ${e.message} (build it: cargo build --release -p partita-server)`)));
    child.on("exit", (code) => reject(new Error(`partita serve exited early with ${code}`)));
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      for (const line of buffered.split("\n")) {
        const kafka = line.match(/^partita: kafka listening on (\S+)/);
        const http = line.match(/^partita: http listening on (\S+)/);
        if (kafka) found.kafka = kafka[1];
        if (http) found.httpUrl = http[1];
      }
      if (found.kafka && found.httpUrl) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  child.removeAllListeners("exit");
  const stop = async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { ...addresses, stop };
}

/** Launches headless Chromium; `errors` collects page errors and console errors of every page. */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const errors = [];
  const newPage = async (viewport = { width: 1280, height: 800 }) => {
    const page = await browser.newPage({ viewport });
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console error: ${m.text()}`);
    });
    return page;
  };
  return { browser, newPage, errors };
}

export function screenshotPath(name) {
  mkdirSync(screenshotDir, { recursive: true });
  return join(screenshotDir, `${name}.png`);
}
