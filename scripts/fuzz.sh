#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 60 s, every target)
#        scripts/fuzz.sh --capture                           (seeds fuzz/corpus/request from real clients)
#        PARTITA_FUZZ_RUNS=N scripts/fuzz.sh SECONDS ...     (also stop a target after N executions)
#
# Runs each cargo-fuzz target (fuzz/fuzz_targets/) for the given time, niced, and prints a table:
# target, executions, seconds it ran, executions per second (libFuzzer's own average), findings
# (new files in fuzz/artifacts/TARGET/: crashes, out-of-memory, timeouts) and how the run ended
# ("time", "runs", or "finding": libFuzzer stops at the first crash, so such a row's executions
# say nothing about speed). New inputs go to a scratch corpus; the committed seeds in
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
# anyhow (the codec's errors) captures a backtrace per error when RUST_BACKTRACE is set, which
# turns every refused input into a stack walk; panics keep their backtraces.
export RUST_LIB_BACKTRACE=0

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
  targets=(request response batch sasl config log_recovery peer)
fi
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz --version 0.13.2

cd fuzz
nice -n 19 cargo fuzz build -s none >/dev/null
# The longest input per target: libFuzzer's default (4096) except where a target's inputs are
# small by nature (a SASL token, config lines) or hold several files (log recovery).
max_len() {
  case "$1" in
    sasl) echo 512 ;;
    config) echo 1024 ;;
    log_recovery) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

rows=()
failed=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  scratch=$(mktemp -d)
  before=$(ls "artifacts/$target" | wc -l)
  log=$(mktemp)
  runs_flag=()
  [ -z "${PARTITA_FUZZ_RUNS:-}" ] || runs_flag=(-runs="$PARTITA_FUZZ_RUNS")
  started=$(date +%s)
  # -malloc_limit_mb: any single allocation past 512 MiB is a finding (the crash of issue 17
  # asked for 154 GB); -rss_limit_mb bounds the whole process.
  if ! nice -n 19 cargo fuzz run -s none "$target" "$scratch" "corpus/$target" -- \
      -max_total_time="$seconds" "${runs_flag[@]}" -max_len="$(max_len "$target")" \
      -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
      -print_final_stats=1 >"$log" 2>&1; then
    failed=1
  fi
  elapsed=$(( $(date +%s) - started ))
  runs=$( (grep -o 'stat::number_of_executed_units: *[0-9]*' "$log"; grep -o '^Done [0-9]*' "$log") | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  after=$(ls "artifacts/$target" | wc -l)
  ended=time
  if [ "$after" -ne "$before" ]; then
    ended=finding
  elif [ -n "${PARTITA_FUZZ_RUNS:-}" ] && [ "${runs:-0}" -ge "$PARTITA_FUZZ_RUNS" ]; then
    ended=runs
  fi
  rows+=("$target ${runs:-0} $elapsed ${rate:-0} $((after - before)) $ended")
  [ "$after" -eq "$before" ] || tail -40 "$log"
  rm -rf "$scratch" "$log"
done

printf '\n%-14s %14s %8s %10s %9s %8s\n' target executions seconds exec/s findings ended
for row in "${rows[@]}"; do
  # shellcheck disable=SC2086
  printf '%-14s %14s %8s %10s %9s %8s\n' $row
done
exit $failed
