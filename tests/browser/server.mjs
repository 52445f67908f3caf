// Starts a real `partita serve` on ports the OS picks (it reads the addresses the server
// prints) and stops it with SIGTERM. Node built-ins only: the browser tests and the KafkaJS
// tests share it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const workspace = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const SERVER_START_TIMEOUT_MS = 30_000;

export function partitaBinary() {
  return process.env.PARTITA_BIN ?? join(workspace, "target", "release", "partita");
}

/** Starts `partita serve` with ports chosen by the OS, and `extraArgs` (e.g. `--config`);
 * resolves to { httpUrl, kafka, stop }. */
export async function startServer(extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "partita-node-"));
  const child = spawn(
    partitaBinary(),
    ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", ...extraArgs],
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
