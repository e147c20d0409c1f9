// Section 7: the paper's ablations. The form (read through the options table), the live loss
// curves of every arm, the table filling in beside the paper's claim, and its downloads.
import { api } from "../actions.js";
import { $, download, el, enable, eta, fileStem, fillSelect, fmt, guard, pct } from "../dom.js";
import { STUDY } from "../options.js";
import { has, num, t } from "../i18n.js";
import { get, subscribe, tracker, update } from "../state.js";
import { STEP_TICKS, chart } from "../chart.js";

const ARM_COLOURS = ["#1c7ed6", "#d9480f", "#2b8a3e", "#ae3ec9", "#f08c00", "#495057"];

// Arms and studies cross from Rust as ids; the page says them in its language (a report saved
// before arms had ids says the English name it has).
const armName = (arm) => (has(`study.arm.${arm.id}`) ? t(`study.arm.${arm.id}`) : arm.name);
const studyName = (id) => (has(`opt.study.${id}`) ? t(`opt.study.${id}`) : id);

function vsReference(a, isReference) {
  if (isReference) return el("span", { class: "muted" }, t("study.reference"));
  const p = a.vsReference;
  if (!p) return "–";
  const points = num(100 * p.meanDiff, 1);
  return [
    el("span", { class: p.meanDiff > 0 ? "better" : p.meanDiff < 0 ? "worse" : "" }, t("study.points", { v: `${p.meanDiff > 0 ? "+" : ""}${points}` })),
    el("br"), el("span", { class: "muted" }, t("study.wins", { wins: p.wins, pairs: p.pairs })),
  ];
}

function tableRows(st, described) {
  const rows = st?.report?.summary ?? [];
  const best = Math.max(...rows.map((a) => a.accuracyMean ?? -1));
  return rows.map((a, i) => {
    const current = st.state === "running" && st.progress?.arm === i;
    const accuracy = a.accuracyMean === null
      ? el("td", { class: "pending" }, t(current ? "study.training" : st.state === "running" ? "study.waiting" : "study.notRun"))
      : el("td", {}, pct(a.accuracyMean), a.runs > 1 ? [` ± ${num(100 * a.accuracyStd, 1)}`, el("br"), el("span", { class: "muted" }, `${pct(a.accuracyMin)}–${pct(a.accuracyMax)}`)] : null);
    return el("tr", { class: a.accuracyMean === best && a.runs ? "best" : "" },
      el("td", {}, el("span", { class: "swatch", style: { background: ARM_COLOURS[i % ARM_COLOURS.length] } }), armName(a)),
      accuracy,
      el("td", {}, `${a.runs}/${st.options.seeds}`),
      el("td", {}, vsReference(a, i === described?.reference)),
      el("td", {}, `${fmt(a.params)} / ${fmt(a.paramsDeploy)}`),
      el("td", {}, fmt(a.macsDeploy)),
      el("td", {}, a.fusedMsPerImage === null ? "–" : num(a.fusedMsPerImage, 3)));
  });
}

/** The loss of every arm at each step any run recorded: the mean over its seeds so far. */
function armSeries(st) {
  const xs = [...new Set(st.curves.flatMap((c) => c.steps))].sort((a, b) => a - b);
  const series = st.report.arms.map((_, arm) => {
    const mine = st.curves.filter((c) => c.arm === arm).map((c) => new Map(c.steps.map((x, i) => [x, c.loss[i]])));
    return xs.map((x) => {
      const vals = mine.map((m) => m.get(x)).filter((v) => v !== undefined);
      return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
    });
  });
  return [xs, ...series];
}

// Reports saved before they carried their run count hold only the arms and seeds.
const totalRuns = (st) => st.report.totalRuns || st.report.arms.length * st.options.seeds;

/** The fraction of the run in progress that is done (0 between runs). */
function inRun(st) {
  const p = st.progress;
  return p && st.state !== "finished" && p.run === st.report.runs.length ? p.step.globalStep / st.report.stepsPerRun : 0;
}

