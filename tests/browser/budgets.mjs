// The playground's budgets, measured (not a test: the figures depend on the machine).
//   node tests/browser/budgets.mjs   (after cargo build --release -p partita-server)
// Prints the wasm transferred gzipped, the time to first render, and the time per step
// (a key press, the simulation's event, and the re-render), as medians of several runs.
import { gzipSync } from "node:zlib";
import { startServer, launchBrowser } from "./support.mjs";

const RUNS = 5;
const STEPS = 50;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await startServer();
const chrome = await launchBrowser();
try {
  const wasm = Buffer.from(await (await fetch(`${server.httpUrl}pkg/partita_web_bg.wasm`)).arrayBuffer());
  const glue = Buffer.from(await (await fetch(`${server.httpUrl}pkg/partita_web.js`)).arrayBuffer());
  const gz = gzipSync(wasm, { level: 9 }).length + gzipSync(glue, { level: 9 }).length;

  const firstRender = [];
  const stepMs = {};
  for (let run = 0; run < RUNS; run++) {
    const page = await chrome.newPage();
    const started = performance.now();
    await page.goto(`${server.httpUrl}?scenario=rebalance-cooperative&seed=1&step=0`);
    await page.getByTestId("playground").waitFor();
    firstRender.push(performance.now() - started);
    for (const scenario of ["rebalance-cooperative", "lag"]) {
      await page.goto(`${server.httpUrl}?scenario=${scenario}&seed=1&step=1000`);
      await page.getByTestId("playground").waitFor();
      const t0 = performance.now();
      for (let i = 0; i < STEPS; i++) await page.keyboard.press("n");
      await page.waitForFunction(() => /event 1050/.test(document.querySelector("[data-testid=clock]").textContent));
      (stepMs[scenario] ??= []).push((performance.now() - t0) / STEPS);
    }
    await page.close();
  }
  console.log("budget | measured (median of %d) | target", RUNS);
  console.log(`wasm + glue, gzipped | ${(gz / 1024).toFixed(0)} KiB | ≤ 600 KB`);
  console.log(`first render | ${median(firstRender).toFixed(0)} ms | ≤ 1000 ms`);
  for (const [scenario, xs] of Object.entries(stepMs)) {
    console.log(`one step (${scenario}, key press to re-render) | ${median(xs).toFixed(1)} ms | ≤ 16 ms`);
  }
  if (chrome.errors.length) console.log("page errors:", chrome.errors);
} finally {
  await chrome.browser.close();
  await server.stop();
}
