#!/usr/bin/env bash
# The README's run command: builds partita (with the playground inside) and starts it.
# Extra arguments go to `partita serve`, e.g. scripts/run.sh --http 127.0.0.1:8090
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> Building partita (release; the first build compiles the playground for wasm32, a few minutes)"
cargo build --release -p partita-server
echo "==> Starting partita serve: open the http address below in a browser"
exec target/release/partita serve "$@"
