//! The `window.vanillanet` calls the soak makes: per call, its arguments drawn from valid
//! ranges and edges, the argument names a refusal must say, how long an answer may take, and
//! what it discards of the user's work (a reset discards the training; nothing else may).
import { fileToken, garbage } from "./values.mjs";

// A refusal that says there is no model yet is clear whatever the argument (its range needs the model).
const NO_MODEL = /no model|모델이 없/;
const PRESETS_28 = ["nano_28", "nano_28", "nano_28", "nano5_28"];
/** Small training options (nano_28 on the CPU: a step is milliseconds), now and then an edge. */
export function trainOptions(rng) {
  const o = { preset: rng.pick(PRESETS_28), batchSize: rng.pick([4, 8, 16, 32]), epochs: rng.pick([1, 1, 2]), decayEpochs: rng.pick([0, 1, 1]), evalEvery: rng.pick([5, 20, 50]), evalLimit: rng.pick([32, 100]) };
  if (rng.chance(0.3)) o.deepTraining = rng.chance(0.5);
  if (rng.chance(0.3)) o.learningRate = rng.pick([1e-6, 1e-3, 0.01, 0.1, 1]);
  if (rng.chance(0.3)) o.seed = rng.pick([0, 1, 7, 2 ** 32 - 1]);
  if (rng.chance(0.2)) o.actNum = rng.pick([0, 1, 3, 9]);
  if (rng.chance(0.2)) o.schedule = rng.pick(["cosine", "linear"]);
  if (rng.chance(0.2)) o.perStep = rng.chance(0.5);
  if (rng.chance(0.2)) o.optimizer = rng.pick(["adamw", "sgd"]);
  if (rng.chance(0.2)) o.shortcut = rng.pick(["none", "before-act", "after-act"]);
  return o;
}

const studyOptions = (rng) => ({
  study: rng.pick(["act-num", "deep-training", "shortcut"]), seeds: 1, trainImages: rng.pick([32, 64]), testImages: 16,
  train: { preset: "nano_28", epochs: 1, batchSize: 16, decayEpochs: 1 },
});
const file = (rng) => fileToken(rng);
const index = (rng) => rng.pick([0, 1, rng.int(0, 9999), 9999, 10_000, 59_999]);

