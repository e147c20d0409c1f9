// The worker: owns the wasm Session (backend, data, model, optimizer, study, classifier) and the
// one loop that steps whichever is running, the trainer or the study. The page talks to it
// through rpc.js: requests {id, type, ...} -> {type: "reply", id, ok, value|error}, and events
// (step, eval, state, probe, ...). Each request type names the page's and the Session's operation.

import { crash, fatal } from "./worker/crash.js";
import { exclusive, loadEngine } from "./worker/engine.js";
import { evaluate, evaluation, sendProbe, warmUp } from "./worker/reads.js";
import { upload } from "./worker/upload.js";
import { adapterInfo, gpuCounts, loseDevices } from "./worker/gpu.js";

// Typed by the declarations generated from the Rust types (pkg/vanillanet.d.ts; tsconfig.json).
/** @typedef {import("../pkg/vanillanet.js")} Engine */
/** @type {InstanceType<Engine["Session"]>} */ let session = null;
/** @type {Engine["Session"]} */ let Session = null;
/** @type {Engine["Upload"]} */ let Upload = null;
/** @type {Engine} */ let engine = null;
const ready = loadEngine().then((loaded) => {
  ({ engine } = loaded);
  ({ Session, Upload } = engine);
  session = new Session();
  post({ type: "build", build: { ...engine.build(), crossOriginIsolated: Boolean(self.crossOriginIsolated), fallback: loaded.fallback } });
});
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

const setState = (s) => {
  state = s;
  post({ type: "state", state });
};
const setStudyState = (s) => {
  studyState = s;
  post({ type: "studyState", state: s });
};
const SCHEDULE_POINTS = 2000;
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
  if (report.epochEnd || status.finished) {
    await evaluation(session, post, "trained").catch((e) => {
      // Data without test images has nothing to evaluate; training goes on.
      if (fatal(e)) throw e;
      post({ type: "eval", step: report.globalStep, testAccuracy: null, full: true });
    });
    if (options.emaDecay > 0) await evaluation(session, post, "ema").catch((e) => { if (fatal(e)) throw e; });
  }
  else if (report.globalStep % evalEvery === 0) await evaluate(session, post, report.globalStep, evalLimit);
  if (report.globalStep % probe.every === 0 || report.globalStep === 1) await sendProbe(session, probe, post);
  if (pauseWhenAnnealed && status.cannotFuse === null) {
    pauseWhenAnnealed = false;
    if (!status.finished) setState("paused");
    post({ type: "annealed" });
  }
  if (status.finished) {
    await sendProbe(session, probe, post);
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

// Pauses a job, the trainer or the study: the loop stops before its next step; the answer comes
// once the step in flight is done.
async function pauseJob(job) {
  const now = () => (job === "train" ? state : studyState);
  if (now() !== "running") return true;
  if (job === "train") state = "pausing";
  else studyState = "pausing";
  await exclusive(() => {});
  if (now() === "pausing") (job === "train" ? setState : setStudyState)("paused");
  return true;
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
  studyPause: () => pauseJob("study"),
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
  studyCsv: ({ report }) => Session.studyCsv(report),
  setOptions({ options: opts }) {
    return exclusive(async () => {
      if (options === null) return false;
      await ensureTrainer(opts);
      return true;
    });
  },
  // The preview of lambda's schedule (null for options that do not pass the check).
  schedule: ({ options: opts }) => exclusive(() => session.schedule(opts, SCHEDULE_POINTS)),
  async finishAnnealing() {
    await exclusive(async () => {
      if (options === null) throw new Error("train a model first");
      // Deep training now ends with the current epoch (Rust's Trainer::finish_annealing).
      const changed = session.finishAnnealing();
      if (changed === null) return;
      options = changed;
      post({ type: "options", options, totalSteps: session.status().totalSteps });
      pauseWhenAnnealed = true;
      pauseOther("train");
      setState("running");
    });
    loop();
    return true;
  },
  evaluation({ fused, ema }) {
    return exclusive(() => {
      if (options === null) throw new Error("nothing to evaluate: train a model first");
      return evaluation(session, post, fused ? "fused" : ema ? "ema" : "trained");
    });
  },
  fuse({ limit, weights }) {
    return exclusive(async () => {
      const report = await session.fuse(limit, weights ?? undefined);
      await warmUp(session);
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
  // A checkpoint arrives in chunks straight into wasm memory (worker/upload.js).
  loadCheckpoint({ file }) {
    return exclusive(async () => session.loadCheckpoint(await upload(Upload, file, post)));
  },
  useCheckpoint({ variant, strides }) {
    return exclusive(async () => {
      const info = session.useCheckpoint(variant ?? undefined, strides ? Uint32Array.from(strides) : undefined);
      await warmUp(session);
      return info;
    });
  },
  /** What this worker's engine is: `{webgpu, threads, crossOriginIsolated}`. */
  build: () => ({ ...engine.build(), crossOriginIsolated: Boolean(self.crossOriginIsolated) }),
  gpuCounts,
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
      await sendProbe(session, probe, post);
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
  loseDevice: loseDevices,
  pause: () => pauseJob("train"),
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
      if (options !== null) await sendProbe(session, probe, post);
      return true;
    });
  },
};

// The calls that only pass their arguments on to the Session, one at a time.
/** @type {Record<string, (data: any) => unknown>} */
const PASS_THROUGH = {
  checkOptions: ({ options: opts }) => session.checkOptions(opts),
  evaluationCell: ({ fused, ema, label, predicted, limit }) => session.evaluationCell(Boolean(fused), label, predicted, limit, Boolean(ema)),
  testImage: ({ index }) => session.testImage(index),
  classifier: () => session.classifier(),
  exportModel: () => session.exportModel(),
  exportTraining: ({ weights }) => session.exportTraining(weights ?? undefined),
  exportOnnx: () => session.exportOnnx(),
  logits: ({ values, batch }) => session.logits(values, batch),
  benchLatency: ({ model, size, batch, fused, runs, warmup }) => session.benchLatency(model, size, batch, fused, runs, warmup),
  benchClassifier: ({ model, size }) => session.benchClassifier(model, size),
  benchClassifierLatency: ({ batch, runs, warmup }) => session.benchClassifierLatency(batch, runs, warmup),
  benchBreakdown: ({ model, size, batch, runs, warmup }) => session.benchBreakdown(model, size, batch, runs, warmup),
  benchTraining: ({ preset, channels, size, batch, steps }) => session.benchTraining(preset, channels, size, batch, steps),
  debugPanic: () => session.debugPanic(),
};
for (const [name, fn] of Object.entries(PASS_THROUGH)) handlers[name] = (data) => exclusive(() => fn(data));

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
