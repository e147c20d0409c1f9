#!/usr/bin/env bash
# Where the native CPU time goes (issue 18): `perf` samples of `vanillanet bench` from a release
# build on one thread, each sample's function sorted into a kind of work (matrix products,
# direct convolution loops, element-wise passes, layout copies, allocation, ...), for training
# fine_wide_28 at batch 32 and for vanillanet_5 at 224 px, batch 1. Writes results/profile-native.json
# and prints the table. Needs `perf` (Debian: linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vanillanet/target}"
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
# The CPU backend only (no wgpu): it builds in a third of the time.
cargo build --release --locked --no-default-features --bin vanillanet
bin="$CARGO_TARGET_DIR/release/vanillanet"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The bench draws random weights first; those samples are counted apart ("set-up").
perf record -q -F 999 -o "$tmp/training.data" "$bin" bench --threads 1 --models nano_28@28 --batches 1 \
  --runs 1 --warmup 0 --train-preset fine_wide_28 --train-batch 32 --train-steps 60 >"$tmp/training.txt"
perf record -q -F 999 -o "$tmp/inference.data" "$bin" bench --threads 1 --models vanillanet_5@224 --batches 1 \
  --runs 10 --warmup 1 --train-preset nano_28 --train-batch 2 --train-steps 1 >"$tmp/inference.txt"
for c in training inference; do
  perf report -q -i "$tmp/$c.data" --no-children --sort symbol --stdio 2>/dev/null >"$tmp/$c.report"
done

python3 - "$tmp" <<'EOF'
import json, re, subprocess, sys
tmp = sys.argv[1]
# First match wins: the order settles symbols that fit two kinds (a gemm inside a transposed conv).
KINDS = [
    ("set-up: random weights (not timed by the bench)", r"rand::|chacha|ElementRandom|TensorData::random|Distribution"),
    ("our kernels: the series activation's depthwise conv and its gradients", r"vanillanet_kernels::series"),
    ("our kernels: BatchNorm (statistics, normalisation, gradients)", r"vanillanet_kernels::batch_norm"),
    ("our kernels: the 1x1 conv's own loops (its products are gemm's)", r"vanillanet_kernels::pointwise"),
    ("matrix products (gemm: 1x1 convs, im2col convs, the head)", r"gemm"),
    ("direct convolution loops (depthwise series activation, conv backward)", r"conv"),
    ("element-wise passes (BN, activations, masks, optimizer)", r"macerator|zip_|binary_op|scalar_op|mask_|unary|reduce|sum_dim|max_pool|pool"),
    ("layout copies (permutes, strided reads)", r"copy_2d|memmove|memcpy|StridedIter|permute|transpose"),
    ("allocation and zeroing", r"malloc|_int_|free|memset|clear_page|page_fault|mmap|munmap|alloc"),
    ("parallel loop bodies (rayon closures, unattributed)", r"rayon::|call_mut|FnMut|FnOnce"),
    ("kernel and scheduling", r"^\[k\]"),
]
CASES = {
    "training": "training fine_wide_28 (the page's quick default), batch 32, 60 steps (AdamW, cross-entropy; forward, backward and update)",
    "inference": "vanillanet_5 at 224 px, batch 1, unfused and fused, 11 runs each",
}
out = {"what": "perf samples of `vanillanet bench` (release build, --threads 1) by function, summed by kind of work",
       "command": "bash scripts/profile-native.sh",
       "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
       "cases": []}
for case, what in CASES.items():
    rows = []
    for line in open(f"{tmp}/{case}.report"):
        m = re.match(r"\s*([\d.]+)%\s+(\[[.k]\])\s+(.*?)(\s+-\s+-)?\s*$", line)
        if m:
            rows.append((float(m.group(1)), f"{m.group(2)} {m.group(3)}"))
    kinds = {name: 0.0 for name, _ in KINDS}
    kinds["other"] = 0.0
    for share, sym in rows:
        body = sym[4:] if sym.startswith("[.]") else sym
        kind = next((n for n, rx in KINDS if re.search(rx, body if not rx.startswith("^") else sym)), "other")
        kinds[kind] += share
    setup = kinds[KINDS[0][0]]
    timed = 100 - setup
    shares = {k: round(100 * v / timed, 1) for k, v in kinds.items() if k != KINDS[0][0]}
    bench = open(f"{tmp}/{case}.txt").read().strip().splitlines()
    out["cases"].append({
        "case": what,
        "bench": bench,
        "setupShare": round(setup, 1),
        "sharesOfTimed": dict(sorted(shares.items(), key=lambda kv: -kv[1])),
        "topFunctions": [{"share": s, "function": f} for s, f in rows[:12]],
    })
    print(f"\n{what} (set-up {setup:.1f}% of samples left out)")
    for k, v in out["cases"][-1]["sharesOfTimed"].items():
        print(f"  {v:5.1f}%  {k}")
json.dump(out, open("results/profile-native.json", "w"), indent=1)
print("\nwrote results/profile-native.json")
EOF
