// The one app state. It is never changed in place: `update` makes a new frozen object from the
// old one and a patch, and every subscribed view redraws from it, telling what changed by
// comparing references with what it drew last. A view that throws is caught and said once
// (until it draws again); the other views still draw, and saving goes on.
import { t } from "./i18n.js";

const listeners = [];
/** Views that threw and what they threw, for tests and the message. */
export const failedViews = new Map();
/** @typedef {ReturnType<typeof initial>} State */
/** @type {Readonly<State>} */
let current = Object.freeze(/** @type {State} */ ({}));

export const get = () => current;

/** The camera when it is off (camera.js): its stream, devices, live classification, recording. */
export const CAMERA_IDLE = Object.freeze({
  running: false, stream: null, deviceId: null, devices: [], live: false, recording: null, fps: null, ms: null, top: [], error: null,
});

/** Shapes the state is put back to: no evaluations, no charts, no trained model. */
export const NO_EVALUATIONS = Object.freeze({ trained: null, ema: null, fused: null });
export const EMPTY_HISTORY = Object.freeze({ steps: [], loss: [], recentTrainAccuracy: [], lambda: [] });
export const TRAINING_CLEARED = Object.freeze({
  fuseReport: null, model: null, options: null, step: 0, epoch: 0, lambda: null, learningRate: null, nextLambda: null, cannotFuse: null,
  loss: null, recentTrainAccuracy: null, testAccuracy: null, emaAccuracy: null, validation: null, imagesPerSec: null, etaSeconds: null, activation: null,
  history: EMPTY_HISTORY, evals: [], evaluations: NO_EVALUATIONS, evalCell: null,
});
/** The decay probes' series before the first (inside.js). */
export const EMPTY_DECAY = Object.freeze({ steps: [], lambda: [], blocks: [], every: 0 });

// What Rust answers, typed by the declarations generated from its types (pkg/vanillanet.d.ts):
// tsc says where the page reads a field Rust does not have.
/** @typedef {import("../pkg/vanillanet.js").ClassifierInfo} ClassifierInfo */
/** @typedef {import("../pkg/vanillanet.js").DataSummary} DataSummary */
/** @typedef {import("../pkg/vanillanet.js").ModelInfo} ModelInfo */
/** @typedef {import("../pkg/vanillanet.js").TrainOptions} TrainOptions */
/** @typedef {import("../pkg/vanillanet.js").FuseReport} FuseReport */
/** @typedef {{options: TrainOptions, limits: import("../pkg/vanillanet.js").Limits}} Defaults */

/** The state's shape, and where the page starts: every key the views and actions read. */
function initial() {
  return {
    // The engine: backend and WebGPU adapter, why "auto" fell back, the build serving it
    // (`{webgpu, threads, crossOriginIsolated}`), and whether it is up, recovering or stopped.
    backend: null, adapter: null, fallbackReason: null, webgpuAvailable: "gpu" in (globalThis.navigator ?? {}), build: null, engine: "up",
    // The engine failed (`{what, backend}`: a crash, a lost device, a failed worker): the
    // recovery (actions/session.js) starts from it.
    engineFailure: null,
    // The data: the summary Rust gives (`dataset`: name, classes, sizes, presets), its name,
    // thumbnails; the options tables' defaults (`defaults.options`), the engine's limits and
    // defaults beside them (`defaults.limits`: Rust's `Limits`) and the studies there are.
    dataset: /** @type {DataSummary} */ (null), datasetName: null, samples: null, defaults: /** @type {Defaults} */ (null), studies: [],
    // Training: the model's sizes, the options it trains with, the loop's state
    // (idle | running | paused | finished) and where it stands.
    model: /** @type {ModelInfo} */ (null), options: /** @type {TrainOptions} */ (null), trainState: "idle",
    // Options the worker set (a restored model, new options): the training form shows them.
    formFill: null,
    // Lambda and the learning rate of the last step.
    step: 0, epoch: 0, stepsPerEpoch: 0, totalSteps: 0, lambda: null, learningRate: null, nextLambda: null, cannotFuse: null,
    // The training batches' accuracy as a moving average over the last steps (not an epoch's
    // mean, as the CLI's "train accuracy" is); test accuracy of the trained net and of the
    // moving average of its weights (null without); `validation`: the last epoch end's accuracy on
    // the validation images, `{step, accuracy, emaAccuracy}` (null before one, or without them).
    loss: null, recentTrainAccuracy: null, testAccuracy: null, emaAccuracy: null, validation: null, imagesPerSec: null, etaSeconds: null,
    // The charts' series (bounded, thinned; `evals`: [step, accuracy, emaAccuracy?]),
    // evaluations of the trained net, the average and the fused form, the open matrix cell.
    history: EMPTY_HISTORY, evals: [],
    evaluations: NO_EVALUATIONS, evalModel: null, evalCell: null, evalBusy: false, evalNorm: "counts",
    // Which weights Fuse and the exports take: "ema", "trained", or null (the average when on).
    fuseWeights: null,
    schedule: null, activation: null, messages: [], fuseReport: /** @type {FuseReport} */ (null), predictions: [],
    // The classifier (its card and sizes), a checkpoint being read, the last checkpoints' log.
    classifier: /** @type {ClassifierInfo} */ (null), checkpoint: null, checkpointLog: [],
    // Own images: the size they are made at and the classes with their items.
    own: { size: "32x3", classes: [{ name: t("own.className", { n: "A" }), items: [] }, { name: t("own.className", { n: "B" }), items: [] }] },
    // The study, this tab's ownership of the saved session, the camera, records set aside,
    // repeated crashes, an update waiting.
    // The decay probes' series (inside.js), none until the first.
    insideDecay: null,
    study: null, owner: true, ownerLost: false, camera: CAMERA_IDLE,
    aside: [], crashLoop: null, updateReady: false,
  };
}

export function init() {
  current = Object.freeze(initial());
}

export function update(patch) {
  current = Object.freeze({ ...current, ...patch });
  for (const l of listeners) {
    try {
      l.view(current);
      if (l.failed !== null) failedViews.delete(l.name);
      l.failed = null;
    } catch (e) {
      const text = String(e?.message ?? e);
      if (l.failed === text) continue;
      l.failed = text;
      failedViews.set(l.name, text);
      console.warn(`view ${l.name} failed:`, e);
      // Said after this round of drawing (the message is a state change of its own).
      queueMicrotask(() => message(t("view.failed", { name: t(`view.${l.name}`) }), "error", text));
    }
  }
}

let mounting = "page";
/** Names the views subscribed from now on (app.js, as it mounts each). */
export const mountingView = (name) => { mounting = name; };

/** `view(state)` runs on every change; `name` says which part of the page it draws.
 * @param {(state: Readonly<State>) => void} view @param {string} [name] */
export function subscribe(view, name = mounting) {
  listeners.push({ view, name, failed: null });
}

/** Appends to a message list kept to its last five, as a new array. `detail`: technical text
 * from elsewhere (an engine's error), shown after it as it is. */
export function message(text, kind = "error", detail = null) {
  update({ messages: withMessage(current.messages, text, kind, detail) });
}

/** `messages` with one more, kept to the last five (a new array). */
export const withMessage = (messages, text, kind = "error", detail = null, at = Date.now()) => [...messages.slice(-4), { text, kind, detail, at }];

/** A remembered value per view: `changed(key, value)` is true when value is not what it saw. */
export function tracker() {
  const seen = new Map();
  return (key, value) => {
    if (seen.has(key) && seen.get(key) === value) return false;
    seen.set(key, value);
    return true;
  };
}
