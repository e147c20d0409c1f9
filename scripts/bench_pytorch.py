"""The authors' PyTorch model on the cases `vanillanet bench` measures, timed the same way:
inference from a random input to logits on the host (median of timed runs after a warm-up),
and training throughput (AdamW, cross-entropy, random data, lambda annealing as our loop).
Run by scripts/bench-pytorch.sh, which also runs our side and writes both into one JSON."""

import argparse
import json
import statistics
import sys
import time

import torch


def load_authors_model(repo):
    sys.path.insert(0, repo)
    # The file imports `weight_init` from timm.models.layers, where timm kept it only up to
    # 0.6; later releases have it in timm.layers. Put it back under the old name.
    import timm.layers.weight_init
    import timm.models.layers

    timm.models.layers.weight_init = timm.layers.weight_init
    from models.vanillanet import VanillaNet  # noqa: E402  (the authors' file, unmodified)

    return VanillaNet


# Our presets (src/model/presets.rs) in the authors' constructor's terms.
PRESETS = {
    "vanillanet_5": dict(in_chans=3, num_classes=1000, dims=[128 * 4, 256 * 4, 512 * 4, 1024 * 4], strides=[2, 2, 2]),
    "small_28": dict(in_chans=1, num_classes=10, dims=[32, 64, 128, 256], strides=[1, 2, 2]),
    "nano_28": dict(in_chans=1, num_classes=10, dims=[16, 32, 64], strides=[2, 2]),
    "fine_wide_28": dict(in_chans=1, num_classes=10, dims=[24, 48, 96, 192], strides=[1, 2, 2]),
}
# Our presets whose stem conv (4x4) runs at another stride than the authors' 4, with padding 1
# (`with_stem_stride` in src/model/config.rs): the constructor has no such argument, so the
# conv is replaced after construction.
STEM_STRIDE = {"fine_wide_28": 2}


def construct(VanillaNet, name):
    model = VanillaNet(**PRESETS[name])
    if name in STEM_STRIDE:
        old = model.stem1[0]
        model.stem1[0] = torch.nn.Conv2d(old.in_channels, old.out_channels, kernel_size=4, stride=STEM_STRIDE[name], padding=1)
    return model


def build(VanillaNet, name, fused, device):
    model = construct(VanillaNet, name).to(device)
    model.eval()
    model.change_act(1.0)  # lambda 1, where fusion is exact, as `vanillanet bench` runs
    if fused:
        model.switch_to_deploy()
    return model


def timed(fn, runs, warmup):
    start = time.perf_counter()
    fn()
    cold = (time.perf_counter() - start) * 1e3
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    p90 = times[max(0, -(-9 * len(times) // 10) - 1)]
    return cold, statistics.median(times), p90


def latency(VanillaNet, name, size, batch, fused, runs, warmup, device):
    model = build(VanillaNet, name, fused, device)
    x = torch.randn(batch, PRESETS[name]["in_chans"], size, size, device=device)

    def run():
        with torch.inference_mode():
            model(x).cpu().numpy()  # on the host, as ours reads the logits back

    cold, median, p90 = timed(run, runs, warmup)
    return dict(model=name, size=size, batch=batch, fused=fused, coldMs=cold, medianMs=median, p90Ms=p90, runs=runs)


def training(VanillaNet, name, batch, steps, device):
    model = construct(VanillaNet, name).to(device)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    loss_fn = torch.nn.CrossEntropyLoss()
    c = PRESETS[name]["in_chans"]
    xs = torch.rand(steps + 1, batch, c, 28, 28, device=device)
    ys = torch.randint(0, 10, (steps + 1, batch), device=device)

    def step(i):
        model.change_act(i / (steps + 1))
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs[i]), ys[i])
        loss.backward()
        opt.step()
        loss.item()  # on the host, as ours reads each step's loss back

    step(0)
    start = time.perf_counter()
    for i in range(1, steps + 1):
        step(i)
    secs = time.perf_counter() - start
    return dict(preset=name, batch=batch, steps=steps, imagesPerSec=steps * batch / secs)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repo", required=True, help="a checkout of github.com/huawei-noah/VanillaNet")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--train-steps", type=int, default=20)
    p.add_argument("--train-cases", default="small_28:64,nano_28:64",
                   help="training cases, PRESET:BATCH separated by commas")
    # cuda: the same cases on a GPU (torch's own CUDA build), beside `vanillanet --backend gpu`.
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    VanillaNet = load_authors_model(a.repo)
    torch.manual_seed(0)
    lat = []
    for name, size, batches, runs in [("vanillanet_5", 224, [1], min(a.runs, 10)), ("small_28", 28, [1, 32], a.runs), ("nano_28", 28, [1, 32], a.runs)]:
        for batch in batches:
            for fused in (False, True):
                lat.append(latency(VanillaNet, name, size, batch, fused, runs, a.warmup, a.device))
                print(json.dumps(lat[-1]), file=sys.stderr)
    cases = [(c.split(":")[0], int(c.split(":")[1])) for c in a.train_cases.split(",")]
    train = [training(VanillaNet, name, batch, a.train_steps, a.device) for name, batch in cases]
    gpu = torch.cuda.get_device_name() if a.device.startswith("cuda") else None
    print(json.dumps(dict(torch=torch.__version__, threads=torch.get_num_threads(), device=a.device, gpu=gpu, latency=lat, training=train)))


if __name__ == "__main__":
    main()
