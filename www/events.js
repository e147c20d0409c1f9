// What the worker reports, into the app state: each event makes a new state, and the saves it
// calls for.
import * as actions from "./actions.js";
import { worker } from "./client.js";
import * as inside from "./inside.js";
import * as persist from "./persist.js";
import { t } from "./i18n.js";
import { get, message, update } from "./state.js";

// Steps are drawn at most every STEP_DRAW_MS while training runs: on two cores the page's
// drawing (the charts, the status line) takes its CPU time from the training threads, and a
// step takes a quarter longer when every one of them redraws (measured, the quick default on
// the CPU backend). An epoch's end, the last step, a step while paused and every other event
// draw the steps waiting first.
const STEP_DRAW_MS = 250;
let pendingSteps = [];
let drawTimer = null;

function drawSteps() {
  clearTimeout(drawTimer);
  drawTimer = null;
  if (pendingSteps.length === 0) return;
  const steps = pendingSteps;
  pendingSteps = [];
  const m = steps.at(-1);
  const r = m.report;
  const h = get().history;
  const left = m.next.totalSteps - r.globalStep;
  update({
    history: {
      steps: [...h.steps, ...steps.map((s) => s.report.globalStep)], loss: [...h.loss, ...steps.map((s) => s.report.loss)],
      trainAccuracy: [...h.trainAccuracy, ...steps.map((s) => s.trainAccuracy)], lambda: [...h.lambda, ...steps.map((s) => s.report.lambda)],
    },
    step: r.globalStep, epoch: r.epoch, stepsPerEpoch: r.stepsPerEpoch, totalSteps: m.next.totalSteps,
    lambda: r.lambda, learningRate: r.learningRate, nextLambda: m.next.lambda, cannotFuse: m.next.cannotFuse, loss: r.loss, trainAccuracy: m.trainAccuracy,
    imagesPerSec: m.imagesPerSec, etaSeconds: (left * m.ms) / 1000,
  });
}

function onStep(m) {
  const s = get();
  // The step changed the weights: a classifier fused from them is gone (in wasm too).
  if (s.fuseReport) update({ fuseReport: null });
  if (s.classifier?.fromTrainer) actions.forgetClassifier();
  pendingSteps.push(m);
  const save = persist.sinceLastSave() > persist.SAVE_EVERY_MS || m.report.epochEnd;
  if (save || m.next.finished || s.trainState !== "running") drawSteps();
  else drawTimer ??= setTimeout(drawSteps, STEP_DRAW_MS);
  if (save) persist.saveTraining();
}

// Test accuracy of the trained net and of the weight average at a step, into the charts' list
// of `[step, accuracy, emaAccuracy]` (the last left out without an average); an accuracy that
// comes apart (each epoch's end evaluates the two one after the other) joins its step's entry.
function onEval(m) {
  const s = get();
  const last = s.evals.at(-1);
  const same = last?.[0] === m.step;
  const trained = "testAccuracy" in m ? m.testAccuracy : same ? last[1] : null;
  const ema = m.emaAccuracy ?? (same ? last[2] ?? null : null);
  const patch = {};
  if ("testAccuracy" in m) patch.testAccuracy = m.testAccuracy;
  if ("emaAccuracy" in m) patch.emaAccuracy = m.emaAccuracy;
  if (trained !== null || ema !== null) {
    const entry = ema === null ? [m.step, trained] : [m.step, trained, ema];
    patch.evals = same ? [...s.evals.slice(0, -1), entry] : [...s.evals, entry];
  }
  update(patch);
}

