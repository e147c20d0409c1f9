// What the worker reports, as changes of the app state: `reduce(state, event)` gives the patch an
// event makes and the saves it calls for, and does nothing itself (listen.js applies them). It
// calls no action: what the page does next follows from the state (the recovery from
// `engineFailure`, the schedule from the options, the form from `formFill`; actions.js, views/).
import { t } from "./i18n.js";
import { EMPTY_DECAY, NO_EVALUATIONS, TRAINING_CLEARED, withMessage } from "./state.js";

/** @typedef {import("./state.js").State} State */
/** What persist.js is asked to do once an event's patch is applied.
 * @typedef {"saveTraining" | "saveStudy" | "saveClassifier" | "forgetTraining" | "forgetClassifier"} Save */
/** @typedef {{patch: Partial<State>, saves: Save[]}} Reduced */
/** When an event happens: `now` (ms, for the study's pace), whether a saved session is being
 * put back (a reset then forgets nothing saved), and the time its messages are stamped with.
 * @typedef {{now?: number, restoring?: boolean, at?: number}} Context */

/**
 * @param {Readonly<State>} s the state before the event
 * @param {any} m the worker's event (`{type, ...}`)
 * @param {Context} [context]
 * @returns {Reduced}
 */
export function reduce(s, m, { now = 0, restoring = false, at = Date.now() } = {}) {
  /** @type {Save[]} */
  const saves = [];
  const say = (patch, text, kind = "error", detail = null) => ({ ...patch, messages: withMessage(s.messages, text, kind, detail, at) });
  // A classifier fused from the trainer's weights goes with them (the session drops it too).
  const fusedGone = () => {
    saves.push("forgetClassifier");
    return { classifier: null, evaluations: { ...s.evaluations, fused: null } };
  };
  const fromTrainer = s.classifier?.origin === "trainer";
  /** @type {Partial<State>} */
  let patch = {};
  switch (m.type) {
    case "backend":
      patch = { backend: m.backend, adapter: m.adapter, fallbackReason: m.fallbackReason, webgpuAvailable: m.webgpuAvailable };
      if (m.fallbackReason) patch = say(patch, t("backend.unavailable"), "info", m.fallbackReason);
      break;
    case "build":
      patch = { build: m.build };
      if (m.build.fallback) patch = say(patch, t("build.fallback"), "info", m.build.fallback);
      break;
    case "dataset":
      patch = { dataset: m.summary, samples: m.samples, evaluations: NO_EVALUATIONS, evalCell: null };
      break;
    case "model":
      patch = { model: m.info, options: m.options, stepsPerEpoch: m.info.stepsPerEpoch, totalSteps: m.info.totalSteps };
      if (m.restored) patch.formFill = m.options;
      break;
    case "options":
      patch = { options: m.options, totalSteps: m.totalSteps, formFill: m.options };
      break;
    case "checkpointProgress":
      patch = { checkpoint: { ...s.checkpoint, ...m } };
      break;
    case "deviceLost":
      patch = { engineFailure: { what: t("recover.lostDevice", { reason: `${m.reason ?? "unknown"}${m.message ? `: ${m.message}` : ""}` }), backend: "cpu" } };
      break;
    case "crashed":
      patch = { engineFailure: { what: t("recover.crashed", { reason: m.reason }), backend: s.backend ?? "cpu" } };
      break;
    // Not the worker's message: the worker itself failed (rpc.js's onError).
    case "workerFailed":
      patch = { engineFailure: { what: t("recover.workerFailed", { reason: m.message }), backend: s.backend ?? "cpu" } };
      break;
    case "reset":
      if (!restoring) {
        saves.push("forgetTraining");
        if (fromTrainer) patch = fusedGone();
      }
      patch = { ...patch, ...TRAINING_CLEARED };
      break;
    case "state":
      patch = { trainState: m.state };
      if (m.state === "paused" || m.state === "finished") saves.push("saveTraining");
      break;
    case "step":
      // The step changed the weights: what was fused from them is gone. The step's numbers
      // are drawn with others (`withSteps`); a decay probe riding on it joins its series.
      if (s.fuseReport) patch.fuseReport = null;
      if (fromTrainer) patch = { ...patch, ...fusedGone() };
      if (m.report.inside) patch.insideDecay = withDecayPoint(s.insideDecay ?? EMPTY_DECAY, m.report.inside);
      break;
    case "eval":
      patch = withEval(s, m);
      break;
    case "validation":
      patch = { validation: { step: m.step, accuracy: m.accuracy, emaAccuracy: m.emaAccuracy ?? null } };
      break;
    case "annealed":
      patch = say(patch, t("fuse.annealed"), "info");
      break;
    // The session fused the net on its own once annealed.
    case "fused":
      patch = { fuseReport: m.report, classifier: m.classifier };
      saves.push("saveClassifier");
      break;
    case "evaluation":
      patch = { evaluations: { ...s.evaluations, [m.evaluation.model]: m.evaluation } };
      break;
    case "activation":
      patch = { activation: m };
      break;
    case "studyState":
      if (!s.study) break;
      patch = { study: { ...s.study, state: m.state, live: m.state !== "idle" } };
      if (m.state === "paused" || m.state === "finished") saves.push("saveStudy");
      break;
    case "studyStep":
      if (s.study) patch = { study: withStudyStep(s.study, m.progress, now) };
      break;
    case "studyRun":
      if (!s.study) break;
      patch = { study: { ...s.study, report: m.report } };
      saves.push("saveStudy");
      break;
    // Worker messages of the page's own carry a key; the rest (Rust's warnings and errors) are
    // shown as they are.
    case "info":
      patch = say(patch, m.key ? t(m.key) : m.message, "info");
      break;
    case "error":
      patch = m.key ? say(patch, t(m.key), "error", m.message) : say(patch, m.message);
      break;
  }
  return { patch, saves };
}

