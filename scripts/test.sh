#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what it needs, then the native tests (model
# parity with the official fixtures, CLI) and a wasm32 build of the library.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds are heavy (burn + wgpu): reuse a target directory outside the clone when there is one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vanillanet/target}"
mkdir -p "$CARGO_TARGET_DIR"

rustup target add wasm32-unknown-unknown

start=$(date +%s)
cargo test --locked --no-fail-fast
echo "native tests: $(( $(date +%s) - start )) s"

start=$(date +%s)
cargo build --locked --lib --target wasm32-unknown-unknown
echo "wasm32 build: $(( $(date +%s) - start )) s"
