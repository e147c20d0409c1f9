// The paper's ablations run in the page: a study started from the Experiments form (Rust's
// table), paused, continued (after a reload too), discarded, downloaded.
import { call } from "../client.js";
import { t } from "../i18n.js";
import * as opts from "../options.js";
import * as persist from "../persist.js";
import { get, update } from "../state.js";
import { setStudyForm, studyFormOptions } from "./training.js";

export async function studyRun(options = {}) {
  opts.checkArgs(opts.STUDY, "options", options, { extra: { train: (n, v) => opts.checkArgs(opts.TRAIN, n, v) } });
  const fromForm = studyFormOptions();
  const merged = { ...fromForm, ...options, train: { ...fromForm.train, ...(options.train ?? {}) } };
  setStudyForm(merged);
  update({ study: { options: merged, report: null, curves: [], state: "running", live: true, progress: null } });
  try {
    const report = await call("studyRun", { options: merged });
    update({ study: { ...get().study, report } });
  } catch (e) {
    update({ study: null });
    throw e;
  }
  persist.saveStudy(get().study);
  return get().study.report;
}

export async function studyResume() {
  const st = get().study;
  if (!st) throw new Error(t("study.noneToContinue"));
  // The pace is measured afresh: the pause is no step's time.
  update({ study: { ...st, clockAt: null } });
  if (st.live) return call("studyResume");
  // A study restored from disk: the worker starts it again from its finished runs.
  const report = await call("studyRun", { options: st.options, saved: st.report });
  update({ study: { ...get().study, report, live: true, curves: st.curves.filter((c) => c.run < report.runs.length) } });
  return true;
}

export async function studyDiscard() {
  await call("studyDiscard");
  update({ study: null });
  await persist.forgetStudy();
}

export const study = {
  run: studyRun,
  pause: () => call("studyPause"),
  resume: studyResume,
  discard: studyDiscard,
  report: () => get().study?.report ?? null,
  status: () => {
    const st = get().study;
    return st ? { state: st.state, progress: st.progress, runs: st.report?.runs.length ?? 0 } : null;
  },
  async csv() {
    const report = get().study?.report;
    if (!report) throw new Error(t("study.noResults"));
    return new Blob([await call("studyCsv", { report })], { type: "text/csv" });
  },
  json() {
    const st = get().study;
    if (!st?.report) throw new Error(t("study.noResults"));
    return new Blob([JSON.stringify({ ...st.report, curves: st.curves }, null, 2)], { type: "application/json" });
  },
};
