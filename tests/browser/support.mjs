// Shared by the browser tests: a real `partita serve` (server.mjs), and a headless Chromium
// (Debian's) that records every page error and console error.
import { mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export { startServer, partitaBinary } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const screenshotDir = join(here, "screenshots");

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
