#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what it needs (wasm32 target, the pinned
# wasm-bindgen-cli, npm packages, Debian's Chromium and Mesa's software Vulkan driver), builds
# the web app and the native tests side by side, then runs the native tests (model parity with
# the official fixtures, CLI, training loop, the wgpu backend on lavapipe) and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/jobs.sh

# Builds are heavy (burn + wgpu): reuse a target directory outside the clone when there is one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vanillanet/target}"
mkdir -p "$CARGO_TARGET_DIR"
TIMINGS=${TIMINGS:+--timings}
# The browser build for tests (Cargo.toml's wasm-ci profile); no incremental caches for a
# build that is made once; larger thread stacks for unoptimised code.
export WASM_PROFILE=wasm-ci CARGO_INCREMENTAL=0 RUST_MIN_STACK=16777216
start=$(date +%s)

# Chromium for the browser tests; lavapipe (mesa-vulkan-drivers), a Vulkan device in software,
# so that the native wgpu backend is tested on a machine without a GPU.
packages() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

job packages packages
job native-build cargo test --locked $TIMINGS --no-run
job web-build bash scripts/build-web.sh
join packages
join native-build
join web-build
echo "builds: $(( $(date +%s) - start )) s"

start=$(date +%s)
cargo test --locked --no-fail-fast
echo "native tests: $(( $(date +%s) - start )) s"

# Last, so that its summary closes the output. Screenshots land in tests/out/.
start=$(date +%s)
node --test --test-concurrency=1 tests/browser/
echo "browser tests: $(( $(date +%s) - start )) s"
