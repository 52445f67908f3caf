// The playground's budgets, measured (not a test: the figures depend on the machine).
//   node tests/browser/budgets.mjs   (after cargo build --release -p partita-server)
// Prints the wasm transferred gzipped, the time to first render, and the time per step
// (a key press, the simulation's event, and the re-render, timed inside the page), as medians
// of several runs.
import { gzipSync } from "node:zlib";
import { startServer, launchBrowser } from "./support.mjs";

const RUNS = 5;
const STEPS = 50;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Runs in the page: presses "n" `steps` times, each time waiting until the page has handled
// the key and re-rendered (yew renders in microtasks, so a macrotask runs after it), and
// returns the mean milliseconds per step. No round trip to playwright is counted.
async function stepInPage(steps) {
  const afterRender = () => new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = resolve;
    channel.port2.postMessage(0);
  });
  const clock = document.querySelector("[data-testid=clock]");
  const eventOnPage = () => Number(clock.textContent.match(/event (\d+)/)[1]);
  const first = eventOnPage();
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) {
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "n", bubbles: true }));
    await afterRender();
    // Each step must be on the page before the next key: nothing is batched or skipped.
    if (eventOnPage() !== first + i) throw new Error(`step ${i} not rendered: ${clock.textContent}`);
  }
  return (performance.now() - t0) / steps;
}

const server = await startServer();
const chrome = await launchBrowser();
try {
  const wasm = Buffer.from(await (await fetch(`${server.httpUrl}pkg/partita_web_bg.wasm`)).arrayBuffer());
  const glue = Buffer.from(await (await fetch(`${server.httpUrl}pkg/partita_web.js`)).arrayBuffer());
  const gz = gzipSync(wasm, { level: 9 }).length + gzipSync(glue, { level: 9 }).length;

  const firstRender = [];
  const firstRenderLarge = [];
  const stepMs = {};
  for (let run = 0; run < RUNS; run++) {
    const page = await chrome.newPage();
    const started = performance.now();
    await page.goto(`${server.httpUrl}?scenario=rebalance-cooperative&seed=1&step=0`);
    await page.getByTestId("playground").waitFor();
    firstRender.push(performance.now() - started);
    // The budget's size, opened from a link 2000 events in (a replay from the seed first).
    const startedLarge = performance.now();
    await page.goto(`${server.httpUrl}?scenario=replication-isr&seed=1&step=2000`);
    await page.getByTestId("playground").waitFor();
    firstRenderLarge.push(performance.now() - startedLarge);
    // replication-isr is the budget's size: 3 brokers, 12 partitions of 3 replicas, 3 consumers.
    for (const scenario of ["replication-isr", "rebalance-cooperative", "lag"]) {
      await page.goto(`${server.httpUrl}?scenario=${scenario}&seed=1&step=2000`);
      await page.getByTestId("playground").waitFor();
      (stepMs[scenario] ??= []).push(await page.evaluate(stepInPage, STEPS));
      const clock = await page.getByTestId("clock").textContent();
      if (!clock.includes(`event ${2000 + STEPS} `)) throw new Error(`${scenario}: the steps did not all render: ${clock}`);
    }
    // The simulator's own speed in wasm: a whole run (drive, final reads, checker).
    await page.goto(`${server.httpUrl}?scenario=lag&seed=${run}&step=0`);
    await page.getByTestId("playground").waitFor();
    const t0 = performance.now();
    await page.getByTestId("finish").click();
    await page.getByTestId("verdict").waitFor({ timeout: 60_000 });
    const wall = (performance.now() - t0) / 1000;
    const text = await page.getByTestId("verdict").innerText();
    const [, events, simMs] = text.match(/(\d+) events · (\d+) ms simulated/);
    (stepMs.simulator ??= []).push([Number(events) / wall, Number(simMs) / 1000 / wall]);
    await page.close();
  }
  const sim = stepMs.simulator;
  delete stepMs.simulator;
  console.log("budget | measured (median of %d) | target", RUNS);
  console.log(`wasm + glue, gzipped | ${(gz / 1024).toFixed(0)} KiB | ≤ 600 KB`);
  console.log(`first render | ${median(firstRender).toFixed(0)} ms | ≤ 1000 ms`);
  console.log(`first render (replication-isr, a link at event 2000) | ${median(firstRenderLarge).toFixed(0)} ms | ≤ 1000 ms`);
  for (const [scenario, xs] of Object.entries(stepMs)) {
    console.log(`one step (${scenario}, key press to re-render) | ${median(xs).toFixed(1)} ms | ≤ 16 ms`);
  }
  console.log(`simulator in wasm (lag, whole run) | ${median(sim.map((x) => x[0])).toFixed(0)} events/s, ${median(sim.map((x) => x[1])).toFixed(0)} simulated s per wall s | -`);
  if (chrome.errors.length) console.log("page errors:", chrome.errors);
} finally {
  await chrome.browser.close();
  await server.stop();
}
