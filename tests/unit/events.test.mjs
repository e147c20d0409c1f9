// The event reducer (www/events.js): what each of the worker's events makes of the app state,
// and the saves it asks for. A pure function: the state given is frozen, as the page's is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { reduce, withDecayPoint, withSteps, withStudyStep } from "../../www/events.js";
import { EMPTY_DECAY, EMPTY_HISTORY, get, init, NO_EVALUATIONS, TRAINING_CLEARED } from "../../www/state.js";

init();
const START = get();
const deepFreeze = (o) => {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
};
/** The starting state with `patch` over it, frozen through. */
const state = (patch = {}) => deepFreeze({ ...START, ...patch });
const at = 1000;

const step = (globalStep, extra = {}) => ({
  type: "step", ms: 20, imagesPerSec: 1600, trainAccuracy: 0.5 + globalStep / 100,
  report: { globalStep, epoch: 0, stepsPerEpoch: 100, loss: 2 / globalStep, lambda: globalStep / 100, learningRate: 0.01, epochEnd: false, batchSize: 32 },
  next: { totalSteps: 200, lambda: (globalStep + 1) / 100, cannotFuse: "lambda below 1", finished: false },
  ...extra,
});

test("data: its summary in, every evaluation gone", () => {
  const s = state({ evaluations: { trained: { model: "trained" }, ema: null, fused: null }, evalCell: { of: 1 } });
  const { patch, saves } = reduce(s, { type: "dataset", summary: { name: "mnist" }, samples: [1] });
  assert.deepEqual(patch, { dataset: { name: "mnist" }, samples: [1], evaluations: NO_EVALUATIONS, evalCell: null });
  assert.deepEqual(saves, []);
});

test("a model: the form shows its options only when restored; new options always", () => {
  const info = { stepsPerEpoch: 10, totalSteps: 20 };
  const fresh = reduce(state(), { type: "model", info, options: { epochs: 2 }, restored: false }).patch;
  assert.equal("formFill" in fresh, false);
  assert.equal(fresh.totalSteps, 20);
  const restored = reduce(state(), { type: "model", info, options: { epochs: 3 }, restored: true }).patch;
  assert.deepEqual(restored.formFill, { epochs: 3 });
  const options = reduce(state(), { type: "options", options: { epochs: 4 }, totalSteps: 40 }).patch;
  assert.deepEqual(options, { options: { epochs: 4 }, totalSteps: 40, formFill: { epochs: 4 } });
});

test("a failed engine becomes engineFailure, on the CPU after a lost device", () => {
  const onGpu = state({ backend: "webgpu" });
  const lost = reduce(onGpu, { type: "deviceLost", reason: "destroyed", message: "gone" }).patch.engineFailure;
  assert.equal(lost.backend, "cpu");
  assert.match(lost.what, /destroyed: gone/);
  const crashed = reduce(onGpu, { type: "crashed", reason: "unreachable" }).patch.engineFailure;
  assert.equal(crashed.backend, "webgpu");
  assert.match(crashed.what, /unreachable/);
  const failed = reduce(state(), { type: "workerFailed", message: "script error" }).patch.engineFailure;
  assert.equal(failed.backend, "cpu", "no backend yet: the CPU");
  assert.match(failed.what, /script error/);
  assert.notEqual(reduce(onGpu, { type: "crashed", reason: "x" }).patch.engineFailure, reduce(onGpu, { type: "crashed", reason: "x" }).patch.engineFailure, "each failure a new value");
});

test("a reset clears the training and forgets what was saved, unless a saved session is coming back", () => {
  const fused = { origin: "trainer", card: {} };
  const s = state({ step: 40, classifier: fused, evaluations: { trained: {}, ema: {}, fused: {} } });
  const { patch, saves } = reduce(s, { type: "reset" });
  assert.deepEqual(saves.sort(), ["forgetClassifier", "forgetTraining"]);
  assert.equal(patch.classifier, null);
  for (const [k, v] of Object.entries(TRAINING_CLEARED)) assert.deepEqual(patch[k], v, k);
  const restoring = reduce(s, { type: "reset" }, { restoring: true });
  assert.deepEqual(restoring.saves, []);
  assert.equal("classifier" in restoring.patch, false, "the classifier being restored stays");
  // A checkpoint's classifier is not the trainer's: it stays.
  const checkpoint = reduce(state({ classifier: { origin: "checkpoint" } }), { type: "reset" });
  assert.deepEqual(checkpoint.saves, ["forgetTraining"]);
  assert.equal("classifier" in checkpoint.patch, false);
});

