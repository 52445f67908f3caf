#!/usr/bin/env bash
# Benchmarks (not tests: the figures depend on the machine). Prints tables.
#   scripts/bench.sh            the broker under librdkafka load, then the core's log (criterion)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install.sh >/dev/null
cargo build --release -p partita-server
echo "==> partita serve under librdkafka (confluent-kafka), acks=1, 3 partitions; medians of 3 runs"
.venv/bin/python tests/bench/produce_consume.py "$@" 2>/dev/null
echo "==> partition log and file storage (criterion)"
cargo bench -p partita-core --bench log
cargo bench -p partita-server --bench file_storage
echo "==> the playground in headless Chromium: wasm size, first render, one step"
node tests/browser/budgets.mjs 2>/dev/null
echo "==> the simulator, natively: events and simulated seconds per wall second (200 seeds each)"
for scenario in acks1-leader-crash rebalance-cooperative lag; do
  start=$(date +%s.%N)
  events=$(target/release/partita sim --scenario "$scenario" --seeds 0..200 | awk '/seeds,/ {print $4}')
  end=$(date +%s.%N)
  echo "$scenario: $events events in $(echo "$end - $start" | bc) s"
done
