// The classifier: a checkpoint read and made the classifier, the trained net fused into it, what
// it says of an image, its exports; and the evaluation of either form on the test set.
import * as check from "../checks.js";
import { call, limits } from "../client.js";
import { fileStem, pixelsBlob, thumbnail } from "../dom.js";
import { t } from "../i18n.js";
import { WEIGHTS } from "../names.js";
import * as persist from "../persist.js";
import { get, message, subscribe, tracker, update } from "../state.js";
import { checkImageSize } from "./own.js";

/** Checkpoints dropped or picked: each loads in turn; failures are listed (the checkpoint log),
 * not thrown. */
export async function loadCheckpoints(files) {
  for (const f of files) await loadCheckpoint(f).catch(() => {});
}

/** A new fused form (the Fuse button's, the API's, the session's own once annealed) is evaluated
 * on the whole test set, for the evaluation view (in the background). */
export function evaluateEachFusion() {
  const changed = tracker();
  subscribe((s) => {
    if (changed("fuseReport", s.fuseReport) && s.fuseReport) {
      queueMicrotask(() => evaluation({ fused: true }).catch((e) => message(t("eval.fusedFailed", { reason: e.message }))));
    }
  });
}

/** A checkpoint's architecture choice: `{variant}` (a name) or `{strides}` (whole numbers). */
export function checkChoice(choice) {
  const c = check.object("choice", choice, ["variant", "strides"]);
  check.optional(check.string)("choice.variant", c.variant);
  if (c.strides !== undefined) {
    // As many strides as a net has blocks at most (the engine's bound), each a stride it takes.
    const most = get().defaults?.limits.maxBlocks ?? check.MAX_INDEX;
    if (!Array.isArray(c.strides) || c.strides.length > most) throw new check.ArgumentError("choice.strides", t("arg.strides", { n: most }), c.strides);
    c.strides.forEach((v, i) => check.integer(`choice.strides[${i}]`, v, 1, 64));
  }
  return c;
}

export async function loadCheckpoint(file, choice) {
  check.blob("file", file);
  if (choice !== undefined) checkChoice(choice);
  file = file instanceof File ? file : new File([file], t("checkpoint.savedName"));
  update({ checkpoint: { name: file.name, loaded: 0, total: file.size, phase: "reading" } });
  try {
    const read = await call("loadCheckpoint", { file });
    update({ checkpoint: { ...get().checkpoint, phase: "read", read } });
    if (read.ambiguous && !choice) {
      update({ checkpoint: { ...get().checkpoint, phase: "choose" } });
      return { needsChoice: true, detected: read.detected };
    }
    return await useCheckpoint(choice);
  } catch (e) {
    update({ checkpoint: null, checkpointLog: [{ name: file.name, error: e.message }, ...get().checkpointLog].slice(0, 8) });
    throw new Error(`${file.name}: ${e.message}`);
  }
}

export async function useCheckpoint(choice = {}) {
  checkChoice(choice);
  const name = get().checkpoint?.name ?? "checkpoint";
  update({ checkpoint: { ...get().checkpoint, phase: "fusing" } });
  try {
    const info = await call("useCheckpoint", choice);
    update({ classifier: info, fuseReport: null, checkpoint: null, checkpointLog: [{ name, ok: t("checkpoint.using", { name: info.card.name }) }, ...get().checkpointLog].slice(0, 8) });
    await persist.saveClassifier();
    return info;
  } catch (e) {
    update({ checkpoint: get().checkpoint?.phase === "fusing" ? { ...get().checkpoint, phase: "choose" } : null });
    throw e;
  }
}

/** Which weights to fuse or export: `options.weights` ("ema" or "trained"), else the page's
 * choice, else the engine's default (the weight average when there is one). */
function weightsOf(options) {
  const { weights } = check.object("options", options, ["weights"]);
  if (weights !== undefined) return check.oneOf("options.weights", weights, WEIGHTS);
  return get().fuseWeights ?? undefined;
}