test("a step drops what was fused from the weights before it, and keeps a checkpoint's classifier", () => {
  const s = state({ fuseReport: { weights: "ema" }, classifier: { origin: "trainer" }, evaluations: { trained: 1, ema: 2, fused: 3 } });
  const { patch, saves } = reduce(s, step(5));
  assert.equal(patch.fuseReport, null);
  assert.equal(patch.classifier, null);
  assert.deepEqual(patch.evaluations, { trained: 1, ema: 2, fused: null });
  assert.deepEqual(saves, ["forgetClassifier"]);
  const kept = reduce(state({ classifier: { origin: "checkpoint" } }), step(5));
  assert.deepEqual(kept, { patch: {}, saves: [] });
});

test("steps drawn together: their points appended, the last one's numbers", () => {
  const s = state({ history: { steps: [1], loss: [2], recentTrainAccuracy: [0.5], lambda: [0.01] } });
  const patch = withSteps(s, [step(2), step(3)]);
  assert.deepEqual(patch.history.steps, [1, 2, 3]);
  assert.deepEqual(patch.history.loss, [2, 1, 2 / 3]);
  assert.deepEqual(patch.history.recentTrainAccuracy, [0.5, 0.52, 0.53]);
  assert.equal(patch.step, 3);
  assert.equal(patch.recentTrainAccuracy, 0.53);
  assert.equal(patch.cannotFuse, "lambda below 1");
  assert.equal(patch.etaSeconds, (197 * 20) / 1000);
  assert.deepEqual(s.history.steps, [1], "the state given is not changed");
});

test("test accuracies: one entry a step, an epoch end's two evaluations joined", () => {
  let s = state();
  const apply = (m) => { s = state({ ...s, ...reduce(s, m).patch }); };
  apply({ type: "eval", step: 50, testAccuracy: 0.6, emaAccuracy: 0.55 });
  apply({ type: "eval", step: 100, testAccuracy: 0.7 });
  apply({ type: "eval", step: 100, emaAccuracy: 0.65 });
  assert.deepEqual(s.evals, [[50, 0.6, 0.55], [100, 0.7, 0.65]]);
  assert.equal(s.testAccuracy, 0.7);
  assert.equal(s.emaAccuracy, 0.65);
  // No test images: nothing to chart.
  assert.equal("evals" in reduce(state(), { type: "eval", step: 10, testAccuracy: null }).patch, false);
});

test("validation accuracy at an epoch's end: the last one held, cleared with the training", () => {
  const { patch } = reduce(state(), { type: "validation", step: 860, accuracy: 0.91, emaAccuracy: 0.92 });
  assert.deepEqual(patch, { validation: { step: 860, accuracy: 0.91, emaAccuracy: 0.92 } });
  assert.equal(reduce(state(), { type: "validation", step: 5, accuracy: 0.5 }).patch.validation.emaAccuracy, null);
  assert.equal(TRAINING_CLEARED.validation, null);
});

test("the session's own fusion once annealed: the report and classifier in, the classifier saved", () => {
  const annealed = reduce(state(), { type: "annealed" });
  assert.equal(annealed.patch.messages.at(-1).kind, "info");
  assert.deepEqual(annealed.saves, []);
  const { patch, saves } = reduce(state(), { type: "fused", report: { weights: "ema" }, classifier: { origin: "trainer" } });
  assert.deepEqual(patch, { fuseReport: { weights: "ema" }, classifier: { origin: "trainer" } });
  assert.deepEqual(saves, ["saveClassifier"]);
});

test("the loop's state: saved when it stops", () => {
  assert.deepEqual(reduce(state(), { type: "state", state: "running" }), { patch: { trainState: "running" }, saves: [] });
  assert.deepEqual(reduce(state(), { type: "state", state: "paused" }).saves, ["saveTraining"]);
  assert.deepEqual(reduce(state(), { type: "state", state: "finished" }).saves, ["saveTraining"]);
});

test("messages: the worker's keyed ones translated, the rest as they are, five kept", () => {
  let s = state();
  for (let i = 0; i < 7; i++) s = state({ ...s, ...reduce(s, { type: "info", message: `m${i}` }, { at }).patch });
  assert.deepEqual(s.messages.map((m) => m.text), ["m2", "m3", "m4", "m5", "m6"]);
  const keyed = reduce(state(), { type: "error", key: "train.stopped", message: "panic" }).patch.messages.at(-1);
  assert.equal(keyed.kind, "error");
  assert.equal(keyed.detail, "panic");
  assert.notEqual(keyed.text, "train.stopped");
  // Markup from the engine is kept as text (the views put it in as text).
  assert.equal(reduce(state(), { type: "error", message: "<img src=x>" }).patch.messages.at(-1).text, "<img src=x>");
});

test("events the page does not know, and study events without a study, change nothing", () => {
  for (const m of [{ type: "nonsense" }, { type: "__proto__" }, { type: "studyStep", progress: {} }, { type: "studyRun", report: {} }, { type: "studyState", state: "paused" }]) {
    assert.deepEqual(reduce(state(), m), { patch: {}, saves: [] }, m.type);
  }
});