// Study loss curves: an exponential moving average per run, kept at about 150 points a run.
let studyClock = null;
export const restartStudyClock = () => { studyClock = null; };
function onStudyStep(p) {
  const st = get().study;
  const perRun = st.report?.stepsPerRun ?? p.step.stepsPerEpoch;
  const every = Math.max(1, Math.floor(perRun / 150));
  let curves = st.curves;
  let curve = curves.find((c) => c.run === p.run);
  if (curve && p.step.globalStep <= (curve.steps.at(-1) ?? 0)) {
    // The run started over (another backend): so does its curve.
    curves = curves.filter((c) => c !== curve);
    curve = null;
  }
  curve ??= { run: p.run, arm: p.arm, seed: p.seed, steps: [], loss: [], ema: null };
  const ema = curve.ema === null ? p.step.loss : 0.9 * curve.ema + 0.1 * p.step.loss;
  const step = p.step.globalStep;
  const keep = step % every === 0 || step === perRun;
  const next = { ...curve, ema, steps: keep ? [...curve.steps, step] : curve.steps, loss: keep ? [...curve.loss, ema] : curve.loss };
  curves = curves.some((c) => c.run === p.run) ? curves.map((c) => (c.run === p.run ? next : c)) : [...curves, next];
  const now = performance.now();
  const msPerStep = studyClock ? 0.95 * (st.msPerStep ?? now - studyClock) + 0.05 * (now - studyClock) : null;
  studyClock = now;
  update({ study: { ...st, curves, progress: p, msPerStep } });
}

function onEvent(m) {
  if (m.type !== "step") drawSteps();
  const s = get();
  switch (m.type) {
    case "backend":
      update({ backend: m.backend, adapter: m.adapter, fallbackReason: m.fallbackReason, webgpuAvailable: m.webgpuAvailable });
      if (m.fallbackReason) message(t("backend.unavailable"), "info", m.fallbackReason);
      break;
    case "build":
      update({ build: m.build });
      if (m.build.fallback) message(t("build.fallback"), "info", m.build.fallback);
      break;
    case "dataset":
      update({ dataset: m.summary, samples: m.samples, evaluations: actions.NO_EVALUATIONS, evalCell: null });
      actions.refreshSchedule();
      break;
    case "model":
      if (m.restored) actions.setForm(m.options);
      update({ model: m.info, options: m.options, stepsPerEpoch: m.info.stepsPerEpoch, totalSteps: m.info.totalSteps });
      actions.refreshSchedule();
      break;
    case "checkpointProgress":
      update({ checkpoint: { ...s.checkpoint, ...m } });
      break;
    case "deviceLost":
      actions.recover(t("recover.lostDevice", { reason: `${m.reason ?? "unknown"}${m.message ? `: ${m.message}` : ""}` }), "cpu");
      break;
    case "crashed":
      actions.recover(t("recover.crashed", { reason: m.reason }), s.backend ?? "cpu");
      break;
    case "options":
      actions.setForm(m.options);
      update({ options: m.options, totalSteps: m.totalSteps });
      actions.refreshSchedule();
      break;
    case "reset":
      if (!persist.isRestoring()) {
        persist.forgetTraining();
        if (s.classifier?.fromTrainer) actions.forgetClassifier();
      }
      update(actions.TRAINING_CLEARED);
      actions.refreshSchedule();
      break;
    case "state":
      update({ trainState: m.state });
      if (m.state === "paused" || m.state === "finished") persist.saveTraining();
      break;
    case "step":
      onStep(m);
      if (m.report.inside) inside.onPoint(m.report.inside);
      break;
    case "eval":
      onEval(m);
      break;
    case "annealed":
      message(t("fuse.annealed"), "info");
      actions.api.fuse().catch((e) => message(e.message));
      break;
    case "evaluation":
      update({ evaluations: { ...s.evaluations, [m.evaluation.model]: m.evaluation } });
      break;
    case "probe":
      update({ probe: m });
      break;
    case "studyState":
      if (s.study) {
        update({ study: { ...s.study, state: m.state, live: m.state !== "idle" } });
        if (m.state === "paused" || m.state === "finished") persist.saveStudy(get().study);
      }
      break;
    case "studyStep":
      if (s.study) onStudyStep(m.progress);
      break;
    case "studyRun":
      if (s.study) {
        update({ study: { ...s.study, report: m.report } });
        persist.saveStudy(get().study);
      }
      break;
    // Worker messages of the page's own carry a key; the rest (Rust's warnings and errors) are
    // shown as they are.
    case "info":
      if (m.key) message(t(m.key), "info");
      else message(m.message, "info");
      break;
    case "error":
      if (m.key) message(t(m.key), "error", m.message);
      else message(m.message);
      break;
  }
}

export function listen() {
  worker.onEvent = onEvent;
  worker.onError = (e) => actions.recover(t("recover.workerFailed", { reason: e.message }), get().backend ?? "cpu");
}
