// The worker: holds the wasm Session (src/session/: backend, data, trainer, study, classifier,
// evaluations, and the state of the loop that steps the trainer or the study) and relays. The
// page's requests (rpc.js: {id, type, ...} -> {type: "reply", id, ok, value|error}) become calls
// into the Session, one at a time; the events it emits as it goes (step, eval, state, activation,
// annealed, fused, ...) are posted to the page as they happen. The one thing this file does
// itself is pace the loop: it calls `advance` until the Session says nothing runs, letting the
// page's calls in between. Each request type names the page's and the Session's operation.

import { crash, fatal } from "./worker/crash.js";
import { exclusive, loadEngine } from "./worker/engine.js";
import { upload } from "./worker/upload.js";
import { adapterInfo, gpuCounts, loseDevices } from "./worker/gpu.js";

// Typed by the declarations generated from the Rust types (pkg/vanillanet.d.ts; tsconfig.json).
/** @typedef {import("../pkg/vanillanet.js")} Engine */
/** @typedef {import("../pkg/vanillanet.js").Evaluated} Evaluated */
/** @type {InstanceType<Engine["Session"]>} */ let session = null;
/** @type {Engine["Session"]} */ let Session = null;
/** @type {Engine["Upload"]} */ let Upload = null;
/** @type {Engine} */ let engine = null;

const post = (msg) => self.postMessage(msg);

const ready = loadEngine().then((loaded) => {
  ({ engine } = loaded);
  ({ Session, Upload } = engine);
  session = new Session();
  session.setEventSink(post);
  post({ type: "build", build: { ...engine.build(), crossOriginIsolated: Boolean(self.crossOriginIsolated), fallback: loaded.fallback } });
});
const SCHEDULE_POINTS = 2000;

// The loop, started after a call that sets a job running: one step of it per call, until the
// Session answers that nothing runs (paused, finished, reset). The Session keeps one loop at a
// time (claimLoop); a failed step pauses its job and comes as an error event.
async function loop() {
  if (!(await exclusive(() => session.claimLoop()))) return;
  try {
    // Pause, step and options requests get in between steps.
    while (await exclusive(() => session.advance())) await new Promise((r) => setTimeout(r, 0));
  } finally {
    // However it ended, so that a later start is not refused as "a loop runs already" (after a
    // crash the session is a new one, and this one answers nothing).
    await exclusive(() => session.endLoop()).catch(() => {});
  }
}
const startLoop = () => {
  loop().catch((e) => (fatal(e) ? crash(e) : post({ type: "error", message: String(e?.message ?? e) })));
  return true;
};

/** Which net the page means: `{fused, ema}` as the API takes it, or `model` ("trained", "ema",
 * "fused") as the session names it. */
const evaluated = ({ model, fused, ema }) => /** @type {Evaluated} */ (model ?? (fused ? "fused" : ema ? "ema" : "trained"));

function dataLoaded(summary) {
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
  // The options tables, the limits and defaults beside them (`table.limits`), the studies.
  defaults: () => ({ table: Session.optionsTable(), studies: Session.studies() }),
  async train({ options, evalEvery, evalLimit }) {
    await exclusive(() => session.train(options, evalEvery ?? undefined, evalLimit ?? undefined));
    return startLoop();
  },
  // `saved`: the report of a study to continue (its finished runs are kept).
  async studyRun({ options, saved }) {
    const report = await exclusive(() => session.studyRun(options, saved ?? undefined));
    startLoop();
    return report;
  },
  studyPause: () => exclusive(() => (session.studyPause(), true)),
  async studyResume() {
    await exclusive(() => session.studyResume());
    return startLoop();
  },
  studyDiscard: () => exclusive(() => (session.studyDiscard(), true)),
  studyCsv: ({ report }) => Session.studyCsv(report),
  // New options for the trainer there is (false: there is none yet).
  setOptions({ options }) {
    return exclusive(() => session.status().training !== null && (session.setOptions(options), true));
  },
  // The preview of lambda's schedule (null for options that do not pass the check).
  schedule: ({ options }) => exclusive(() => session.schedule(options, SCHEDULE_POINTS)),
  // Deep training ends with the current epoch; once lambda is 1 the Session pauses and, unless
  // `fuse` is false, fuses `weights` (a `fused` event).
  async finishAnnealing({ fuse = true, weights }) {
    await exclusive(() => session.finishAnnealing(fuse, weights ?? undefined));
    return startLoop();
  },
  evaluation: (data) => exclusive(() => session.evaluation(evaluated(data))),
  // `limit`: test images the two forms are compared on (absent: `table.limits.fuseLimit`).
  fuse({ limit, weights }) {
    return exclusive(async () => {
      const report = await session.fuse(limit ?? undefined, weights ?? undefined);
      await session.warmUp();
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
      await session.warmUp();
      return info;
    });
  },
  /** What this worker's engine is: `{webgpu, threads, crossOriginIsolated}`. */
  build: () => ({ ...engine.build(), crossOriginIsolated: Boolean(self.crossOriginIsolated) }),
  gpuCounts,
  loseDevice: loseDevices,
  // `{bytes, status}`, or null without a trainer.
  snapshot: () => exclusive(() => session.snapshot()),
  // `{info, status}`; the trainer comes back paused (or finished).
  restore: ({ bytes, trainAccuracy }) => exclusive(() => session.restore(bytes, trainAccuracy ?? undefined)),
  // Inside the net (www/inside.js): the decay series (null without a trainer), the feature maps
  // of one image, the fusion of one part; each one call into Rust and one read back.
  insideDecay: () => exclusive(() => session.insideDecay()),
  setProbeEvery: ({ every }) => exclusive(() => (session.setProbeEvery(every), true)),
  async featureMaps({ index, file, block, fused, tiles }) {
    const bytes = file ? new Uint8Array(await file.arrayBuffer()) : undefined;
    return exclusive(() => session.featureMaps(index ?? undefined, bytes, block, Boolean(fused), tiles ?? undefined));
  },
  fusion: ({ part }) => exclusive(() => session.fusion(part)),
  // The answer comes once the step in flight is done.
  pause: () => exclusive(() => (session.pause(), true)),
  async resume() {
    await exclusive(() => session.resume());
    return startLoop();
  },
  // One step while paused (a trainer with `options` is made first if there is none).
  step: ({ options }) => exclusive(() => session.step(options)),
  reset: () => exclusive(() => (session.reset(), true)),
  // The channel whose activation is drawn (an `activation` event now and as it trains).
  watch: ({ layer, channel }) => exclusive(async () => (await session.watch(layer, channel), true)),
};

// The calls that only pass their arguments on to the Session, one at a time.
/** @type {Record<string, (data: any) => unknown>} */
const PASS_THROUGH = {
  status: () => session.status(),
  checkOptions: ({ options }) => session.checkOptions(options),
  evaluationCell: (data) => session.evaluationCell(evaluated(data), data.label, data.predicted, data.limit),
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
  benchTraining: ({ preset, batch, steps }) => session.benchTraining(preset, batch, steps),
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
