#!/usr/bin/env bash
# Builds the web app on a fresh machine: the wasm module (wasm-release profile, simd128) through
# the pinned wasm-bindgen into pkg/, its multi-threaded CPU build into pkg/threads/ (both builds
# side by side), the datasets into www/data/, the chart library and onnxruntime-web into
# www/vendor/, and pkg/precache.js (what the service worker caches for offline use).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/jobs.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vanillanet/target}"
# Each build its own target directory: cargo locks one for the whole build, and the native
# tests (scripts/test.sh) build beside these in $CARGO_TARGET_DIR itself.
WEB_TARGET="$CARGO_TARGET_DIR/web"
THREADS_TARGET="$CARGO_TARGET_DIR/threads"
# wasm-bindgen-cli must be the exact version of the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
TIMINGS=${TIMINGS:+--timings}
# wasm-release is what is served and published; scripts/test.sh builds wasm-ci, the same code
# compiled in about half the time (see Cargo.toml).
PROFILE=${WASM_PROFILE:-wasm-release}

rustup target add wasm32-unknown-unknown
# npm writes node_modules/.package-lock.json on install: an emptied node_modules is reinstalled.
[ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund

bindgen_cli() {
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    # Without its default TLS (rustls and ring): the CLI downloads nothing when it only binds.
    # Unoptimised: it compiles in 120 s of CPU against 270 at opt-level 1 and binds both builds
    # in 80 s against 20 (measured on the test builds, 2 cores).
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false \
      cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --no-default-features
  fi
}

# For the tests (wasm-ci), this build's CPU kernels at opt-level 1: a cross-origin isolated page
# (as the tests serve it) computes on the CPU with the threaded build, so this one's kernels run
# little there, and opt-level 1 compiles burn-flex and gemm in two thirds of the CPU time.
single_threaded() {
  local kernels=()
  if [ "$PROFILE" = wasm-ci ]; then
    for p in burn-flex gemm gemm-common gemm-f32; do kernels+=(--config "profile.wasm-ci.package.$p.opt-level=1"); done
  fi
  cargo build --locked $TIMINGS --profile "$PROFILE" "${kernels[@]}" --lib --target wasm32-unknown-unknown --target-dir "$WEB_TARGET"
}

# The multi-threaded CPU build (pkg/threads/), served to cross-origin isolated pages: wasm
# atomics and shared memory need a nightly compiler that rebuilds std with them. Pinned, so
# every machine builds the same thing; its own target directory, as its std differs.
NIGHTLY=nightly-2026-05-19
multi_threaded() {
  rustup toolchain list | grep -q "^$NIGHTLY" && [ -d "$(rustup run "$NIGHTLY" rustc --print sysroot)/lib/rustlib/src" ] ||
    rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src
  # Shared memory, imported (wasm-bindgen hands the same one to every thread), up to 4 GiB, and
  # the thread-local storage entry points wasm-bindgen's thread start-up calls.
  local link="--shared-memory --import-memory --max-memory=4294967296 --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base"
  RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 $(printf -- '-C link-arg=%s ' $link)" \
    cargo "+$NIGHTLY" build -Z build-std=panic_abort,std --locked $TIMINGS --profile "$PROFILE" --lib \
    --target wasm32-unknown-unknown --no-default-features --features threads --target-dir "$THREADS_TARGET"
}

job wasm-bindgen-cli bindgen_cli
job wasm-single-threaded single_threaded
job wasm-threads multi_threaded
node scripts/build-data.mjs
mkdir -p www/vendor
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css www/vendor/
# onnxruntime-web, for checking exported ONNX models and benchmarking against them: the bundle
# with WebGPU, and its wasm builds (plain, and JSEP for the WebGPU execution provider).
mkdir -p www/vendor/ort
for f in ort.all.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm ort-wasm-simd-threaded.jsep.mjs ort-wasm-simd-threaded.jsep.wasm; do
  cp "node_modules/onnxruntime-web/dist/$f" www/vendor/ort/
done
join wasm-bindgen-cli
join wasm-single-threaded
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir pkg \
  "$WEB_TARGET/wasm32-unknown-unknown/$PROFILE/vanillanet.wasm"
join wasm-threads
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir pkg/threads \
  "$THREADS_TARGET/wasm32-unknown-unknown/$PROFILE/vanillanet.wasm"

node scripts/build-precache.mjs
gz() { gzip -9 -c "$1" | wc -c | awk '{printf "%.2f MB", $1 / 1e6}'; }
echo "built ($PROFILE): pkg/ (wasm $(gz pkg/vanillanet_bg.wasm) gzipped; threaded $(gz pkg/threads/vanillanet_bg.wasm)), www/data/, www/vendor/"