// Each row: `path`; `args(rng)`, valid or edge arguments; `names`, per position the name a
// refusal of garbage there must say (null: not varied); `strings`, positions whose strings go
// on to Rust and may be refused in its words; `bound`, ms an answer may take; `detached`, the
// answer may take long and is not waited for (it must still come within `bound`); `discards`,
// what of the user's work it may discard.
export const CALLS = [
  { path: "train", weight: 6, args: (r) => [trainOptions(r)], names: ["options"], bound: 60_000, discards: ["training"] },
  { path: "step", weight: 6, args: (r) => (r.chance(0.5) ? [] : [trainOptions(r)]), names: ["options"], bound: 60_000, discards: ["training"] },
  { path: "pause", weight: 4, args: () => [], bound: 30_000 },
  { path: "resume", weight: 2, args: () => [], bound: 30_000 },
  { path: "reset", weight: 1, args: () => [], bound: 30_000, discards: ["training"] },
  { path: "finishAnnealing", weight: 1, args: () => [], bound: 30_000 },
  { path: "fuse", weight: 3, args: (r) => (r.chance(0.5) ? [] : [{ weights: r.pick(["ema", "trained"]) }]), names: ["options"], bound: 60_000 },
  { path: "evaluation", weight: 1, args: (r) => (r.chance(0.5) ? [] : [{ fused: r.chance(0.5) }]), names: ["options"], bound: 120_000 },
  { path: "evaluationCell", weight: 1, args: (r) => [r.int(0, 9), r.int(0, 9), { limit: r.pick([1, 8, 48]) }], names: ["label", "predicted", "options"], bound: 60_000 },
  { path: "testImage", weight: 2, args: (r) => [index(r)], names: ["index"], bound: 30_000 },
  { path: "setBackend", weight: 0.5, args: (r) => [r.weighted([[3, "cpu"], [1, "webgpu"], [1, "auto"]])], names: ["backend"], bound: 180_000, discards: [] },
  { path: "loadDataset", weight: 1, args: (r) => [r.pick(["mnist", "fashion-mnist"])], names: ["name"], bound: 60_000, discards: ["training"] },
  { path: "own.addClass", weight: 1, args: (r) => [r.pick(["cats", "dogs", "a class", "Ünïcödé 类", " ", "x".repeat(200)])], names: ["name"], bound: 10_000 },
  { path: "own.addFiles", weight: 3, args: (r) => [r.int(0, 2), Array.from({ length: r.int(0, 5) }, () => file(r))], names: ["classIndex", "files"], state: /no class \d|\d번 클래스가 없습니다/, bound: 60_000 },
  { path: "own.classes", weight: 1, args: () => [], bound: 5_000 },
  { path: "own.dataset", weight: 1, args: () => [], bound: 60_000, discards: ["training"] },
  { path: "classify", weight: 3, args: (r) => [file(r)], names: ["image"], bound: 60_000 },
  { path: "loadCheckpoint", weight: 1, args: (r) => [fileToken(r, { kind: r.pick(["pth", "random", "empty", "png"]) })], names: ["file"], bound: 60_000 },
  { path: "useCheckpoint", weight: 0.5, args: (r) => [r.chance(0.5) ? { variant: "vanillanet_5" } : { strides: [2, 2, 2] }], names: ["choice"], bound: 60_000 },
  { path: "exportModel", weight: 1, args: () => [], bound: 60_000 },
  { path: "exportTraining", weight: 1, args: (r) => (r.chance(0.5) ? [] : [{ weights: r.pick(["ema", "trained"]) }]), names: ["options"], bound: 60_000 },
  { path: "exportOnnx", weight: 1, args: () => [], bound: 60_000 },
  { path: "logits", weight: 1, args: (r) => { const b = r.int(1, 3); return [{ $: "f32", n: b * r.pick([784, 784, 3072, 5]) }, b]; }, names: ["values", "batch"], bound: 60_000 },
  { path: "bench.latency", weight: 0.5, args: (r) => ["nano_28", r.pick([8, 28, 64]), r.int(1, 2), r.chance(0.5), r.int(1, 3), r.int(0, 1)], names: ["model", "size", "batch", "fused", "runs", "warmup"], strings: [0], bound: 120_000 },
  { path: "bench.breakdown", weight: 0.5, args: (r) => ["nano_28", r.pick([8, 28]), 1, r.int(1, 2), 0], names: ["model", "size", "batch", "runs", "warmup"], strings: [0], bound: 120_000 },
  { path: "bench.training", weight: 0.5, args: (r) => [r.pick(["nano_28", "small_32"]), r.int(1, 4), r.int(1, 2)], names: ["preset", "batch", "steps"], strings: [0], bound: 120_000 },
  { path: "shareLink", weight: 1, args: () => [], bound: 5_000 },
  { path: "classifier", weight: 1, args: () => [], bound: 5_000 },
  { path: "study.run", weight: 1, args: (r) => [studyOptions(r)], names: ["options"], bound: 300_000, detached: true, discards: ["study"] },
  { path: "study.pause", weight: 1, args: () => [], bound: 30_000 },
  { path: "study.resume", weight: 1, args: () => [], bound: 300_000, detached: true },
  { path: "study.discard", weight: 0.5, args: () => [], bound: 30_000, discards: ["study"] },
  { path: "study.report", weight: 0.5, args: () => [], bound: 5_000 },
  { path: "study.status", weight: 0.5, args: () => [], bound: 5_000 },
  { path: "study.csv", weight: 0.5, args: () => [], bound: 10_000 },
  { path: "study.json", weight: 0.5, args: () => [], bound: 10_000 },
  { path: "whenSaved", weight: 1, args: () => [], bound: 30_000 },
  { path: "history", weight: 0.5, args: () => [], bound: 5_000 },
  { path: "charts", weight: 0.5, args: () => [], bound: 5_000 },
  { path: "inside.decay", weight: 0.5, args: () => [], bound: 5_000 },
  { path: "inside.chart", weight: 0.5, args: () => [], bound: 5_000 },
  { path: "inside.featureMaps", weight: 1, args: (r) => [index(r), r.int(0, 4), r.chance(0.7) ? {} : { fused: r.chance(0.5), tiles: r.pick([1, 16, 64]) }], names: ["imageOrTestIndex", "block", "options"], state: /no model|모델이 없|no test image \d/, bound: 60_000 },
  { path: "inside.fusion", weight: 1, args: (r) => [r.int(0, 5)], names: ["block"], state: NO_MODEL, bound: 60_000 },
  { path: "inside.setProbeEvery", weight: 0.5, args: (r) => [r.pick([0, 1, 10, 100])], names: ["steps"], bound: 10_000 },
  { path: "camera.devices", weight: 0.2, args: () => [], bound: 10_000 },
  { path: "camera.status", weight: 0.2, args: () => [], bound: 5_000 },
  { path: "camera.stop", weight: 0.2, args: () => [], bound: 10_000 },
];

/** Arguments for `row`: valid ones, and with `pGarbage` one position (or one key of an
 * options object) replaced by garbage; `expect` is the name a refusal must say. */
export function drawCall(rng, row, pGarbage = 0.3) {
  const args = row.args(rng);
  let garbageAt = null;
  let expect = null;
  const positions = (row.names ?? []).map((n, i) => (n === null ? -1 : i)).filter((i) => i >= 0);
  if (positions.length && rng.chance(pGarbage)) {
    const pos = rng.pick(positions);
    while (args.length < pos) args.push({ $: "undefined" });
    const value = args[pos];
    if (value && typeof value === "object" && !Array.isArray(value) && !value.$ && Object.keys(value).length && rng.chance(0.5)) {
      const key = rng.pick(Object.keys(value));
      args[pos] = { ...value, [key]: garbage(rng) };
      expect = key;
    } else {
      args[pos] = garbage(rng);
      expect = row.names[pos];
    }
    garbageAt = pos;
    // No options at all is as good as none given.
    if (["options", "choice"].includes(expect) && (JSON.stringify(args[pos]) === "{}" || args[pos]?.$ === "undefined")) expect = null;
  }
  return { path: row.path, args, garbageAt, expect, strings: (row.strings ?? []).includes(garbageAt) };
}
