// Training: the form's options (Rust's table, options.js) checked by Rust before they are used,
// and the run started or stepped with them.
import * as check from "../checks.js";
import { call } from "../client.js";
import { $ } from "../dom.js";
import { t } from "../i18n.js";
import * as opts from "../options.js";
import { get, update } from "../state.js";

/** The training options the form holds with `given` over them, checked by Rust (the form's
 * check): the first option out of range is refused with its reason, before anything changes. */
export async function checkedOptions(given) {
  const merged = { ...formOptions(), ...given };
  if (get().dataset) {
    const problem = await call("checkOptions", { options: merged });
    if (problem) throw new Error(t("opt.refused", { name: problem.field, reason: problem.message }));
  }
  return merged;
}

const EVAL_EVERY = 50;
const EVAL_LIMIT = 500;
export const NO_EVALUATIONS = Object.freeze({ trained: null, ema: null, fused: null });
export const EMPTY_HISTORY = Object.freeze({ steps: [], loss: [], trainAccuracy: [], lambda: [] });
export const TRAINING_CLEARED = Object.freeze({
  fuseReport: null, model: null, options: null, step: 0, epoch: 0, lambda: null, learningRate: null, nextLambda: null, cannotFuse: null,
  loss: null, trainAccuracy: null, testAccuracy: null, emaAccuracy: null, imagesPerSec: null, etaSeconds: null, probe: null,
  history: EMPTY_HISTORY, evals: [], evaluations: NO_EVALUATIONS, evalCell: null,
});

export const trainForm = () => $("options");
const studyForm = () => $("study-options");
/** The training options the form holds (over the defaults Rust gives). */
export const formOptions = () => opts.read(trainForm(), opts.TRAIN, get().defaults ?? {});
export const setForm = (options) => opts.write(trainForm(), opts.TRAIN, options);
export const studyFormOptions = () => opts.read(studyForm(), opts.STUDY, { train: formOptions() });
export const setStudyForm = (options) => opts.write(studyForm(), opts.STUDY, options);

/** What Rust's check says of the form's options for the loaded data: `{field, message}`, or
 * null when they pass (or there is no data yet). */
export async function formProblem() {
  return get().dataset ? call("checkOptions", { options: formOptions() }).catch(() => null) : null;
}

/** The form's options applied to the model in training, its weights kept. */
export const applyFormOptions = () => call("setOptions", { options: formOptions() });

/** Which activation the chart of the learned series activation shows. */
export const setProbe = (layer, channel) => call("probe", { layer, channel });

export async function refreshSchedule() {
  const s = get();
  if (!s.dataset) return;
  try {
    update({ schedule: await call("schedule", { options: s.options ?? formOptions() }) });
  } catch {
    update({ schedule: null });
  }
}

export async function train(options = {}) {
  const { evalEvery = EVAL_EVERY, evalLimit = EVAL_LIMIT, ...given } = opts.checkArgs(opts.TRAIN, "options", options, {
    extra: { evalEvery: (n, v) => check.integer(n, v, 1, 1_000_000), evalLimit: (n, v) => check.integer(n, v, 1, 1_000_000) },
  });
  const merged = await checkedOptions(given);
  setForm(merged);
  return call("train", { options: merged, evalEvery, evalLimit });
}

export const step = async (options = {}) => call("step", { options: await checkedOptions(opts.checkArgs(opts.TRAIN, "options", options)) });
