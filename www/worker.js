// The worker: owns the wasm Session (backend, data, model, optimizer, study, classifier) and the
// one loop that steps whichever is running, the trainer or the study. The page talks to it
// through rpc.js: requests {id, type, ...} -> {type: "reply", id, ok, value|error}, and events
// (step, eval, state, probe, ...). Each request type is the name of the page's and the
// Session's operation.

// Every GPU device burn opens, so that a lost one is noticed (its `lost` promise settles) and,
// for testing recovery, one can be destroyed on purpose.
const gpuDevices = [];
if (self.GPUAdapter) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    gpuDevices.push(device);
    device.lost.then((info) => self.postMessage({ type: "deviceLost", reason: info.reason, message: info.message }));
    return device;
  };
}

// What the GPU is asked to do, counted for the bench page: compute dispatches, queue submits,
// buffers mapped for reading (host round trips) and pipelines made (shader compilations).
const gpuCounts = { dispatches: 0, submits: 0, readbacks: 0, pipelines: 0 };
if (self.GPUComputePassEncoder) {
  const count = (proto, name, key) => {
    const original = proto[name];
    proto[name] = function (...args) {
      gpuCounts[key]++;
      return original.apply(this, args);
    };
  };
  count(GPUComputePassEncoder.prototype, "dispatchWorkgroups", "dispatches");
  count(GPUQueue.prototype, "submit", "submits");
  count(GPUBuffer.prototype, "mapAsync", "readbacks");
  count(GPUDevice.prototype, "createComputePipeline", "pipelines");
  count(GPUDevice.prototype, "createComputePipelineAsync", "pipelines");
}

let session = null;
// The build this worker runs (see rpc.js): the threaded one starts its pool of Web Workers,
// one a core; if it cannot (no shared memory, or not built), the single-threaded one serves.
let Session = null;
let Upload = null;
let engine = null;
const ready = (async () => {
  let fallback = null;
  const params = new URL(import.meta.url).searchParams;
  if (params.get("build") === "threads") {
    try {
      if (!self.crossOriginIsolated) throw new Error("the page is not cross-origin isolated");
      const pkg = await import("./pkg/threads/vanillanet.js");
      await pkg.default();
      await pkg.initThreadPool(Number(params.get("threads")) || navigator.hardwareConcurrency || 1);
      engine = pkg;
    } catch (e) {
      fallback = String(e?.message ?? e);
    }
  }
  engine ??= await import("./pkg/vanillanet.js").then(async (pkg) => (await pkg.default(), pkg));
  ({ Session, Upload } = engine);
  session = new Session();
  const build = { ...engine.build(), crossOriginIsolated: Boolean(self.crossOriginIsolated), fallback };
  post({ type: "build", build });
})();
let state = "idle"; // idle | running | pausing | paused | finished
// The ablation study, beside the trainer: only one of them runs at a time.
let studyState = "idle"; // idle | running | pausing | paused | finished
let options = null;
let evalEvery = 50;
let evalLimit = 500;
let probe = { layer: 1, channel: 0, every: 10 };
// Steps between probes of the activations' decay (vanillanet.inside.setProbeEvery), for the
// trainers made from now on too; null: the engine's default.
let probeEvery = null;
let trainAccuracy = null;
let loopActive = false;
// Set by "finish annealing": pause (and tell the page) once lambda has reached 1.
let pauseWhenAnnealed = false;

const post = (msg) => self.postMessage(msg);

