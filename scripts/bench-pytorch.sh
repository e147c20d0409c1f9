#!/usr/bin/env bash
# Side by side with PyTorch on this machine: the authors' model code (models/vanillanet.py from
# a checkout named by VANILLANET_REPO) under PyTorch from PyPI, and `vanillanet bench`, on the
# same cases with the same number of threads. Writes results/bench-pytorch.json (both sides and
# PyTorch's time / ours) and prints the table.
#   VANILLANET_REPO=path/to/VanillaNet bash scripts/bench-pytorch.sh
# THREADS (default: every core), PROFILE (cargo profile of our build, default release), VENV.
# DEVICE=gpu: both on the GPU instead (ours `--backend gpu`, wgpu; PyTorch CUDA), written to
# results/bench-pytorch-gpu.json. BIN (a built vanillanet) and PYTHON (one with torch and timm)
# skip the build and the venv, on a machine that has no cargo or no network (a lent GPU machine).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VANILLANET_REPO:?set VANILLANET_REPO to a checkout of https://github.com/huawei-noah/VanillaNet}"
[ -f "$VANILLANET_REPO/models/vanillanet.py" ] || { echo "no models/vanillanet.py in $VANILLANET_REPO" >&2; exit 2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vanillanet/target}"
THREADS=${THREADS:-$(nproc)}
PROFILE=${PROFILE:-release}
DEVICE=${DEVICE:-cpu}
case "$DEVICE" in
  cpu) backend=cpu torch_device=cpu features=--no-default-features report=results/bench-pytorch.json ;;
  gpu) backend=gpu torch_device=cuda features= report=results/bench-pytorch-gpu.json ;;
  *) echo "DEVICE is cpu or gpu" >&2; exit 2 ;;
esac

if [ -z "${PYTHON:-}" ]; then
  # timm for the authors' file (scripts/bench_pytorch.py maps its old `weight_init` import).
  VENV=${VENV:-$HOME/.cache/vanillanet/torch-venv}
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -c "import torch, timm" 2>/dev/null || "$VENV/bin/pip" install -q torch "timm==0.9.16"
  PYTHON=$VENV/bin/python
fi

if [ -z "${BIN:-}" ]; then
  # On the CPU, the CPU backend only (no wgpu): it builds in a third of the time.
  cargo build --locked --profile "$PROFILE" $features --bin vanillanet
  dir=$PROFILE; [ "$PROFILE" = dev ] && dir=debug
  BIN="$CARGO_TARGET_DIR/$dir/vanillanet"
fi
out=$(mktemp -d)
"$BIN" --backend "$backend" --threads "$THREADS" bench --models vanillanet_5@224 --batches 1 --runs 10 \
  --train-preset small_28 --train-batch 64 --train-steps 20 --json "$out/ours-224.json"
"$BIN" --backend "$backend" --threads "$THREADS" bench --models small_28@28,nano_28@28 --batches 1,32 --runs 30 \
  --train-preset nano_28 --train-batch 64 --train-steps 20 --json "$out/ours-28.json"
# Training throughput: the 28 px presets the page trains (fine_wide_28 is its quick default),
# at the page's batch (32) and at 64. Each case its own run of ours (one training case a run).
TRAIN_CASES=${TRAIN_CASES:-small_28:32,small_28:64,fine_wide_28:32,fine_wide_28:64,nano_28:64}
TRAIN_STEPS=${TRAIN_STEPS:-40}
for case in ${TRAIN_CASES//,/ }; do
  "$BIN" --backend "$backend" --threads "$THREADS" bench --models nano_28@28 --batches 1 --runs 1 --warmup 0 \
    --train-preset "${case%:*}" --train-batch "${case#*:}" --train-steps "$TRAIN_STEPS" --json "$out/ours-train-${case%:*}-${case#*:}.json"
done
"$PYTHON" scripts/bench_pytorch.py --repo "$VANILLANET_REPO" --threads "$THREADS" --device "$torch_device" \
  --train-steps "$TRAIN_STEPS" --train-cases "$TRAIN_CASES" >"$out/pytorch.json"

mkdir -p results
"$PYTHON" - "$out" "$PROFILE" "$report" <<'PY'
import json, os, platform, sys
out, profile, path = sys.argv[1], sys.argv[2], sys.argv[3]
a, b, torch = (json.load(open(os.path.join(out, f))) for f in ("ours-224.json", "ours-28.json", "pytorch.json"))
ours_lat = a["latency"] + b["latency"]
key = lambda r: (r["model"], r["size"], r["batch"], r["fused"])
ours_by = {key(r): r for r in ours_lat}
rows = []
for t in torch["latency"]:
    o = ours_by[key(t)]
    rows.append(dict(case=f'{t["model"]} {t["size"]}px batch {t["batch"]} {"fused" if t["fused"] else "unfused"}',
                     pytorchMs=t["medianMs"], oursMs=o["medianMs"], ratio=t["medianMs"] / o["medianMs"]))
import glob
trains = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, "ours-train-*.json")))]
ours_train = {(r["training"]["preset"], r["training"]["batch"]): r["training"] for r in trains}
for t in torch["training"]:
    o = ours_train[(t["preset"], t["batch"])]
    rows.append(dict(case=f'training {t["preset"]} batch {t["batch"]} (img/s)',
                     pytorchImagesPerSec=t["imagesPerSec"], oursImagesPerSec=o["imagesPerSec"],
                     ratio=o["imagesPerSec"] / t["imagesPerSec"]))
for r in rows:
    r["verdict"] = "ours as fast or faster" if r["ratio"] >= 1 else "PyTorch faster"
report = dict(machine=dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(), gpu=torch.get("gpu")),
              device=torch.get("device", "cpu"),
              threads=torch["threads"], torch=torch["torch"], oursProfile=profile,
              note="ratio: PyTorch time / ours (latency), ours / PyTorch (training); above 1 means ours is faster",
              rows=rows, pytorch=torch, ours=[a, b] + trains)
json.dump(report, open(path, "w"), indent=2)
print(f'{"case":<40} {"PyTorch":>12} {"ours":>12} {"ratio":>7}')
for r in rows:
    p, o = (r.get("pytorchMs"), r.get("oursMs")) if "pytorchMs" in r else (r["pytorchImagesPerSec"], r["oursImagesPerSec"])
    print(f'{r["case"]:<40} {p:>12.2f} {o:>12.2f} {r["ratio"]:>7.2f}')
PY
echo "written: $report"
