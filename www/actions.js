// What the page can do: `window.vanillanet`, the scripting API that the buttons use too. Each
// operation runs in the worker under the same name (see worker.js) and lands in the app state.
// The operations live by concern under actions/ (training, own images, the classifier and
// evaluation, the study, the session, links); this file puts them together.
import * as check from "./checks.js";
import { call, limits } from "./client.js";
import { get } from "./state.js";
import * as persist from "./persist.js";
import { classify, evaluateEachFusion, evaluation, evaluationCell, exportModel, exportOnnx, exportTraining, fuse, loadCheckpoint, logits, testImage, useCheckpoint } from "./actions/classifier.js";
import { shareLink } from "./actions/link.js";
import { addClass, addFiles, ownClasses, ownDataset } from "./actions/own.js";
import { loadDataset, recoverOnFailure, setBackend } from "./actions/session.js";
import { study } from "./actions/study.js";
import { followSchedule, step, train } from "./actions/training.js";

export { loadCheckpoints } from "./actions/classifier.js";
export { applyLink, readLink } from "./actions/link.js";
export { deleteClass, ownClassIndex, renameClass } from "./actions/own.js";
export { CrashedInRestore, restoreSession, startFresh, takeOver, whenRecovered } from "./actions/session.js";
export { applyFormOptions, formProblem, refreshSchedule, setForm, watchActivation } from "./actions/training.js";

/** What the page does as the state changes, whoever changed it: the schedule follows the data
 * and options, a failed engine is recovered, a new fused form is evaluated. Started once. */
export function react() {
  followSchedule();
  recoverOnFailure();
  evaluateEachFusion();
}

/** Bounds of the benchmarks' arguments (an input side, a batch, runs): Rust's `Limits`, which
 * `vanillanet bench` has too (the bench page, a page of its own, keeps copies). */
const benchLimits = async () => {
  const { maxBenchSize: size, maxBenchBatch: batch, maxBenchRuns: runs } = await limits();
  return { size, batch, runs };
};

export const api = {
  status() {
    const s = get();
    return {
      backend: s.backend, adapter: s.adapter, threads: s.build?.threads ?? null, crossOriginIsolated: s.build?.crossOriginIsolated ?? null, state: s.trainState, step: s.step, epoch: s.epoch,
      lambda: s.lambda, learningRate: s.learningRate, loss: s.loss, trainAccuracy: s.recentTrainAccuracy, testAccuracy: s.testAccuracy, emaAccuracy: s.emaAccuracy,
      validationAccuracy: s.validation?.accuracy ?? null, validationEmaAccuracy: s.validation?.emaAccuracy ?? null, cannotFuse: s.cannotFuse,
      engine: s.engine,
    };
  },
  train,
  pause: () => call("pause"),
  resume: () => call("resume"),
  step,
  reset: () => call("reset"),
  setBackend,
  loadDataset,
  /** Deep training ends with this epoch; once annealed the session pauses and fuses the
   * weights the page chose (a `fused` event). */
  finishAnnealing: () => call("finishAnnealing", { weights: get().fuseWeights ?? undefined }),
  fuse,
  /** `{model: "trained" | "ema" | "fused", step, accuracy, classes, perClass: [{name, accuracy, count}],
   * confusion: [[count]] (confusion[true][predicted]), mistakes: [{index, label, predicted,
   * confidence}]}` on the whole test set. */
  evaluation,
  evaluationCell,
  testImage,
  /** Top-k `{label, probability}` of an image by the classifier, with timings (and the trained
   * net's answer while the classifier is its fused form). */
  classify,
  /** Reads a checkpoint (official .pth, safetensors, or a model file of ours) and, unless the
   * tensors leave the architecture open, makes it the classifier. `choice` settles that:
   * `{variant}` or `{strides: [...]}`. */
  loadCheckpoint,
  useCheckpoint,
  /** The classifier as `{safetensors, json}` Blobs: official deploy key names, and the model
   * card (architecture, classes, preprocessing, form), which the safetensors header carries too. */
  exportModel,
  /** The trained net in the authors' training form (official names, BN step counters, the card):
   * it loads with `strict=True` into their PyTorch code. */
  exportTraining,
  /** The classifier as an ONNX model (opset 13; input `input` [batch, C, H, W] preprocessed as
   * its card says, output `logits`), as a Blob. */
  exportOnnx,
  /** The classifier's logits for preprocessed inputs (a Float32Array of batch x C x H x W). */
  logits,
  /** Benchmarks on the current backend (random weights): see docs/benchmarks.md. */
  bench: {
    latency: async (model, size, batch, fused, runs = 30, warmup = 3) => {
      const most = await benchLimits();
      return call("benchLatency", {
        model: check.string("model", model, 64), size: check.integer("size", size, 1, most.size), batch: check.integer("batch", batch, 1, most.batch),
        fused: check.boolean("fused", fused), runs: check.integer("runs", runs, 1, most.runs), warmup: check.integer("warmup", warmup, 0, most.runs),
      });
    },
    /** Where a fused inference's time goes: the round trip, the hand-over, each part's share. */
    breakdown: async (model, size, batch = 1, runs = 10, warmup = 2) => {
      const most = await benchLimits();
      return call("benchBreakdown", {
        model: check.string("model", model, 64), size: check.integer("size", size, 1, most.size), batch: check.integer("batch", batch, 1, most.batch),
        runs: check.integer("runs", runs, 1, most.runs), warmup: check.integer("warmup", warmup, 0, most.runs),
      });
    },
    /** Training images per second of a preset, on random images of its own size and channels. */
    training: async (preset, batch = 64, steps = 20) => {
      const most = await benchLimits();
      return call("benchTraining", {
        preset: check.string("preset", preset, 64), batch: check.integer("batch", batch, 1, most.batch), steps: check.integer("steps", steps, 1, most.runs),
      });
    },
  },
  classifier: () => get().classifier,
  /** A link that opens the page with the current options, seed, dataset and backend. */
  shareLink,
  /** The paper's ablations: run one on the loaded data (options as the Experiments form's,
   * overridden by `options`), pause, continue, discard; the report, and CSV/JSON of it. */
  study,
  /** Settles once what has changed is saved to IndexedDB. */
  whenSaved: persist.whenSaved,
  debug: {
    /** Destroys the worker's GPU device, as a driver reset would: to see recovery work. */
    loseDevice: () => call("loseDevice"),
    /** Panics in Rust inside an awaited call: the call is rejected and the page recovers. */
    panic: () => call("debugPanic"),
  },
  history: () => {
    const h = get().history;
    return { steps: [...h.steps], loss: [...h.loss], lambda: [...h.lambda], trainAccuracy: [...h.recentTrainAccuracy], testAccuracy: [...get().evals] };
  },
  own: {
    addClass,
    addFiles,
    /** Makes the classes with images the training data. */
    dataset: ownDataset,
    classes: ownClasses,
  },
};