// A panic in Rust aborts the wasm instance (a RuntimeError, "unreachable"), possibly inside an
// awaited call whose promise then never settles. The worker cannot go on: it tells the page,
// which starts a fresh one from the last saved state. The panic's own message (logged by
// console_error_panic_hook) is the reason given.
let lastPanic = null;
const consoleError = console.error.bind(console);
console.error = (...args) => {
  const text = args.map(String).join(" ");
  if (text.includes("panicked at")) lastPanic = text.split("\n").slice(0, 2).join(" ");
  consoleError(...args);
};
let crashed = false;
function crash(error) {
  if (crashed) return;
  crashed = true;
  post({ type: "crashed", reason: lastPanic ?? String(error?.message ?? error) });
}
const fatal = (e) => e instanceof WebAssembly.RuntimeError || String(e?.message ?? e).includes("unreachable");
self.addEventListener("error", (e) => crash(e.error ?? e.message));
self.addEventListener("unhandledrejection", (e) => {
  if (fatal(e.reason)) crash(e.reason);
});
// The Session is borrowed for the whole of an awaited call (wasm-bindgen refuses a second one
// meanwhile), so calls run one at a time, in order.
let chain = Promise.resolve();
const exclusive = (fn) => {
  const p = chain.then(fn);
  chain = p.catch(() => {});
  return p;
};
const setState = (s) => {
  state = s;
  post({ type: "state", state });
};
const setStudyState = (s) => {
  studyState = s;
  post({ type: "studyState", state: s });
};
const SCHEDULE_POINTS = 2000;
const PROBE_INPUTS = Array.from({ length: 41 }, (_, i) => -2 + i * 0.1);

async function adapterInfo() {
  if (!("gpu" in navigator)) return null;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    return {
      vendor: info.vendor || "(unknown)",
      architecture: info.architecture || "(unknown)",
      description: info.description || "",
      isFallback: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
    };
  } catch {
    return null;
  }
}

async function sendProbe() {
  try {
    const r = await session.probe(probe.layer, probe.channel, Float32Array.from(PROBE_INPUTS));
    post({ type: "probe", layer: probe.layer, channel: probe.channel, inputs: PROBE_INPUTS, curve: r.curve, kernel: r.kernel });
  } catch (e) {
    post({ type: "error", key: "probe.failed", message: String(e.message ?? e) });
  }
}

async function evaluate(step, limit) {
  const accuracy = await session.evaluate(limit);
  post({ type: "eval", step, testAccuracy: accuracy, full: limit === undefined });
  return accuracy;
}

// The whole test set, posted as an `evaluation` event (and its accuracy as an `eval` one).
async function evaluation(fused) {
  const result = await session.evaluation(fused);
  post({ type: "evaluation", evaluation: result });
  if (!fused) post({ type: "eval", step: result.step, testAccuracy: result.accuracy, full: true });
  return result;
}

// On WebGPU the first run of a net compiles its shaders (most of a second on a slow adapter):
// a new classifier runs once on a blank input right away, so the first image does not wait.
async function warmUp() {
  if (session.status().backend !== "webgpu") return;
  const p = session.classifier()?.card.preprocess;
  if (p) await session.logits(new Float32Array(p.channels * p.height * p.width), 1);
}

async function oneStep() {
  const t0 = performance.now();
  const report = await session.step();
  const ms = performance.now() - t0;
  trainAccuracy = trainAccuracy === null ? report.batchAccuracy : 0.9 * trainAccuracy + 0.1 * report.batchAccuracy;
  const status = session.status();
  post({ type: "step", report, ms, imagesPerSec: (report.batchSize * 1000) / ms, trainAccuracy, next: status });
  if (report.warning) post({ type: "info", message: report.warning });
  // Each epoch's end (and the last step) evaluates on the whole test set; in between, a quick
  // look at part of it keeps the accuracy curve moving.
  if (report.epochEnd || status.finished) await evaluation(false).catch((e) => {
    // Data without test images has nothing to evaluate; training goes on.
    if (fatal(e)) throw e;
    post({ type: "eval", step: report.globalStep, testAccuracy: null, full: true });
  });
  else if (report.globalStep % evalEvery === 0) await evaluate(report.globalStep, evalLimit);
  if (report.globalStep % probe.every === 0 || report.globalStep === 1) await sendProbe();
  if (pauseWhenAnnealed && status.cannotFuse === null) {
    pauseWhenAnnealed = false;
    if (!status.finished) setState("paused");
    post({ type: "annealed" });
  }
  if (status.finished) {
    await sendProbe();
    setState("finished");
  }
  return report;
}

