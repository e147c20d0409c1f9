// Sections 3 and 4: lambda's schedule and the lambdas used with the learning rate's schedule on
// the same epochs, A'(x), the learned series activation of a chosen layer and channel (curve
// and kernel), loss and accuracy of the trained net and of its weight average (uPlot).
import { watchActivation } from "../actions.js";
import { chart, STEP_TICKS } from "../chart.js";
import { $, el, guard, pct } from "../dom.js";
import { num, t } from "../i18n.js";
import { decaySentence } from "../inside.js";
import { subscribe, tracker } from "../state.js";

/** The charts' current values as a sentence, for those who do not see them: said (a live
 * region) at most every few seconds while training runs, at once otherwise. */
function summary(s) {
  if (!s.model) return t("summary.none");
  const parts = [t("summary.step", { step: num(s.step), total: num(s.totalSteps) }), t("summary.lambda", { v: s.lambda === null ? "–" : num(s.lambda, 3) })];
  if (s.loss !== null) parts.push(t("summary.loss", { v: num(s.loss, 3) }));
  if (s.recentTrainAccuracy !== null) parts.push(t("summary.train", { v: pct(s.recentTrainAccuracy) }));
  if (s.testAccuracy !== null) parts.push(t("summary.test", { v: pct(s.testAccuracy) }));
  if (s.emaAccuracy !== null) parts.push(t("summary.testEma", { v: pct(s.emaAccuracy) }));
  if (s.validation) parts.push(t("summary.validation", { v: pct(s.validation.accuracy), ema: s.validation.emaAccuracy === null ? null : pct(s.validation.emaAccuracy) }));
  const decay = decaySentence(s.insideDecay);
  if (decay) parts.push(decay);
  return t("summary.sentence", { parts, state: s.trainState === "running" ? null : t(`state.${s.trainState}`) });
}
const SAY_EVERY_MS = 5000;

function drawKernel(kernel) {
  const k = Math.round(Math.sqrt(kernel.length));
  const canvas = $("kernel");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  // act_num 0: a plain ReLU, no kernel.
  if (k === 0) return;
  const cell = canvas.width / k;
  const max = Math.max(...kernel.map(Math.abs)) || 1;
  kernel.forEach((w, i) => {
    const t = w / max;
    ctx.fillStyle = t >= 0 ? `rgba(224,49,49,${t})` : `rgba(28,126,214,${-t})`;
    ctx.fillRect((i % k) * cell, Math.floor(i / k) * cell, cell, cell);
  });
}

/** Most points a chart draws, whatever the run's length: longer series are thinned evenly. */
export const MAX_POINTS = 2000;

/** The indices of `n` points to draw: all of them up to `max`, else every k-th, the last, and
 * those `keep` asks for. */
/** @param {number} n @param {number} [max] @param {(i: number) => boolean} [keep] */
export function thin(n, max = MAX_POINTS, keep = () => false) {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const every = Math.ceil(n / max);
  const out = [];
  for (let i = 0; i < n; i++) if (i % every === 0 || i === n - 1 || keep(i)) out.push(i);
  return out;
}
const pick = (values, indices) => indices.map((i) => values[i]);

/** The lambdas used, placed among the schedule's samples (x in fractional epochs), and the
 * learning rate's schedule on the same samples; all bounded (the schedules by the worker, the
 * lambdas used by thinning). */
function lambdaSeries(schedule, h) {
  const spe = schedule.stepsPerEpoch;
  const shown = thin(h.steps.length);
  const steps = pick(h.steps, shown);
  const xs = [...schedule.epochs, ...steps.map((st) => (st - 1) / spe)];
  const order = xs.map((x, i) => [x, i]).sort((a, b) => a[0] - b[0]);
  const none = steps.map(() => null);
  const sched = [...schedule.lambda, ...none];
  const used = [...schedule.epochs.map(() => null), ...pick(h.lambda, shown)];
  const lr = [...schedule.learningRate, ...none];
  return [order.map(([x]) => x), order.map(([, i]) => sched[i]), order.map(([, i]) => used[i]), order.map(([, i]) => lr[i])];
}

