#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs every check and test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install.sh
step() { printf '\n==> %s\n' "$*"; }
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}

step "Formatting (cargo fmt --check)"
cargo fmt --all --check

step "The core builds for wasm32-unknown-unknown"
cargo build -p partita-core --target wasm32-unknown-unknown

step "Clippy, warnings denied (native crates, then the playground for wasm32)"
cargo clippy --release --workspace --all-targets -- -D warnings
cargo clippy -p partita-web --target wasm32-unknown-unknown --all-targets -- -D warnings

step "Build partita (release; embeds the playground)"
cargo build --release -p partita-server

step "Core tests (debug build: assertions on)"
cargo test -p partita-core

step "Server and end-to-end tests (real sockets against target/release/partita)"
cargo test --release -p partita-server -p partita-tests

# Fuzzing itself (scripts/fuzz.sh) is not part of this command: the instrumented build of the
# fuzz crate takes tens of minutes on two cores. Every committed corpus input and every crash
# found is replayed above, by tests/tests/fuzz_corpora.rs, and tests/tests/fuzz_smoke.rs is the
# short smoke of each fuzz target (issue 17): the targets' bodies on their committed inputs and
# a fixed count of seeded mutations of them, about a minute in all, no instrumented build.

step "wasm-bindgen tests in headless Chromium"
cargo test -p partita-web --target wasm32-unknown-unknown

step "Real clients: confluent-kafka, kafka-python, kcat (pytest)"
.venv/bin/pytest -q -p no:cacheprovider -W ignore::DeprecationWarning tests/python

step "Real clients: KafkaJS (node)"
npm --prefix tests/kafkajs test

step "Browser end-to-end tests (playwright-core + Debian's chromium)"
npm --prefix tests/browser test

printf '\nAll checks and tests passed.\n'
