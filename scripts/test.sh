#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what it needs (wasm32 target, the pinned
# wasm-bindgen-cli, npm packages, Debian's Chromium), builds the web app, then runs the native
# tests (model parity with the official fixtures, CLI, training loop) and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds are heavy (burn + wgpu): reuse a target directory outside the clone when there is one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vanillanet/target}"
mkdir -p "$CARGO_TARGET_DIR"

if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

start=$(date +%s)
bash scripts/build-web.sh
echo "web build: $(( $(date +%s) - start )) s"

start=$(date +%s)
cargo test --locked --no-fail-fast
echo "native tests: $(( $(date +%s) - start )) s"

# Last, so that its summary closes the output. Screenshots land in tests/out/.
node --test --test-concurrency=1 tests/browser/
