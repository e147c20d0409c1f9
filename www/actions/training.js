// Training: the form's options (Rust's table, options.js) checked by Rust before they are used,
// and the run started or stepped with them.
import * as check from "../checks.js";
import { call, limits } from "../client.js";
import { $ } from "../dom.js";
import { t } from "../i18n.js";
import * as opts from "../options.js";
import { get, subscribe, tracker, update } from "../state.js";

export { EMPTY_HISTORY, NO_EVALUATIONS, TRAINING_CLEARED } from "../state.js";

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
export const watchActivation = (layer, channel) => call("watch", { layer, channel });

export async function refreshSchedule() {
  const s = get();
  if (!s.dataset) return;
  try {
    update({ schedule: await call("schedule", { options: s.options ?? formOptions() }) });
  } catch {
    update({ schedule: null });
  }
}

/** The schedule follows the data and the options (the worker's, else the form's): asked for
 * again whenever either changes. */
export function followSchedule() {
  const changed = tracker();
  subscribe((s) => {
    if ([changed("dataset", s.dataset), changed("options", s.options)].includes(true)) refreshSchedule();
  });
}

export async function train(options = {}) {
  // The quick looks at the test set: Rust's defaults unless given (they hold until the next call).
  const { evalEvery: evalEveryDefault, evalLimit: evalLimitDefault } = await limits();
  const { evalEvery = evalEveryDefault, evalLimit = evalLimitDefault, ...given } = opts.checkArgs(opts.TRAIN, "options", options, {
    extra: { evalEvery: (n, v) => check.integer(n, v, 1, 1_000_000), evalLimit: (n, v) => check.integer(n, v, 1, 1_000_000) },
  });
  const merged = await checkedOptions(given);
  setForm(merged);
  return call("train", { options: merged, evalEvery, evalLimit });
}

export const step = async (options = {}) => call("step", { options: await checkedOptions(opts.checkArgs(opts.TRAIN, "options", options)) });