export function mount() {
  const charts = {
    // The learning rate on its own scale, the axis on the right.
    lambda: chart("lambda-chart", [
      { label: t("chart.schedule"), stroke: "#9aa5b1", width: 2, spanGaps: true },
      { label: t("chart.used"), stroke: "#d9480f", width: 3, points: { show: false } },
      { label: t("chart.lr"), stroke: "#7048e8", width: 2, dash: [6, 3], scale: "lr", spanGaps: true, points: { show: false } },
    ], {
      scales: { y: { range: [0, 1.02] }, lr: { range: (u, min, max) => [0, (max || 1) * 1.05] } },
      axes: [{ label: t("chart.epoch") }, {}, { scale: "lr", side: 1, grid: { show: false }, size: 60 }],
    }),
    act: chart("act-chart", [{ label: "A′(x)", stroke: "#1c7ed6", width: 3 }, { label: "ReLU", stroke: "#ced4da", dash: [4, 4] }],
      { scales: { x: { time: false, range: [-2, 2] }, y: { range: [-2, 2] } } }),
    activation: chart("activation-chart", [{ label: t("chart.response"), stroke: "#2b8a3e", width: 3 }], { axes: [{ label: "x" }, {}] }),
    loss: chart("loss-chart", [{ label: t("chart.loss"), stroke: "#c2255c", width: 2 }], { axes: [{ label: t("chart.step"), incrs: STEP_TICKS }, {}] }),
    acc: chart("acc-chart", [
      { label: t("chart.train"), stroke: "#1c7ed6", width: 2 },
      { label: t("chart.test"), stroke: "#2b8a3e", width: 2, spanGaps: true, points: { show: true, size: 6 } },
      { label: t("chart.testEma"), stroke: "#e8590c", width: 2, dash: [5, 3], spanGaps: true, points: { show: true, size: 5 } },
    ], { scales: { y: { range: [0, 1] } }, axes: [{ label: t("chart.step"), incrs: STEP_TICKS }, {}] }),
  };
  const activationChange = guard(() => watchActivation(Number($("activation-layer").value), Number($("activation-channel").value)));
  $("activation-layer").onchange = activationChange;
  $("activation-channel").onchange = activationChange;

  const changed = tracker();
  let said = 0;
  let saidState = null;
  subscribe((s) => {
    const text = summary(s);
    const now = Date.now();
    // Shown as it is; said (the live region) at once when training starts or stops, and while
    // it runs every few seconds, so that a screen reader is not talking over itself.
    if (text !== $("chart-summary").textContent) $("chart-summary").textContent = text;
    const due = s.trainState !== "running" || s.trainState !== saidState || now - said > SAY_EVERY_MS;
    if (text !== $("chart-announce").textContent && due) {
      $("chart-announce").textContent = text;
      said = now;
      saidState = s.trainState;
    }
    const h = s.history;
    // Both trackers must see the new values (no `||`, which would skip the second).
    if ([changed("history", h), changed("evals", s.evals)].includes(true)) {
      const tested = new Map(s.evals.map(([st, ...accuracies]) => [st, accuracies]));
      // Thinned to at most MAX_POINTS (and the steps with a test accuracy).
      const shown = thin(h.steps.length, MAX_POINTS, s.evals.length <= MAX_POINTS ? (i) => tested.has(h.steps[i]) : undefined);
      const steps = pick(h.steps, shown);
      charts.loss.setData([steps, pick(h.loss, shown)]);
      charts.acc.setData([steps, pick(h.recentTrainAccuracy, shown), steps.map((st) => tested.get(st)?.[0] ?? null), steps.map((st) => tested.get(st)?.[1] ?? null)]);
    }
    if ([changed("schedule", s.schedule), changed("lambdaHistory", h)].includes(true) && s.schedule) {
      charts.lambda.setData(lambdaSeries(s.schedule, h));
    }
    $("lambda-now").textContent = s.lambda === null ? "–" : num(s.lambda, 3);
    $("lr-now").textContent = s.learningRate === null ? "–" : s.learningRate.toExponential(2);
    const lambda = s.lambda ?? s.nextLambda ?? 0;
    if (changed("lambda", lambda)) {
      const xs = Array.from({ length: 81 }, (_, i) => -2 + i * 0.05);
      charts.act.setData([xs, xs.map((x) => (1 - lambda) * Math.max(0, x) + lambda * x), xs.map((x) => Math.max(0, x))]);
    }
    if (changed("activation", s.activation) && s.activation) {
      charts.activation.setData([s.activation.inputs, s.activation.curve]);
      drawKernel(s.activation.kernel);
    }
    const blocks = s.model?.config.strides.length ?? 0;
    if (changed("blocks", blocks)) {
      const layers = [el("option", { value: "0" }, t("lambda.stem")), ...Array.from({ length: blocks }, (_, i) => el("option", { value: String(i + 1) }, t("lambda.block", { n: i + 1 })))];
      $("activation-layer").replaceChildren(...layers);
      $("activation-layer").value = blocks ? "1" : "0";
    }
  });
  return charts;
}
