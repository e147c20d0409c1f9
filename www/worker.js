// The training worker: owns the wasm module (model, data, optimizer) and the one training loop.
// The page talks to it with requests ({id, type, ...} -> {type: "reply", id, ok, value|error})
// and listens to its events (step, eval, state, probe, backend).
import init, * as vn from "/pkg/vanillanet.js";

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

const ready = init();
let state = "idle"; // idle | running | paused | finished
// The ablation study, beside the trainer: only one of them runs at a time.
let studyState = "idle"; // idle | running | paused | finished
let options = null;
let evalEvery = 50;
let evalLimit = 500;
let probe = { layer: 1, channel: 0, every: 10 };
let trainAccuracy = null;
let loopActive = false;
// Set by "finish annealing": pause (and tell the page) once lambda has reached 1.
let pauseWhenAnnealed = false;

const post = (msg) => self.postMessage(msg);
// Calls that touch the trainer run one at a time, in order: a step in flight holds the model.
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
    const r = await vn.activationResponse(probe.layer, probe.channel, Float32Array.from(PROBE_INPUTS));
    post({ type: "probe", layer: probe.layer, channel: probe.channel, inputs: PROBE_INPUTS, curve: r.curve, kernel: r.kernel });
  } catch (e) {
    post({ type: "error", message: `activation probe: ${e.message ?? e}` });
  }
}

async function evaluate(step, limit) {
  const accuracy = await vn.evaluate(limit);
  post({ type: "eval", step, testAccuracy: accuracy, full: limit === undefined });
  return accuracy;
}

async function oneStep() {
  const t0 = performance.now();
  const report = await vn.step();
  const ms = performance.now() - t0;
  trainAccuracy = trainAccuracy === null ? report.batchAccuracy : 0.9 * trainAccuracy + 0.1 * report.batchAccuracy;
  const status = vn.trainerStatus();
  post({ type: "step", report, ms, imagesPerSec: (report.batchSize * 1000) / ms, trainAccuracy, next: status });
  if (report.globalStep % evalEvery === 0 || report.epochEnd) await evaluate(report.globalStep, evalLimit);
  if (report.globalStep % probe.every === 0 || report.globalStep === 1) await sendProbe();
  if (pauseWhenAnnealed && status.lambda === 1) {
    pauseWhenAnnealed = false;
    if (!status.finished) setState("paused");
    post({ type: "annealed" });
  }
  if (status.finished) {
    await evaluate(report.globalStep, undefined);
    await sendProbe();
    setState("finished");
  }
  return report;
}