test("the decay series: a probe appended, an older one ignored, another net's starts over", () => {
  const p = (stepAt, names = ["stem", "head"]) => ({ step: stepAt, lambda: 0.1, names, negativeShare: names.map(() => 0.5), distance: names.map(() => 0.2) });
  const one = withDecayPoint(EMPTY_DECAY, p(10));
  assert.deepEqual(one.steps, [10]);
  assert.deepEqual(one.blocks.map((b) => b.distance), [[0.2], [0.2]]);
  const two = withDecayPoint(one, p(20));
  assert.deepEqual(two.steps, [10, 20]);
  assert.equal(withDecayPoint(two, p(20)), two, "not after the last: ignored");
  const other = withDecayPoint(two, p(30, ["stem", "stages.0", "head"]));
  assert.deepEqual(other.steps, [30]);
  assert.equal(other.blocks.length, 3);
  // A step carrying a probe puts it in the state.
  assert.deepEqual(reduce(state(), step(10, { report: { ...step(10).report, inside: p(10) } })).patch.insideDecay.steps, [10]);
});

test("a study's curves and pace", () => {
  const st = deepFreeze({ report: { stepsPerRun: 300 }, curves: [], clockAt: null });
  const progress = (run, globalStep, loss) => ({ run, arm: 0, seed: 1, step: { globalStep, stepsPerEpoch: 300, loss } });
  const a = withStudyStep(st, progress(0, 2, 1.0), 100);
  assert.equal(a.msPerStep, null, "no pace before two steps");
  assert.equal(a.clockAt, 100);
  assert.deepEqual(a.curves[0].steps, [2]);
  const b = withStudyStep(a, progress(0, 3, 0.0), 150);
  assert.equal(b.msPerStep, 50);
  assert.equal(b.curves[0].steps.length, 1, "every 2nd step kept at 300 steps a run");
  const c = withStudyStep(b, progress(0, 4, 0.0), 250);
  assert.equal(c.msPerStep, 0.95 * 50 + 0.05 * 100);
  assert.deepEqual(c.curves[0].loss, [1.0, 0.81]);
  // The run started over (another backend): so does its curve.
  const again = withStudyStep(c, progress(0, 2, 2.0), 300);
  assert.deepEqual(again.curves[0].steps, [2]);
  assert.deepEqual(again.curves[0].loss, [2.0]);
  assert.deepEqual(withStudyStep(c, progress(1, 2, 1.0), 300).curves.map((x) => x.run), [0, 1]);
  // Through the reducer: the study's own clock, from the state.
  const s = state({ study: { ...st, clockAt: 100, msPerStep: 40 } });
  assert.equal(reduce(s, { type: "studyStep", progress: progress(0, 2, 1) }, { now: 160 }).patch.study.msPerStep, 0.95 * 40 + 0.05 * 60);
});

test("the starting state: empty history, no evaluations, nothing failed", () => {
  assert.deepEqual(START.history, EMPTY_HISTORY);
  assert.deepEqual(START.evaluations, NO_EVALUATIONS);
  assert.equal(START.engineFailure, null);
  assert.equal(START.formFill, null);
  assert.ok(Object.isFrozen(START));
});

test("every event the session emits (src/session/events.rs) has its case in the reducer", async () => {
  const { readFileSync } = await import("node:fs");
  const rust = readFileSync(new URL("../../src/session/events.rs", import.meta.url), "utf8");
  const body = /pub enum Event\s*\{([\s\S]*?)\n\}/.exec(rust);
  assert.ok(body, "src/session/events.rs has `pub enum Event`");
  // Variants at the enum's first level of nesting, by their serde tag: camelCase, or the
  // name a `#[serde(rename = "...")]` above gives.
  const variants = [];
  let depth = 0;
  let renamed = null;
  for (const line of body[1].split("\n")) {
    const code = line.replace(/\/\/.*$/, "");
    const rename = depth === 0 && /#\[serde\(rename = "(\w+)"\)\]/.exec(code);
    if (rename) renamed = rename[1];
    const m = depth === 0 && /^\s*([A-Z]\w*)\b/.exec(code);
    if (m) {
      variants.push(renamed ?? m[1][0].toLowerCase() + m[1].slice(1));
      renamed = null;
    }
    for (const c of code) depth += c === "{" ? 1 : c === "}" ? -1 : 0;
  }
  assert.ok(variants.length >= 10 && variants.includes("step") && variants.includes("fused"), `read ${variants}`);
  const reducer = readFileSync(new URL("../../www/events.js", import.meta.url), "utf8");
  const missing = variants.filter((v) => !reducer.includes(`case "${v}":`));
  assert.deepEqual(missing, [], "events the session emits that the page ignores");
});
