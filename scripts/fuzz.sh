#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 60 s, every target)
#        scripts/fuzz.sh --capture                           (seeds fuzz/corpus/request from real clients)
#
# Runs each cargo-fuzz target (fuzz/fuzz_targets/) for the given time, niced, and prints a table:
# target, executions, executions per second, findings (new files in fuzz/artifacts/TARGET/:
# crashes, out-of-memory, timeouts). New inputs go to a scratch corpus; the committed seeds in
# fuzz/corpus/TARGET are only read. A finding is replayed by
#   cargo fuzz run -s none TARGET fuzz/artifacts/TARGET/crash-...
# and belongs in fuzz/regressions/TARGET/, which tests/tests/fuzz_corpora.rs replays in the
# normal test suite.
#
# libFuzzer's instrumentation flags are nightly-only: RUSTC_BOOTSTRAP=1 makes the pinned stable
# toolchain accept them, and `-s none` leaves out AddressSanitizer (which would need a nightly
# standard library). Safe Rust needs no ASan; allocation bounds are checked by the targets'
# counting allocator (fuzz/src/lib.rs) and libFuzzer's -malloc_limit_mb.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
export RUSTC_BOOTSTRAP=1

if [ "${1:-}" = "--capture" ]; then
  # Real clients' requests, as the broker receives them (kafka/capture.rs).
  dir="$root/fuzz/corpus/request"
  mkdir -p "$dir"
  cargo build --release -p partita-server
  PARTITA_CAPTURE_REQUESTS="$dir" .venv/bin/pytest -q -p no:cacheprovider -W ignore::DeprecationWarning tests/python
  PARTITA_CAPTURE_REQUESTS="$dir" npm --prefix tests/kafkajs test >/dev/null
  echo "captured $(ls "$dir" | wc -l) request frames in $dir"
  exit 0
fi

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(request response batch sasl config log_recovery)
fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz --version 0.13.2

cd fuzz
nice -n 19 cargo fuzz build -s none >/dev/null
rows=()
failed=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  scratch=$(mktemp -d)
  before=$(ls "artifacts/$target" | wc -l)
  log=$(mktemp)
  # -malloc_limit_mb: any single allocation past 512 MiB is a finding (the crash of issue 17
  # asked for 154 GB); -rss_limit_mb bounds the whole process.
  if ! nice -n 19 cargo fuzz run -s none "$target" "$scratch" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
      -print_final_stats=1 >"$log" 2>&1; then
    failed=1
  fi
  runs=$( (grep -o 'stat::number_of_executed_units: *[0-9]*' "$log"; grep -o '^Done [0-9]*' "$log") | grep -o '[0-9]*$' | tail -1)
  after=$(ls "artifacts/$target" | wc -l)
  rows+=("$target ${runs:-0} $(( ${runs:-0} / seconds )) $((after - before))")
  [ "$after" -eq "$before" ] || tail -40 "$log"
  rm -rf "$scratch" "$log"
done

printf '\n%-14s %14s %10s %9s\n' target executions exec/s findings
for row in "${rows[@]}"; do
  # shellcheck disable=SC2086
  printf '%-14s %14s %10s %9s\n' $row
done
exit $failed
