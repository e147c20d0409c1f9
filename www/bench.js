// The benchmark page. Our runtime is timed in the trainer's worker (where the page runs its
// models); onnxruntime-web runs on this page, on the ONNX export of the same fused weights.
// The figures end up in the table and in `window.benchResult` (for scripts/bench-web.mjs).
import { $, el } from "./dom.js";
import { parseNumber } from "./checks.js";
import { RUNNING_BACKENDS } from "./names.js";
import { Rpc, canThread } from "./rpc.js";

// onnxruntime-web as served from vendor/ (a copy of the npm package's build, not checked by tsc).
/** @type {any} */
const ort = await import(new URL("./vendor/ort/ort.all.min.mjs", import.meta.url).href);

// Threads on the CPU, ours and onnxruntime's alike: `?threads=N` (default: one a core where the
// page is cross-origin isolated, else 1). Ours above 1 is the threaded build; onnxruntime is
// given the same number (it can't change within a page: one page load a thread count).
// Every parameter is bounded (threads, cases, sizes, batches, runs): one out of bounds refuses
// the run with its name, it is never replaced. The bounds of cases, sizes, batches and runs are
// the engine's (Rust's `Limits`, rows of the one table `vanillanet bench` is bounded by too),
// asked of the worker; the threads' is the page's own: it depends on this machine's cores
// (navigator.hardwareConcurrency, which the engine does not see), and is read before the
// worker starts, in the build the thread count picks.
const params = new URLSearchParams(location.search.length > 4096 ? "" : location.search);
const MAX_THREADS = Math.min(64, Math.max(1, navigator.hardwareConcurrency || 1) * 2);
const BACKENDS = RUNNING_BACKENDS;
const problems = [];
if (location.search.length > 4096) problems.push(`the query is ${location.search.length} characters: at most 4096 are read`);
function threadCount() {
  if (!params.has("threads")) return canThread() ? navigator.hardwareConcurrency || 1 : 1;
  const n = parseNumber(params.get("threads"), { whole: true }).value;
  if (n !== undefined && n >= 1 && n <= MAX_THREADS) return n;
  problems.push(`threads must be a whole number from 1 to ${MAX_THREADS}, got ${JSON.stringify(params.get("threads").slice(0, 40))}`);
  return 1;
}
const threads = threadCount();
const cpuBuild = threads > 1 && canThread() ? "threads" : "single";
// Started in the build of the first backend asked for, as the app would be.
const firstBackend = BACKENDS.includes((params.get("backends") ?? "cpu").split(",")[0].trim()) ? (params.get("backends") ?? "cpu").split(",")[0].trim() : "cpu";
const worker = new Rpc({ build: firstBackend === "cpu" ? cpuBuild : "single", threads });
const call = (type, payload) => worker.call(type, payload);

ort.env.wasm.wasmPaths = new URL("./vendor/ort/", location.href).href;
ort.env.wasm.numThreads = cpuBuild === "threads" ? threads : 1;

const status = (text) => { $("bench-status").textContent = text; };
const quantile = (ms, q) => {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil(q * s.length))) - 1];
};

async function ortLatency(bytes, provider, [batch, c, h, w], runs, warmup) {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [provider] });
  const input = new ort.Tensor("float32", Float32Array.from({ length: batch * c * h * w }, () => Math.random() * 2 - 1), [batch, c, h, w]);
  const run = async () => {
    const out = await session.run({ input });
    await out.logits.getData();
  };
  let t = performance.now();
  await run();
  const coldMs = performance.now() - t;
  for (let i = 0; i < warmup; i++) await run();
  const times = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  await session.release();
  return { coldMs, medianMs: quantile(times, 0.5), p90Ms: quantile(times, 0.9), runs };
}