async function studyStep() {
  const progress = await session.studyStep();
  post({ type: "studyStep", progress });
  if (progress.finished) {
    const report = session.studyReport();
    post({ type: "studyRun", report });
    if (report.finished) setStudyState("finished");
  }
}

// The one loop: it steps whichever job is running, the trainer or the study.
async function loop() {
  if (loopActive) return;
  loopActive = true;
  let job = null;
  try {
    for (;;) {
      job = state === "running" ? "train" : studyState === "running" ? "study" : null;
      if (job === null) break;
      await exclusive(() => {
        if (job === "train") return state === "running" ? oneStep() : null;
        return studyState === "running" ? studyStep() : null;
      });
      // Let pause/step/options messages in between steps.
      await new Promise((r) => setTimeout(r, 0));
    }
  } catch (e) {
    if (fatal(e)) return crash(e);
    if (job === "study") {
      post({ type: "error", key: "study.stopped", message: String(e.message ?? e) });
      setStudyState("paused");
    } else {
      post({ type: "error", key: "train.stopped", message: String(e.message ?? e) });
      setState("paused");
    }
  } finally {
    loopActive = false;
  }
}

// Starting one job pauses the other (its step in flight finishes first).
function pauseOther(job) {
  if (job === "study" && state === "running") {
    setState("paused");
    post({ type: "info", key: "train.pausedForStudy" });
  }
  if (job === "train" && studyState === "running") {
    setStudyState("paused");
    post({ type: "info", key: "study.pausedForTraining" });
  }
}

async function ensureTrainer(opts) {
  if (options === null) {
    const info = session.createTrainer(opts);
    if (probeEvery !== null) session.setProbeEvery(probeEvery);
    options = opts;
    trainAccuracy = null;
    post({ type: "model", info, options });
  } else {
    const totalSteps = session.setOptions(opts);
    options = opts;
    post({ type: "options", options, totalSteps });
  }
}

function doReset() {
  session.reset();
  options = null;
  trainAccuracy = null;
  setState("idle");
  post({ type: "reset" });
  return true;
}

function dataLoaded(summary) {
  doReset();
  post({ type: "dataset", summary, samples: session.samples(8) });
  return summary;
}

