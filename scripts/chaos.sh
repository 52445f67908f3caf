#!/usr/bin/env bash
# A sweep of `partita chaos` runs (a benchmark-style table, not a test: the figures depend on
# the machine's timing). For each setting, SEEDS seeds of DURATION seconds of faults; prints
# setting, seeds, faults injected, runs with an anomaly, acknowledged writes, lost writes and
# other anomalies (duplicates, skipped or nonmonotonic polls, inconsistent offsets).
#   scripts/chaos.sh                       5 seeds of 12 s per setting
#   SEEDS=20 DURATION=20 scripts/chaos.sh  a longer sweep
#   scripts/chaos.sh acks1-leader-kill     only the settings named
# The histories of runs with an anomaly are kept in target/chaos/ (`partita check` reads them).
# Partition settings need root (network namespaces); they are left out otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SEEDS=${SEEDS:-5}
DURATION=${DURATION:-12}
[ -n "${PARTITA:-}" ] || { cargo build --release -p partita-server >&2; PARTITA=target/release/partita; }
PYTHON=${PYTHON:-.venv/bin/python}

# Two producers at 2000 sends a second; followers that fetch at most every 500 ms unless 1 MiB
# waits (replica.fetch.min.bytes), as loaded followers do: acks=1's window to lose.
LOAD="--producers 2 --rate 2000 --config replica.fetch.min.bytes=1048576 --config replica.fetch.wait.max.ms=500"
SAFE="--acks all --idempotence --replication-factor 3 --min-insync-replicas 2"
CASCADE="--acks all --idempotence --replication-factor 2 --min-insync-replicas 1 --producers 2 --rate 2000 --faults cascade --target leader"
declare -A SETTINGS=(
  [acks1-leader-kill-fast-followers]="--acks 1 --producers 2 --rate 2000 --faults kill --target leader"
  [acks1-leader-kill]="--acks 1 $LOAD --faults kill --target leader"
  [acksall-leader-kill]="$SAFE $LOAD --faults kill --target leader"
  [acksall-controller-kill-pause]="$SAFE --producers 2 --rate 2000 --faults kill,pause --target controller"
  [unclean-cascade]="$CASCADE --topic-config unclean.leader.election.enable=true"
  [clean-cascade]="$CASCADE"
  [acks1-isolate-leader]="--acks 1 --producers 2 --rate 2000 --faults isolate --target leader"
  [acksall-partition]="$SAFE --producers 2 --rate 2000 --faults partition --target leader"
  [acksall-clock]="$SAFE --producers 2 --rate 2000 --faults clock --target leader"
)
ORDER=(acks1-leader-kill-fast-followers acks1-leader-kill acksall-leader-kill acksall-controller-kill-pause unclean-cascade
       clean-cascade acks1-isolate-leader acksall-partition acksall-clock)
[ $# -gt 0 ] && ORDER=("$@")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-33s %5s %6s %9s %12s %11s %s\n' setting seeds faults anomalous acknowledged lost-writes other
for name in "${ORDER[@]}"; do
  args=${SETTINGS[$name]:?unknown setting $name}
  if [[ $args == *"isolate"* || $args == *"partition"* ]] && [ "$(id -u)" != 0 ]; then
    printf '%-33s %s\n' "$name" "(needs root)"
    continue
  fi
  # A cascade lasts 12 to 14 s: it needs 18 s of workload to fit.
  duration=$DURATION
  [[ $args == *cascade* ]] && [ "$duration" -lt 18 ] && duration=18
  runs=0 faults=0 anomalous=0 acked=0 lost=0 other=0
  for seed in $(seq 1 "$SEEDS"); do
    rm -rf "$work/run"
    # shellcheck disable=SC2086
    out=$("$PARTITA" chaos --json --python "$PYTHON" --duration-s "$duration" --seed "$seed" \
            --data-dir "$work/run" $args 2>/dev/null) || true
    [ -n "$out" ] || { echo "$name seed $seed: the run failed" >&2; continue; }
    read -r f a l o < <(printf '%s' "$out" | "$PYTHON" -c '
import json, sys
r = json.load(sys.stdin)
lost = r["counts"].get("lost-write", 0)
ran = sum(1 for f in r["faults"] if f["node"] > 0)
print(ran, r["acknowledged"], lost, sum(r["counts"].values()) - lost)')
    runs=$((runs + 1)); faults=$((faults + f)); acked=$((acked + a)); lost=$((lost + l))
    other=$((other + o))
    if [ $((l + o)) -gt 0 ]; then
      anomalous=$((anomalous + 1))
      mkdir -p target/chaos
      cp "$work/run/history.jsonl" "target/chaos/$name-seed$seed.jsonl" 2>/dev/null &&
        echo "$name seed $seed: history in target/chaos/$name-seed$seed.jsonl" >&2
    fi
    rm -rf "$work/run"
  done
  printf '%-33s %5s %6s %9s %12s %11s %s\n' "$name" "$runs" "$faults" "$anomalous" "$acked" \
    "$lost" "$other"
done
