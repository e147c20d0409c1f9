// The speed goals (issues 18 and 30), each read from the recorded runs in results/ (bench-web-*.json
// from scripts/bench-web.mjs, bench-pytorch.json from scripts/bench-pytorch.sh) and judged:
// writes results/goals.json and prints the speed goals' table (docs/benchmarks.md's is made by
// scripts/docs-tables.mjs). A run that is missing is said, not guessed.
// Usage: node scripts/goals.mjs
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const RESULTS = join(import.meta.dirname, "..", "results");
const read = (name) => {
  const path = join(RESULTS, name);
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : null;
};

const cpu1 = read("bench-web-cpu-1-thread.json");
const cpu2 = read("bench-web-cpu-2-threads.json");
const gpu = read("bench-web-webgpu-fusion.json");
const torch = read("bench-pytorch.json");
const pageDefault = read("page-default-fashion-mnist.json");

const row = (run, model, batch, runtime) =>
  run?.rows.find((r) => r.model === model && r.batch === batch && r.runtime.startsWith(runtime));
const median = (run, model, batch, runtime) => row(run, model, batch, runtime)?.medianMs;
const training = (run) => run?.training?.[0]?.imagesPerSec;
/** The training case of a run, "PRESET batch N" (the bench page's, small_28 batch 64 before it took one). */
const trainingCase = (run) => run?.training?.[0] && `${run.training[0].preset} batch ${run.training[0].batch}`;
const div = (a, b) => (a === undefined || b === undefined ? undefined : a / b);
/** onnxruntime-web's time over ours on the same exported fused weights. */
const ortOverOurs = (run, model, batch) =>
  div(median(run, model, batch, "onnxruntime"), median(run, model, batch, "ours, fused (the exported"));

/** Each goal: what is measured, the figure, the bound, and where it comes from. */
const goals = [
  {
    goal: "the page's quick default trained whole (Train to finished), CPU, 2 threads, minutes",
    value: pageDefault?.minutes,
    atMost: 5.0, from: "page-default-fashion-mnist.json",
  },
  {
    goal: "the served wasm (single-threaded build, with WebGPU), gzipped, MB",
    value: cpu2?.wasmGzipBytes === undefined ? undefined : cpu2.wasmGzipBytes / 1e6,
    atMost: 4.0, from: "bench-web-cpu-2-threads.json",
  },
  {
    goal: "onnxruntime-web time / ours, vanillanet_5 224 fused batch 1, CPU, 2 threads each",
    value: ortOverOurs(cpu2, "vanillanet_5", 1),
    atLeast: 1.0, from: "bench-web-cpu-2-threads.json",
  },
  {
    goal: "vanillanet_5 224 batch 1 fused speed-up (unfused / fused), CPU, 1 thread (MAC bound 1.64)",
    value: div(median(cpu1, "vanillanet_5", 1, "ours, unfused"), median(cpu1, "vanillanet_5", 1, "ours, fused")),
    atLeast: 1.64, from: "bench-web-cpu-1-thread.json",
  },
  {
    goal: "onnxruntime-web time / ours, small_28 fused batch 1, WebGPU",
    value: ortOverOurs(gpu, "small_28", 1),
    atLeast: 1.0, from: "bench-web-webgpu-fusion.json",
  },
  {
    goal: "onnxruntime-web time / ours, small_28 fused batch 32, WebGPU",
    value: ortOverOurs(gpu, "small_28", 32),
    atLeast: 1.0, from: "bench-web-webgpu-fusion.json",
  },
  {
    goal: "first fused inference on WebGPU after page load, seconds",
    value: gpu ? gpu.firstFusedInferenceMs / 1000 : undefined,
    atMost: 2.0, from: "bench-web-webgpu-fusion.json",
  },
  {
    goal: "2 threads / 1 thread, vanillanet_5 224 fused batch 1 inference, CPU",
    value: div(median(cpu1, "vanillanet_5", 1, "ours, fused"), median(cpu2, "vanillanet_5", 1, "ours, fused")),
    atLeast: 1.7, from: "bench-web-cpu-1-thread.json, bench-web-cpu-2-threads.json",
  },
  {
    goal: `2 threads / 1 thread, ${trainingCase(cpu2) ?? "training"}, CPU`,
    // Only a ratio of the same case.
    value: trainingCase(cpu1) === trainingCase(cpu2) ? div(training(cpu2), training(cpu1)) : undefined,
    atLeast: 1.7, from: "bench-web-cpu-1-thread.json, bench-web-cpu-2-threads.json",
  },
  ...(torch?.rows ?? []).map((r) => ({
    goal: `native CPU against PyTorch (${torch.threads} threads each): ${r.case}, ${r.pytorchMs !== undefined ? "PyTorch time / ours" : "ours / PyTorch img/s"}`,
    value: r.ratio, atLeast: 1.0, from: "bench-pytorch.json",
  })),
];
if (!torch) goals.push({ goal: "native CPU against PyTorch", value: undefined, atLeast: 1.0, from: "bench-pytorch.json" });

for (const g of goals) {
  g.verdict = g.value === undefined ? "not measured"
    : (g.atLeast !== undefined ? g.value >= g.atLeast : g.value <= g.atMost) ? "reached" : "not reached";
}
const dates = Object.fromEntries([["bench-web-cpu-1-thread.json", cpu1], ["bench-web-cpu-2-threads.json", cpu2],
  ["bench-web-webgpu-fusion.json", gpu], ["bench-pytorch.json", torch], ["page-default-fashion-mnist.json", pageDefault]].map(([f, d]) => [f, d?.date ?? (d ? "undated" : "missing")]));
writeFileSync(join(RESULTS, "goals.json"), `${JSON.stringify({ runs: dates, goals }, null, 2)}\n`);

console.log("| goal | measured | bound | verdict |");
console.log("|---|---|---|---|");
for (const g of goals) {
  const bound = g.atLeast !== undefined ? `>= ${g.atLeast}` : `<= ${g.atMost}`;
  console.log(`| ${g.goal} | ${g.value === undefined ? "–" : g.value.toFixed(2)} | ${bound} | ${g.verdict} |`);
}
