#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what it needs (wasm32 target, the pinned
# wasm-bindgen-cli, npm packages, Debian's Chromium and Firefox ESR and Mesa's software Vulkan
# driver), builds the web app, runs the browser tests (a subset also in Firefox) while the native
# tests build, then runs the native tests
# (model parity with the official fixtures, CLI, training loop, the wgpu backend on lavapipe).
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

# The page's pure modules and the docs, in plain Node (no build, no browser): seconds, so first.
node --test tests/unit/
echo "unit tests: $(( $(date +%s) - start )) s"

# Chromium for the browser tests, Firefox ESR for their Firefox subset; lavapipe
# (mesa-vulkan-drivers), a Vulkan device in software, so that the native wgpu backend is tested
# on a machine without a GPU.
packages() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v firefox-esr >/dev/null || missing+=(firefox-esr)
  ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

job packages packages
job web-build bash scripts/build-web.sh
# The native build at the lowest priority: the web build and then the browser tests come first,
# and it takes the CPU they leave (the browser tests wait on Chromium much of the time), so the
# two overlap without slowing the browser tests' timeouts.
job native-build nice -n 19 cargo test --locked --workspace $TIMINGS --no-run
join packages
join web-build
# Every script of www/ type-checked, the worker against the API's TypeScript declarations,
# generated from the Rust types into pkg/ by the web build (tsconfig.json for the worker,
# tsconfig.page.json for the page): an answer's field renamed in Rust fails here.
node_modules/.bin/tsc -b .
echo "type check: www/ agrees with itself and with pkg/vanillanet.d.ts"

# Browser test files that run the native CLI say `// needs: the native CLI` and run once it is
# built; the rest run now.
needs_cli=$(grep -l "^// needs: the native CLI" tests/browser/*.test.mjs)
start=$(date +%s)
browser=0
node --test --test-concurrency=1 $(ls tests/browser/*.test.mjs | grep -vxF "$needs_cli") || browser=$?
# The Firefox subset (tests/firefox/: the engine on the threaded CPU build, training, fusing,
# classifying, a hostile file, a reload, the offline copy), through WebDriver BiDi.
firefox_start=$(date +%s)
node --test --test-concurrency=1 tests/firefox/ || browser=$?
echo "Firefox tests: $(( $(date +%s) - firefox_start )) s"
# The monkey soak on a fixed seed for about two minutes (tests/soak/; docs/testing.md says how
# to run it for hours and replay a failing seed).
soak_start=$(date +%s)
node --test tests/soak/ || browser=$?
echo "soak: $(( $(date +%s) - soak_start )) s"
join native-build
node --test --test-concurrency=1 $needs_cli || browser=$?
echo "browser tests: $(( $(date +%s) - start )) s"

start=$(date +%s)
cargo test --locked --workspace --no-fail-fast
echo "native tests: $(( $(date +%s) - start )) s"
# Screenshots of the browser tests are in tests/out/.
if [ "$browser" != 0 ]; then
  echo "the browser tests failed (exit $browser): see their output above"
  exit "$browser"
fi