async function studyStep() {
  const progress = await vn.studyStep();
  post({ type: "studyStep", progress });
  if (progress.finished) {
    post({ type: "studyRun", report: vn.studyReport() });
    if (progress.run + 1 === progress.runs) setStudyState("finished");
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
    if (job === "study") {
      post({ type: "error", message: `the study stopped: ${e.message ?? e}` });
      setStudyState("paused");
    } else {
      post({ type: "error", message: `training stopped: ${e.message ?? e}` });
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
    post({ type: "info", message: "training paused while the study runs" });
  }
  if (job === "train" && studyState === "running") {
    setStudyState("paused");
    post({ type: "info", message: "the study is paused while training runs" });
  }
}

async function ensureTrainer(opts) {
  if (options === null) {
    const info = vn.createTrainer(opts);
    options = opts;
    trainAccuracy = null;
    post({ type: "model", info, options });
  } else {
    const total = vn.setOptions(opts);
    options = opts;
    post({ type: "options", options, totalSteps: total });
  }
}

function doReset() {
  vn.dropTrainer();
  options = null;
  trainAccuracy = null;
  setState("idle");
  post({ type: "reset" });
  return true;
}

const handlers = {
  async setBackend({ backend }) {
    const answer = await exclusive(() => vn.setBackend(backend));
    const adapter = answer.backend === "webgpu" ? await adapterInfo() : null;
    post({ type: "backend", ...answer, adapter, webgpuAvailable: "gpu" in navigator });
    return answer;
  },
  async loadDataset({ name }) {
    const res = await fetch(`/data/${name}.vnds`);
    if (!res.ok) throw new Error(`cannot fetch dataset ${name}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    return exclusive(() => {
      const summary = vn.loadDataset(name, bytes);
      doReset();
      post({ type: "dataset", summary, samples: vn.datasetSamples(8) });
      return summary;
    });
  },
  ownDataset({ classes, pixels, labels, channels, height, width }) {
    return exclusive(() => {
      const summary = vn.setOwnDataset(classes, pixels, labels, channels, height, width);
      doReset();
      post({ type: "dataset", summary, samples: vn.datasetSamples(8) });
      return summary;
    });
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
  startStudy({ options: opts, saved }) {
    return exclusive(() => {
      const report = vn.createStudy(opts, saved ?? undefined);
      pauseOther("study");
      setStudyState(report.runs.length === report.arms.length * opts.seeds ? "finished" : "running");
      loop();
      return report;
    });
  },
  async pauseStudy() {
    if (studyState !== "running") return true;
    studyState = "pausing";
    await exclusive(() => {});
    if (studyState === "pausing") setStudyState("paused");
    return true;
  },
  resumeStudy() {
    if (studyState !== "paused") throw new Error("no paused study to resume");
    pauseOther("study");
    setStudyState("running");
    loop();
    return true;
  },
  discardStudy() {
    if (studyState === "running") studyState = "pausing";
    return exclusive(() => {
      vn.dropStudy();
      setStudyState("idle");
      return true;
    });
  },
  studies() {
    return vn.studies();
  },
  studyCsv({ report }) {
    return vn.studyCsv(report);
  },
  setOptions({ options: opts }) {
    return exclusive(async () => {
      if (options === null) return false;
      await ensureTrainer(opts);
      return true;
    });
  },
  schedule({ options: opts }) {
    return vn.lambdaSchedule(opts, 40);
  },
  async finishAnnealing() {
    await exclusive(async () => {
      if (options === null) throw new Error("train a model first");
      const status = vn.trainerStatus();
      if (status.finished) throw new Error("training is finished: reset to train again");
      if (status.lambda === 1) return;
      // Deep training now ends with the current epoch (lambda jumps to the shortened schedule).
      await ensureTrainer({ ...options, decayEpochs: Math.min(options.decayEpochs, status.epoch + 1) });
      pauseWhenAnnealed = true;
      pauseOther("train");
      setState("running");
    });
    loop();
    return true;
  },
  fuse({ limit }) {
    return exclusive(() => vn.fuse(limit));
  },
  async classify({ file, k }) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    return exclusive(() => vn.classify(bytes, k));
  },
  async decodeImage({ file, channels, side }) {
    return vn.decodeImage(new Uint8Array(await file.arrayBuffer()), channels, side, side);
  },
  // A checkpoint arrives in chunks straight into wasm memory, with progress, so a file of
  // hundreds of MB needs no second copy and the page stays responsive.
  async readCheckpoint({ file }) {
    return exclusive(async () => {
      vn.checkpointBegin(file.size);
      const reader = file.stream().getReader();
      let loaded = 0;
      let last = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        vn.checkpointChunk(value);
        loaded += value.length;
        if (performance.now() - last > 100) {
          last = performance.now();
          post({ type: "checkpointProgress", name: file.name, loaded, total: file.size, phase: "reading" });
        }
      }
      post({ type: "checkpointProgress", name: file.name, loaded, total: file.size, phase: "parsing" });
      return vn.checkpointRead();
    });
  },
  useCheckpoint({ variant, strides }) {
    return exclusive(() => vn.checkpointUse(variant ?? undefined, strides ? Uint32Array.from(strides) : undefined));
  },
  classifierInfo() {
    return vn.classifierInfo();
  },
  exportModel() {
    return exclusive(() => vn.exportModel());
  },
  exportOnnx() {
    return exclusive(() => vn.exportOnnx());
  },
  classifierLogits({ values, batch }) {
    return exclusive(() => vn.classifierLogits(values, batch));
  },
  benchLatency({ model, size, batch, fused, runs, warmup }) {
    return exclusive(() => vn.benchLatency(model, size, batch, fused, runs, warmup));
  },
  benchClassifier({ model, size }) {
    return exclusive(() => vn.benchClassifier(model, size));
  },
  benchClassifierLatency({ batch, runs, warmup }) {
    return exclusive(() => vn.benchClassifierLatency(batch, runs, warmup));
  },
  benchTraining({ preset, channels, size, batch, steps }) {
    return exclusive(() => vn.benchTraining(preset, channels, size, batch, steps));
  },
  snapshot() {
    return exclusive(async () => (options === null ? null : { bytes: await vn.snapshot(), status: vn.trainerStatus() }));
  },
  restore({ bytes, trainAccuracy: acc }) {
    return exclusive(() => {
      const info = vn.restoreTrainer(bytes);
      options = info.options;
      trainAccuracy = acc ?? null;
      const status = vn.trainerStatus();
      post({ type: "model", info, options, restored: true });
      setState(status.finished ? "finished" : "paused");
      sendProbe();
      return { info, status };
    });
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
    const value = await handlers[type](data);
    if (id !== undefined) post({ type: "reply", id, ok: true, value });
  } catch (e) {
    const message = e?.message ?? String(e);
    if (id !== undefined) post({ type: "reply", id, ok: false, error: message });
    else post({ type: "error", message });
  }
};