/** Training steps drawn together (each a `step` event): their points onto the charts' series,
 * the last one's numbers into the state. */
export function withSteps(s, steps) {
  const m = steps.at(-1);
  const r = m.report;
  const h = s.history;
  const left = m.next.totalSteps - r.globalStep;
  return {
    history: {
      steps: [...h.steps, ...steps.map((x) => x.report.globalStep)], loss: [...h.loss, ...steps.map((x) => x.report.loss)],
      recentTrainAccuracy: [...h.recentTrainAccuracy, ...steps.map((x) => x.trainAccuracy)], lambda: [...h.lambda, ...steps.map((x) => x.report.lambda)],
    },
    step: r.globalStep, epoch: r.epoch, stepsPerEpoch: r.stepsPerEpoch, totalSteps: m.next.totalSteps,
    lambda: r.lambda, learningRate: r.learningRate, nextLambda: m.next.lambda, cannotFuse: m.next.cannotFuse, loss: r.loss, recentTrainAccuracy: m.trainAccuracy,
    imagesPerSec: m.imagesPerSec, etaSeconds: (left * m.ms) / 1000,
  };
}

// Test accuracy of the trained net and of the weight average at a step, into the charts' list
// of `[step, accuracy, emaAccuracy]` (the last left out without an average); an accuracy that
// comes apart (each epoch's end evaluates the two one after the other) joins its step's entry.
function withEval(s, m) {
  const last = s.evals.at(-1);
  const same = last?.[0] === m.step;
  const trained = "testAccuracy" in m ? m.testAccuracy : same ? last[1] : null;
  const ema = m.emaAccuracy ?? (same ? last[2] ?? null : null);
  /** @type {Partial<State>} */
  const patch = {};
  if ("testAccuracy" in m) patch.testAccuracy = m.testAccuracy;
  if ("emaAccuracy" in m) patch.emaAccuracy = m.emaAccuracy;
  if (trained !== null || ema !== null) {
    const entry = ema === null ? [m.step, trained] : [m.step, trained, ema];
    patch.evals = same ? [...s.evals.slice(0, -1), entry] : [...s.evals, entry];
  }
  return patch;
}

/** The decay series with a probe the training loop made; one from before the last is
 * ignored, and one of other parts (another model) starts the series over. */
export function withDecayPoint(d, p) {
  if (d.steps.length && p.step <= d.steps.at(-1)) return d;
  const same = d.blocks.length === p.names.length && d.blocks.every((b, i) => b.name === p.names[i]);
  const blocks = same ? d.blocks : p.names.map((name) => ({ name, negativeShare: [], distance: [] }));
  return {
    every: d.every,
    steps: [...(same ? d.steps : []), p.step],
    lambda: [...(same ? d.lambda : []), p.lambda],
    blocks: blocks.map((b, i) => ({ name: b.name, negativeShare: [...b.negativeShare, p.negativeShare[i]], distance: [...b.distance, p.distance[i]] })),
  };
}

/** A study's loss curves with a step of one run: an exponential moving average per run, kept at
 * about 150 points a run; and the time a step takes (a moving average, from `clockAt`, the time
 * of the last step; none until two steps since the study started or continued). */
export function withStudyStep(st, p, now) {
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
  const clockAt = st.clockAt ?? null;
  const msPerStep = clockAt === null ? null : 0.95 * (st.msPerStep ?? now - clockAt) + 0.05 * (now - clockAt);
  return { ...st, curves, progress: p, msPerStep, clockAt: now };
}
