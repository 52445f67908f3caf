#!/usr/bin/env bash
# Benchmarks (not tests: the figures depend on the machine). Prints tables.
#   scripts/bench.sh                      the broker under librdkafka load (1 GB per message
#                                         size), then the core's log (criterion) and the rest
#   scripts/bench.sh --total-mb 200       a shorter broker run (noisy: mostly page cache)
#   scripts/bench.sh --broker-only ARGS   only the broker table; ARGS go to broker_bench.py
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
broker_only=false
if [ "${1:-}" = "--broker-only" ]; then broker_only=true; shift; fi
scripts/install.sh >/dev/null
cargo build --release -p partita-server
# The load generator is its own workspace (librdkafka's C sources take minutes to compile, so
# the project's builds and clippy runs leave it out); its own target dir keeps it from
# holding the project's build lock.
cargo build --release --manifest-path tests/bench/loadgen/Cargo.toml --target-dir target/loadgen
echo "==> partita serve under librdkafka (compiled load generator), broker and load pinned apart"
RUST_LOG=warn .venv/bin/python tests/bench/broker_bench.py "$@"
$broker_only && exit 0
echo "==> acks=all on a local three-node cluster: replication factor 3 against 1 (confluent-kafka)"
RUST_LOG=error .venv/bin/python tests/bench/cluster_bench.py
echo "==> partition log and file storage (criterion)"
cargo bench -p partita-core --bench log
echo "==> ACL checks per second: the scan of every ACL against the index by resource"
cargo bench -p partita-core --bench acl
echo "==> a log's memory with 1,000 to 100,000 aborted transactions (heap bytes held and peaks)"
cargo bench -p partita-core --bench txn_index_memory
cargo bench -p partita-server --bench file_storage
echo "==> compressed produce: the broker opens each compressed batch (PARTITA_BASELINE_BIN: an older build to compare)"
RUST_LOG=error cargo bench -p partita-tests --bench compressed_produce
echo "==> the playground in headless Chromium: wasm size, first render, one step"
node tests/browser/budgets.mjs 2>/dev/null
echo "==> the simulator, natively: events and simulated seconds per wall second (200 seeds each)"
for scenario in acks1-leader-crash rebalance-cooperative lag; do
  start=$(date +%s.%N)
  events=$(target/release/partita sim --scenario "$scenario" --seeds 0..200 | awk '/seeds,/ {print $4}')
  end=$(date +%s.%N)
  echo "$scenario: $events events in $(echo "$end - $start" | bc) s"
done