async function gzipSize(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const rows = [];
function row(r) {
  rows.push(r);
  const f = (v) => (v === undefined || v === null ? "" : v.toFixed(2));
  const cells = [r.backend, `${r.model}@${r.size}`, r.batch, r.runtime, f(r.coldMs), f(r.medianMs), f(r.p90Ms), r.ratio ? `${r.ratio.toFixed(2)}× ${r.ratioOf}` : r.note ?? ""];
  $("bench-table").querySelector("tbody").append(el("tr", {}, cells.map((c) => el("td", {}, String(c)))));
}

/** GPU work of one fused forward of small_28 (batch 1) and of one training step of the page's
 * loop (small_28, batch 64, no label smoothing: the step docs/benchmarks.md's counts were measured on),
 * counted in the worker after a first, uncounted one. */
async function gpuWork() {
  await call("benchClassifier", { model: "small_28", size: 28 });
  const x = new Float32Array(28 * 28);
  await call("logits", { values: x, batch: 1 });
  await call("gpuCounts");
  await call("logits", { values: x, batch: 1 });
  const forward = await call("gpuCounts");
  const n = 640;
  const pixels = Uint8Array.from({ length: n * 28 * 28 }, (_, i) => (i * 2654435761) >>> 24);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  await call("ownDataset", { classes: [...Array(10).keys()].map(String), pixels, labels, channels: 1, height: 28, width: 28 });
  const defaults = Object.fromEntries((await call("defaults")).table.train.map((f) => [f.name, f.default]));
  const options = { ...defaults, preset: "small_28", batchSize: 64, labelSmoothing: 0, epochs: 1, decayEpochs: 1 };
  await call("step", { options });
  await call("gpuCounts");
  await call("step", { options });
  const trainingStep = await call("gpuCounts");
  await call("reset");
  return { forward, trainingStep };
}

async function run({ cases, backends, runs, warmup, breakdown, training }) {
  const result = {
    date: new Date().toISOString(), userAgent: navigator.userAgent, runs, warmup, rows,
    crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency,
    // On the CPU backend (WebGPU runs in the single-threaded build).
    cpuThreads: { onnxruntime: ort.env.wasm.numThreads },
  };
  result.cpuThreads.ours = (await call("build")).threads;
  // Page load to the first fused inference: wasm fetched and compiled, backend up, a fused
  // browser-preset model built, one batch of one image classified and read back.
  // On the first backend asked for (its build; WebGPU includes compiling the shaders).
  const first = backends[0] ?? "cpu";
  if (first !== "cpu" && worker.build !== "single") worker.restart("another build", "single");
  await call("setBackend", { backend: first });
  await call("benchClassifier", { model: "small_28", size: 28 });
  await call("logits", { values: new Float32Array(28 * 28), batch: 1 });
  result.firstFusedInferenceMs = performance.now();
  result.firstFusedInferenceBackend = first;
  const wasm = new Uint8Array(await (await fetch("./pkg/vanillanet_bg.wasm")).arrayBuffer());
  result.wasmBytes = wasm.length;
  result.wasmGzipBytes = await gzipSize(wasm);
  result.training = [];
  result.breakdown = [];
  for (const backend of backends) {
    let answer;
    try {
      // WebGPU is in the single-threaded build only.
      const build = backend === "cpu" ? cpuBuild : "single";
      if (worker.build !== build) worker.restart("another build", build);
      answer = await call("setBackend", { backend });
    } catch (e) {
      row({ backend, model: "-", size: "-", batch: "-", runtime: "-", note: `skipped: ${e.message}` });
      continue;
    }
    if (backend === "webgpu") {
      const adapter = await navigator.gpu?.requestAdapter();
      result.adapter = adapter ? { vendor: adapter.info.vendor, architecture: adapter.info.architecture, description: adapter.info.description } : null;
      status("webgpu: counting the GPU work of a forward and a training step…");
      result.gpuWork = await gpuWork();
    }
    const ep = backend === "webgpu" ? "webgpu" : "wasm";
    for (const { model, size, batch } of cases) {
      status(`${answer.backend}: ${model}@${size} batch ${batch}…`);
      const base = { backend: answer.backend, model, size, batch };
      const unfused = await call("benchLatency", { model, size, batch, fused: false, runs, warmup });
      row({ ...base, runtime: "ours, unfused", ...unfused });
      const fused = await call("benchLatency", { model, size, batch, fused: true, runs, warmup });
      row({ ...base, runtime: "ours, fused", ...fused, ratio: unfused.medianMs / fused.medianMs, ratioOf: "fused speed-up" });
      if (breakdown) {
        status(`${answer.backend}: ${model}@${size} batch ${batch}, where the time goes…`);
        const b = await call("benchBreakdown", { model, size, batch, runs, warmup });
        result.breakdown.push({ backend: answer.backend, ...b });
        const parts = b.parts.map((p) => `${p.name} ${p.ownMs.toFixed(2)}`).join(", ");
        row({ ...base, runtime: "ours, fused: where the time goes", medianMs: b.totalMs,
          note: `round trip ${b.roundTripMs.toFixed(2)}, hand-over ${b.enqueueMs.toFixed(2)}; own ms: ${parts}` });
      }
      const info = await call("benchClassifier", { model, size });
      const ours = await call("benchClassifierLatency", { batch, runs, warmup });
      const onnx = await call("exportOnnx");
      const p = info.card.preprocess;
      try {
        const theirs = await ortLatency(onnx, ep, [batch, p.channels, p.height, p.width], runs, warmup);
        row({ runtime: "ours, fused (the exported weights)", ...ours, ...base });
        row({ runtime: `onnxruntime-web ${ort.env.versions.web} (${ep})`, ...theirs, ...base, ratio: theirs.medianMs / ours.medianMs, ratioOf: "onnxruntime time / ours" });
      } catch (e) {
        row({ ...base, runtime: `onnxruntime-web (${ep})`, note: `failed: ${e.message}` });
      }
    }
    status(`${answer.backend}: training throughput…`);
    const t = await call("benchTraining", { preset: training.preset, batch: training.batch, steps: backend === "webgpu" ? 5 : 20 });
    result.training.push({ backend: answer.backend, ...t });
  }
  $("bench-env").textContent = JSON.stringify({ ...result, rows: undefined }, null, 2);
  status(`done: ${rows.length} rows`);
  return result;
}

const form = $("bench-options");
// Only the form's own fields (never "__proto__" and the like), each value at most 1000 characters.
for (const [k, v] of params) {
  const field = form.elements.namedItem(k);
  if (field && "value" in field && v.length <= 1000) field.value = v;
  else if (field) problems.push(`${k} is too long (${v.length} characters)`);
}
const short = (v) => JSON.stringify(String(v).slice(0, 40));
function whole(name, text, min, max) {
  const n = parseNumber(String(text), { whole: true }).value;
  if (n === undefined || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${short(text)}`);
  return n;
}
/** The training case, PRESET:BATCH (a 28 px preset: the images are 28x28 grayscale). */
function trainingCase(text, maxBatch) {
  const m = /^(\w{1,64}):(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`bad training case ${short(text)}: use PRESET:BATCH`);
  return { preset: m[1], batch: whole("the training batch", m[2], 1, maxBatch) };
}
/** The form's values, each within its bound (the engine's `Limits`: `limits`). */
function options({ maxBenchCases, maxBenchSize, maxBenchBatch, maxBenchRuns }) {
  if (problems.length) throw new Error(problems.join("; "));
  const list = form.elements.cases.value.split(",");
  if (list.length > maxBenchCases) throw new Error(`at most ${maxBenchCases} cases, got ${list.length}`);
  const cases = list.map((c) => {
    const m = /^(\w{1,64})@(\d+):(\d+)$/.exec(c.trim());
    if (!m) throw new Error(`bad case ${short(c)}: use MODEL@SIZE:BATCH`);
    return { model: m[1], size: whole("a case's size", m[2], 1, maxBenchSize), batch: whole("a case's batch", m[3], 1, maxBenchBatch) };
  });
  const backends = form.elements.backends.value.split(",").map((b) => b.trim()).filter(Boolean);
  for (const b of backends) if (!BACKENDS.includes(b)) throw new Error(`unknown backend ${short(b)}: use ${BACKENDS.join(", ")}`);
  if (backends.length > BACKENDS.length) throw new Error(`at most ${BACKENDS.length} backends`);
  return {
    cases, backends,
    runs: whole("runs", form.elements.runs.value, 1, maxBenchRuns), warmup: whole("warmup", form.elements.warmup.value, 0, maxBenchRuns),
    breakdown: whole("breakdown", form.elements.breakdown.value, 0, 1) === 1,
    training: trainingCase(form.elements.training.value, maxBenchBatch),
  };
}
/** The engine's limits and defaults (Rust's `Limits`), asked once (again after a failure). */
let asked;
const limits = () => (asked ??= call("defaults").then((d) => d.table.limits, (e) => { asked = undefined; throw e; }));
const start = () => limits().then((l) => run(options(l))).then((r) => { window.benchResult = r; }, (e) => { window.benchError = e.message; status(`failed: ${e.message}`); });
form.onsubmit = (e) => {
  e.preventDefault();
  start();
};
if (params.get("run")) start();