function progressText(st) {
  const r = st.report;
  if (!r) return t("study.starting");
  const runs = totalRuns(st);
  const done = r.runs.length;
  const p = st.progress;
  const where = st.state === "finished" ? t("study.allDone", { runs })
    : p && p.run === done ? t("study.runAt", { run: done + 1, runs, arm: armName(r.arms[p.arm]), seed: p.seed, step: num(p.step.globalStep), steps: num(r.stepsPerRun), loss: num(p.step.loss, 3) })
      : t("study.runsDone", { done, runs });
  const left = (runs - done - inRun(st)) * r.stepsPerRun;
  const etaText = st.state === "running" && st.msPerStep ? eta((left * st.msPerStep) / 1000) : null;
  return t("study.progress", {
    state: t(`state.${st.state}`), study: studyName(r.study), dataset: r.dataset, train: num(r.trainImages), test: num(r.testImages),
    steps: num(r.stepsPerRun), where, eta: etaText,
  });
}

export function mount() {
  const form = $("study-options");
  form.addEventListener("change", (e) => e.target.name === "study" && update({}));
  $("study-run").onclick = guard(async () => {
    if (get().study?.report?.runs.length && !confirm(t("study.confirmNew"))) return;
    if (get().study) await api.study.discard();
    await api.study.run();
  });
  $("study-pause").onclick = guard(() => api.study.pause());
  $("study-resume").onclick = guard(() => api.study.resume());
  $("study-discard").onclick = guard(async () => {
    if (get().study?.report?.runs.length && !confirm(t("study.confirmDiscard"))) return;
    await api.study.discard();
  });
  const fileName = () => `vanillanet-${get().study.report.study}-${fileStem(get().study.report.dataset)}`;
  $("study-csv").onclick = guard(async () => download(await api.study.csv(), `${fileName()}.csv`));
  $("study-json").onclick = guard(async () => download(api.study.json(), `${fileName()}.json`));

  let lossChart = null;
  const changed = tracker();
  subscribe((s) => {
    // The study's default preset when it fits the data, else the smallest: studies train many nets.
    const preset = STUDY.find((f) => f.name === "preset")?.default;
    if (form.elements.preset) fillSelect(form.elements.preset, s.dataset?.presets ?? [], preset);
    const st = s.study;
    const described = s.studies.find((d) => d.study === (st?.options.study ?? form.elements.study?.value));
    $("study-claim").textContent = described ? t("study.paper", { claim: t(`study.claim.${described.study}`) }) : "";
    const running = st?.state === "running";
    const r = st?.report;
    enable([["study-run", !running && s.dataset], ["study-pause", running], ["study-resume", st?.state === "paused"],
      ["study-discard", st && !running], ["study-csv", r?.runs.length], ["study-json", r?.runs.length]]);
    const p = st?.progress;
    $("study-bar").style.width = `${r ? ((100 * (r.runs.length + inRun(st))) / totalRuns(st)).toFixed(1) : 0}%`;
    $("study-text").textContent = st ? progressText(st) : t("study.none");
    // The chart: one series per arm, rebuilt when the arms change.
    if (changed("arms", r?.arms.map((a) => a.name).join("|") ?? null)) {
      lossChart?.destroy();
      lossChart = r ? chart("study-chart", r.arms.map((a, i) => ({ label: armName(a), stroke: ARM_COLOURS[i % ARM_COLOURS.length], width: 2, spanGaps: true })),
        { axes: [{ label: t("chart.step"), incrs: STEP_TICKS }, {}] }) : null;
      changed("curves", null);
    }
    if (lossChart && changed("curves", st.curves)) lossChart.setData(armSeries(st));
    if ([changed("table", `${st?.state}:${p?.run}`), changed("report", r)].includes(true)) {
      $("study-table").querySelector("tbody").replaceChildren(...tableRows(st, described));
    }
  });
}
