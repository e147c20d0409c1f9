#!/usr/bin/env bash
# Side by side with PyTorch on this machine: the authors' model code (models/vanillanet.py from
# a checkout named by VANILLANET_REPO) under PyTorch from PyPI, and `vanillanet bench`, on the
# same cases with the same number of threads. Writes results/bench-pytorch.json (both sides and
# PyTorch's time / ours) and prints the table.
#   VANILLANET_REPO=path/to/VanillaNet bash scripts/bench-pytorch.sh
# THREADS (default: every core), PROFILE (cargo profile of our build, default release), VENV.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VANILLANET_REPO:?set VANILLANET_REPO to a checkout of https://github.com/huawei-noah/VanillaNet}"
[ -f "$VANILLANET_REPO/models/vanillanet.py" ] || { echo "no models/vanillanet.py in $VANILLANET_REPO" >&2; exit 2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vanillanet/target}"
THREADS=${THREADS:-$(nproc)}
PROFILE=${PROFILE:-release}
VENV=${VENV:-$HOME/.cache/vanillanet/torch-venv}

# timm for the authors' file (scripts/bench_pytorch.py maps its old `weight_init` import).
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import torch, timm" 2>/dev/null || "$VENV/bin/pip" install -q torch "timm==0.9.16"

# The CPU backend only (no wgpu): the comparison is on the CPU, and it builds in a third of the time.
cargo build --locked --profile "$PROFILE" --no-default-features --bin vanillanet
dir=$PROFILE; [ "$PROFILE" = dev ] && dir=debug
bin="$CARGO_TARGET_DIR/$dir/vanillanet"
out=$(mktemp -d)
"$bin" --threads "$THREADS" bench --models vanillanet_5@224 --batches 1 --runs 10 \
  --train-preset small_28 --train-batch 64 --train-steps 20 --json "$out/ours-224.json"
"$bin" --threads "$THREADS" bench --models small_28@28,nano_28@28 --batches 1,32 --runs 30 \
  --train-preset nano_28 --train-batch 64 --train-steps 20 --json "$out/ours-28.json"
"$VENV/bin/python" scripts/bench_pytorch.py --repo "$VANILLANET_REPO" --threads "$THREADS" >"$out/pytorch.json"

mkdir -p results
"$VENV/bin/python" - "$out" "$PROFILE" <<'PY'
import json, os, platform, sys
out, profile = sys.argv[1], sys.argv[2]
a, b, torch = (json.load(open(os.path.join(out, f))) for f in ("ours-224.json", "ours-28.json", "pytorch.json"))
ours_lat = a["latency"] + b["latency"]
key = lambda r: (r["model"], r["size"], r["batch"], r["fused"])
ours_by = {key(r): r for r in ours_lat}
rows = []
for t in torch["latency"]:
    o = ours_by[key(t)]
    rows.append(dict(case=f'{t["model"]} {t["size"]}px batch {t["batch"]} {"fused" if t["fused"] else "unfused"}',
                     pytorchMs=t["medianMs"], oursMs=o["medianMs"], ratio=t["medianMs"] / o["medianMs"]))
ours_train = {a["training"]["preset"]: a["training"], b["training"]["preset"]: b["training"]}
for t in torch["training"]:
    o = ours_train[t["preset"]]
    rows.append(dict(case=f'training {t["preset"]} batch {t["batch"]} (img/s)',
                     pytorchImagesPerSec=t["imagesPerSec"], oursImagesPerSec=o["imagesPerSec"],
                     ratio=o["imagesPerSec"] / t["imagesPerSec"]))
for r in rows:
    r["verdict"] = "ours as fast or faster" if r["ratio"] >= 1 else "PyTorch faster"
report = dict(machine=dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count()),
              threads=torch["threads"], torch=torch["torch"], oursProfile=profile,
              note="ratio: PyTorch time / ours (latency), ours / PyTorch (training); above 1 means ours is faster",
              rows=rows, pytorch=torch, ours=[a, b])
json.dump(report, open("results/bench-pytorch.json", "w"), indent=2)
print(f'{"case":<40} {"PyTorch":>12} {"ours":>12} {"ratio":>7}')
for r in rows:
    p, o = (r.get("pytorchMs"), r.get("oursMs")) if "pytorchMs" in r else (r["pytorchImagesPerSec"], r["oursImagesPerSec"])
    print(f'{r["case"]:<40} {p:>12.2f} {o:>12.2f} {r["ratio"]:>7.2f}')
PY
echo "written: results/bench-pytorch.json"