const handlers = {
  async setBackend({ backend }) {
    const answer = await exclusive(() => session.setBackend(backend));
    const adapter = answer.backend === "webgpu" ? await adapterInfo() : null;
    post({ type: "backend", ...answer, adapter, webgpuAvailable: "gpu" in navigator });
    return answer;
  },
  async loadDataset({ name }) {
    const res = await fetch(new URL(`./data/${name}.vnds`, import.meta.url));
    if (!res.ok) throw new Error(`cannot fetch dataset ${name}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    return exclusive(() => dataLoaded(session.loadDataset(name, bytes)));
  },
  ownDataset({ classes, pixels, labels, channels, height, width }) {
    return exclusive(() => dataLoaded(session.ownDataset(classes, pixels, labels, channels, height, width)));
  },
  defaults() {
    return { table: Session.optionsTable(), studies: Session.studies() };
  },
  async train({ options: opts, evalEvery: ee, evalLimit: el }) {
    if (ee) evalEvery = ee;
    if (el) evalLimit = el;
    await exclusive(async () => {
      if (state === "finished") doReset();
      await ensureTrainer(opts);
      pauseOther("train");
      setState("running");
    });
    loop();
    return true;
  },
  // `saved`: the report of a study to continue (its finished runs are kept).
  studyRun({ options: opts, saved }) {
    return exclusive(() => {
      const report = session.studyRun(opts, saved ?? undefined);
      pauseOther("study");
      setStudyState(report.finished ? "finished" : "running");
      loop();
      return report;
    });
  },
  async studyPause() {
    if (studyState !== "running") return true;
    studyState = "pausing";
    await exclusive(() => {});
    if (studyState === "pausing") setStudyState("paused");
    return true;
  },
  studyResume() {
    if (studyState !== "paused") throw new Error("no paused study to resume");
    pauseOther("study");
    setStudyState("running");
    loop();
    return true;
  },
  studyDiscard() {
    if (studyState === "running") studyState = "pausing";
    return exclusive(() => {
      session.studyDiscard();
      setStudyState("idle");
      return true;
    });
  },
  studyCsv({ report }) {
    return Session.studyCsv(report);
  },
  checkOptions({ options: opts }) {
    return exclusive(() => session.checkOptions(opts));
  },
  setOptions({ options: opts }) {
    return exclusive(async () => {
      if (options === null) return false;
      await ensureTrainer(opts);
      return true;
    });
  },
  // The preview of lambda's schedule: only for options that pass the check (a link's
  // `epochs=100000000` would sample billions of points), and at most SCHEDULE_POINTS of them.
  schedule({ options: opts }) {
    return exclusive(() => {
      if (session.checkOptions(opts) !== null) return null;
      return session.schedule(opts, Math.max(1, Math.min(40, Math.floor(SCHEDULE_POINTS / opts.epochs))));
    });
  },
  async finishAnnealing() {
    await exclusive(async () => {
      if (options === null) throw new Error("train a model first");
      const status = session.status();
      if (status.finished) throw new Error("training is finished: reset to train again");
      if (status.cannotFuse === null) return;
      // Deep training now ends with the current epoch (lambda jumps to the shortened schedule).
      await ensureTrainer({ ...options, decayEpochs: Math.min(options.decayEpochs, status.epoch + 1) });
      pauseWhenAnnealed = true;
      pauseOther("train");
      setState("running");
    });
    loop();
    return true;
  },
  evaluation({ fused }) {
    return exclusive(() => {
      if (options === null) throw new Error("nothing to evaluate: train a model first");
      return evaluation(Boolean(fused));
    });
  },
  evaluationCell({ fused, label, predicted, limit }) {
    return exclusive(() => session.evaluationCell(Boolean(fused), label, predicted, limit));
  },
  testImage({ index }) {
    return exclusive(() => session.testImage(index));
  },
  fuse({ limit }) {
    return exclusive(async () => {
      const report = await session.fuse(limit);
      await warmUp();
      return report;
    });
  },
  async classify({ file, k }) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    return exclusive(() => session.classify(bytes, k));
  },
  async decodeImage({ file, channels, side }) {
    return Session.decodeImage(new Uint8Array(await file.arrayBuffer()), channels, side, side);
  },
  // A checkpoint arrives in chunks straight into wasm memory, with progress, so a file of
  // hundreds of MB needs no second copy and the page stays responsive.
  async loadCheckpoint({ file }) {
    return exclusive(async () => {
      const upload = new Upload(file.size);
      const reader = file.stream().getReader();
      let loaded = 0;
      let last = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        upload.push(value);
        loaded += value.length;
        if (performance.now() - last > 100) {
          last = performance.now();
          post({ type: "checkpointProgress", name: file.name, loaded, total: file.size, phase: "reading" });
        }
      }
      post({ type: "checkpointProgress", name: file.name, loaded, total: file.size, phase: "parsing" });
      return session.loadCheckpoint(upload);
    });
  },
  useCheckpoint({ variant, strides }) {
    return exclusive(async () => {
      const info = session.useCheckpoint(variant ?? undefined, strides ? Uint32Array.from(strides) : undefined);
      await warmUp();
      return info;
    });
  },
  classifier() {
    return exclusive(() => session.classifier());
  },
  exportModel() {
    return exclusive(() => session.exportModel());
  },
  exportTraining() {
    return exclusive(() => session.exportTraining());
  },
  exportOnnx() {
    return exclusive(() => session.exportOnnx());
  },
  logits({ values, batch }) {
    return exclusive(() => session.logits(values, batch));
  },
  benchLatency({ model, size, batch, fused, runs, warmup }) {
    return exclusive(() => session.benchLatency(model, size, batch, fused, runs, warmup));
  },
  benchClassifier({ model, size }) {
    return exclusive(() => session.benchClassifier(model, size));
  },
  benchClassifierLatency({ batch, runs, warmup }) {
    return exclusive(() => session.benchClassifierLatency(batch, runs, warmup));
  },
  /** What this worker's engine is: `{webgpu, threads, crossOriginIsolated}`. */
  build() {
    return { ...engine.build(), crossOriginIsolated: Boolean(self.crossOriginIsolated) };
  },
  /** The GPU work counted since the last call (zeros on the CPU backend). */
  gpuCounts() {
    const counts = { ...gpuCounts };
    for (const k of Object.keys(gpuCounts)) gpuCounts[k] = 0;
    return counts;
  },
  benchTraining({ preset, channels, size, batch, steps }) {
    return exclusive(() => session.benchTraining(preset, channels, size, batch, steps));
  },
  snapshot() {
    return exclusive(async () => (options === null ? null : { bytes: await session.snapshot(), status: session.status() }));
  },
  restore({ bytes, trainAccuracy: acc }) {
    return exclusive(async () => {
      const info = session.restore(bytes);
      if (probeEvery !== null) session.setProbeEvery(probeEvery);
      options = info.options;
      trainAccuracy = acc ?? null;
      const status = session.status();
      post({ type: "model", info, options, restored: true });
      setState(status.finished ? "finished" : "paused");
      // Awaited: the probe borrows the Session, which the next call would otherwise meet.
      await sendProbe();
      return { info, status };
    });
  },
  // Inside the net (www/inside.js): the decay series, the feature maps of one image, the fusion
  // of one part; each one call into Rust and one read back.
  insideDecay() {
    return exclusive(() => (options === null ? null : session.insideDecay()));
  },
  setProbeEvery({ every }) {
    probeEvery = every;
    return exclusive(() => {
      if (options !== null) session.setProbeEvery(every);
      return true;
    });
  },
  async featureMaps({ index, file, block, fused, tiles }) {
    const bytes = file ? new Uint8Array(await file.arrayBuffer()) : undefined;
    return exclusive(() => {
      if (options === null) throw new Error("no model yet: start training first");
      return session.featureMaps(index ?? undefined, bytes, block, fused, tiles);
    });
  },
  fusion({ part }) {
    return exclusive(() => {
      if (options === null) throw new Error("no model yet: start training first");
      return session.fusion(part);
    });
  },
  debugPanic() {
    return exclusive(() => session.debugPanic());
  },
  loseDevice() {
    for (const d of gpuDevices) d.destroy();
    return gpuDevices.length;
  },
  async pause() {
    if (state !== "running") return true;
    // The loop stops before its next step; answer once the step in flight is done.
    state = "pausing";
    await exclusive(() => {});
    if (state === "pausing") setState("paused");
    return true;
  },
  async resume() {
    if (options === null) throw new Error("nothing to resume: start training first");
    if (state === "finished") throw new Error("training is finished: reset to train again");
    pauseOther("train");
    setState("running");
    loop();
    return true;
  },
  step({ options: opts }) {
    return exclusive(async () => {
      if (state === "running") throw new Error("pause before stepping");
      if (state === "finished") throw new Error("training is finished: reset to train again");
      if (options === null) await ensureTrainer(opts);
      const report = await oneStep();
      if (state !== "finished") setState("paused");
      return report;
    });
  },
  reset() {
    if (state === "running") setState("paused");
    return exclusive(doReset);
  },
  probe({ layer, channel }) {
    probe = { ...probe, layer, channel };
    return exclusive(async () => {
      if (options !== null) await sendProbe();
      return true;
    });
  },
};

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    await ready;
    const handler = handlers[type];
    if (!handler) throw new Error(`unknown request '${type}'`);
    const value = await handler(data);
    if (id !== undefined) post({ type: "reply", id, ok: true, value });
  } catch (e) {
    if (fatal(e)) return crash(e);
    const message = e?.message ?? String(e);
    if (id !== undefined) post({ type: "reply", id, ok: false, error: message });
    else post({ type: "error", message });
  }
};