/** Fuses the trained net or the average of its weights (`{weights: "ema" | "trained"}`). */
export async function fuse(options) {
  const fuseReport = await call("fuse", { limit: (await limits()).fuseLimit, weights: weightsOf(options) });
  update({ fuseReport, classifier: await call("classifier") });
  await persist.saveClassifier();
  return fuseReport;
}

/** The trained net, the average of its weights (`ema`) or the fused form (`fused`) on the
 * whole test set (kept until the weights change). */
export async function evaluation(options) {
  const { fused = false, ema = false } = check.object("options", options, ["fused", "ema"]);
  check.boolean("options.fused", fused);
  check.boolean("options.ema", ema);
  const result = await call("evaluation", { fused, ema });
  update({ evaluations: { ...get().evaluations, [result.model]: result } });
  return result;
}

/** The test images in one cell of the confusion matrix (true class `label`, answered
 * `predicted`), most confident first: `[{index, label, predicted, confidence}]`. */
export async function evaluationCell(label, predicted, options) {
  check.integer("label", label);
  check.integer("predicted", predicted);
  const { fused = false, ema = false, limit = 48 } = check.object("options", options, ["fused", "ema", "limit"]);
  check.boolean("options.fused", fused);
  check.boolean("options.ema", ema);
  check.integer("options.limit", limit, 1, 100_000);
  return call("evaluationCell", { fused, ema, label, predicted, limit });
}

/** Test image `index` as the net sees it, as a PNG Blob. */
export async function testImage(index) {
  check.integer("index", index);
  const d = get().dataset;
  if (!d) throw new Error(t("eval.noData"));
  return pixelsBlob(await call("testImage", { index }), d.channels, d.height, d.width);
}

export async function classify(blob) {
  check.blob("image", blob);
  const item = { name: blob.name || t("classify.pasted") };
  try {
    const classifier = get().classifier;
    if (!classifier) throw new Error(t("classifier.missing"));
    checkImageSize(blob);
    item.result = await call("classify", { file: blob, k: 5 });
    item.model = classifier.card.name;
    item.thumbBlob = await thumbnail(blob);
    item.thumb = URL.createObjectURL(item.thumbBlob);
  } catch (e) {
    item.error = e.message;
  }
  const predictions = [item, ...get().predictions].slice(0, 12);
  update({ predictions });
  persist.savePredictions(predictions);
  if (item.error) throw new Error(`${item.name}: ${item.error}`);
  return item.result;
}

export function requireClassifier() {
  if (!get().classifier) throw new Error(t("classifier.nothingToExport"));
  return get().classifier;
}

/** The classifier as `{safetensors, json}` Blobs: official deploy key names, and the model
 * card (architecture, classes, preprocessing, form), which the safetensors header carries too. */
export async function exportModel() {
  const { card } = requireClassifier();
  const bytes = await call("exportModel");
  return {
    safetensors: new Blob([bytes], { type: "application/octet-stream" }),
    json: new Blob([JSON.stringify(card, null, 2)], { type: "application/json" }),
    name: fileStem(card.name),
  };
}
/** The trained net or the average of its weights (`{weights}`, as for `fuse`) in the authors'
 * training form (official names, BN step counters, the card, which says which weights): it
 * loads with `strict=True` into their PyTorch code. */
export async function exportTraining(options) {
  const weights = weightsOf(options);
  if (!get().model) throw new Error(t("train.nothingToExport"));
  return new Blob([await call("exportTraining", { weights })], { type: "application/octet-stream" });
}
/** The classifier as an ONNX model (opset 13; input `input` [batch, C, H, W] preprocessed as
 * its card says, output `logits`), as a Blob. */
export async function exportOnnx() {
  requireClassifier();
  return new Blob([await call("exportOnnx")], { type: "application/octet-stream" });
}
/** The classifier's logits for preprocessed inputs (a Float32Array of batch x C x H x W). */
export async function logits(values, batch = 1) {
  if (!(values instanceof Float32Array)) throw new check.ArgumentError("values", "Float32Array", values);
  return call("logits", { values, batch: check.integer("batch", batch, 1, 65_536) });
}
