#!/usr/bin/env bash
# Installs what the tests need and the machine lacks. Idempotent: each step checks first, so a
# second run takes seconds. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen crate pinned in Cargo.toml
TRUNK_VERSION=0.21.14
step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "Rust target wasm32-unknown-unknown"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "present"
else
  rustup target add wasm32-unknown-unknown
fi

step "wasm-bindgen-cli $WASM_BINDGEN_VERSION (runs the wasm tests in Chromium)"
if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ] \
  && command -v wasm-bindgen-test-runner >/dev/null; then
  echo "present"
else
  echo "installing from crates.io (about 2 minutes)"
  # Not --locked: one of its locked dependencies is missing from the registry mirror.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

step "trunk $TRUNK_VERSION (builds and serves the playground on its own: trunk serve)"
if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
  echo "present"
else
  echo "installing from crates.io (about 6 minutes)"
  # 0.22 needs a newer rustc than ours. Trunk uses the wasm-bindgen on PATH (installed above).
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

step "Debian packages: chromium, chromium-driver, kcat, openssl (the TLS tests make their certificates with it), faketime (partita chaos --faults clock)"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v kcat >/dev/null || missing+=(kcat)
command -v openssl >/dev/null || missing+=(openssl)
command -v faketime >/dev/null || missing+=(faketime)
if [ ${#missing[@]} -eq 0 ]; then
  echo "present"
else
  echo "installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

step "Python virtual environment .venv (confluent-kafka, kafka-python, pytest)"
requirements=tests/python/requirements.txt
stamp=".venv/.installed-$(sha256sum "$requirements" | cut -c1-16)"
if [ -f "$stamp" ]; then
  echo "present"
else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# npm packages: playwright-core (driving Debian's chromium) for the browser tests, KafkaJS.
for dir in tests/browser tests/kafkajs; do
  step "npm packages of $dir"
  lock=$dir/package-lock.json
  node_stamp="$dir/node_modules/.installed-$(sha256sum "$lock" | cut -c1-16)"
  if [ -f "$node_stamp" ]; then
    echo "present"
  else
    npm --prefix "$dir" ci --no-audit --no-fund
    touch "$node_stamp"
  fi
done
