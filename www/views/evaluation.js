// Section 5: what the net learned, on the whole test set: accuracy per class, the confusion
// matrix as a heat map (click a cell for its images), and the most confidently wrong images.
// For the trained net and the moving average of its weights (both evaluated at each epoch's
// end) and, once fused, for the fused one; the accuracy with and without test-time augmentation.
import { api } from "../actions.js";
import { $, el, guard, pct } from "../dom.js";
import { num, t } from "../i18n.js";
import { get, subscribe, tracker, update } from "../state.js";

/** Classes beyond this are listed per class, but not drawn as a matrix. */
const MAX_DRAWN = 30;
const CELL_IMAGES = 48;

/** The evaluation shown: the one picked, else the fused net's when there is one, else the
 * trained net's (the weight average's accuracy is said beside it). */
export function shown(s = get()) {
  const e = s.evaluations;
  if (s.evalModel) return e[s.evalModel];
  return e.fused ?? e.trained;
}

// Test images by index, as object URLs, for the dataset they were made from.
let urls = new Map();
let urlsOf = null;
function image(index) {
  const d = get().dataset;
  if (urlsOf !== d) {
    for (const u of urls.values()) u.then((url) => URL.revokeObjectURL(url)).catch(() => {});
    urls = new Map();
    urlsOf = d;
  }
  if (!urls.has(index)) urls.set(index, api.testImage(index).then((b) => URL.createObjectURL(b)));
  return urls.get(index);
}

function tile(e, m) {
  const img = el("img", { alt: t("eval.image", { n: m.index }), width: 64, height: 64 });
  image(m.index).then((url) => { img.src = url; }).catch(() => { img.alt = t("eval.imageMissing", { n: m.index }); });
  const wrong = m.label !== m.predicted;
  return el("figure", { class: `tile${wrong ? " wrong" : ""}` }, img,
    el("figcaption", {},
      el("span", {}, `#${m.index} ${e.classes[m.label]}`),
      el("span", {}, t(wrong ? "eval.answered" : "eval.right", { name: e.classes[m.predicted], confidence: pct(m.confidence) }))));
}

/** A class as its index and name (just the name when it is the index, as MNIST's are). */
const label = (name, i) => (name === String(i) ? name : `${i} ${name}`);

/** A cell's colours: right answers green, wrong ones red, deeper with the share; the text in
 * black or white, whichever reads better on it (the number says it all without colour). */
function heat(fraction, diagonal) {
  const base = diagonal ? [30, 120, 50] : [190, 30, 30];
  const t = Math.min(1, fraction) * 0.9;
  const rgb = base.map((c) => Math.round(255 + (c - 255) * t));
  const lin = rgb.map((c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  return { background: `rgb(${rgb.join(", ")})`, color: luminance > 0.179 ? "#000" : "#fff" };
}

function matrix(e, norm, selected) {
  const k = e.classes.length;
  if (k > MAX_DRAWN) return el("p", { class: "muted" }, t("eval.tooMany", { n: num(k) }));
  const rowTotals = e.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...e.confusion.flatMap((row, truth) => row.filter((_, p) => p !== truth)));
  const head = el("tr", {}, el("th", { scope: "col", class: "corner" }, t("eval.corner")),
    e.classes.map((name, p) => el("th", { scope: "col", title: name }, `${p}`)));
  const rows = e.confusion.map((row, truth) => el("tr", {},
    el("th", { scope: "row", title: e.classes[truth] }, label(e.classes[truth], truth)),
    row.map((count, p) => {
      const share = rowTotals[truth] ? count / rowTotals[truth] : 0;
      const text = norm === "rows" ? (rowTotals[truth] ? `${Math.round(share * 100)}` : "–") : num(count);
      const fraction = truth === p ? share : norm === "rows" ? share * 2 : count / max;
      const isSelected = selected && selected.label === truth && selected.predicted === p;
      return el("td", {},
        el("button", {
          type: "button", class: `cell${truth === p ? " diagonal" : ""}${isSelected ? " selected" : ""}`, "data-focus": `cell-${truth}-${p}`,
          style: count ? heat(fraction, truth === p) : { background: "transparent" },
          "aria-label": t("eval.cellLabel", { label: e.classes[truth], predicted: e.classes[p], count: num(count), share: pct(share) }),
          "aria-pressed": isSelected ? "true" : "false",
          onclick: guard(() => openCell(truth, p)),
        }, text));
    })));
  return el("table", { class: "confusion" }, el("caption", { class: "muted" },
    t(norm === "rows" ? "eval.captionRows" : "eval.captionCounts")), el("thead", {}, head), el("tbody", {}, rows));
}

async function openCell(label, predicted) {
  const e = shown();
  const images = await api.evaluationCell(label, predicted, { fused: e.model === "fused", ema: e.model === "ema", limit: CELL_IMAGES });
  update({ evalCell: { label, predicted, images, of: e } });
}

/** The accuracy with test-time augmentation beside the plain one (the matrix, the classes and
 * the mistakes are the plain answers'), or that there was none (off, or only a mirror asked of
 * data a mirror would change). */
const ttaSaid = (e) => (e.accuracyTta == null ? t("eval.ttaOff") : t("eval.tta", { tta: e.tta, accuracy: pct(e.accuracyTta) }));

/** The run keeps a moving average of its weights. */
const hasEma = (s) => (s.options?.emaDecay ?? 0) > 0;

export function mount() {
  for (const radio of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="eval-model"]'))) {
    radio.onchange = () => update({ evalModel: radio.value, evalCell: null });
  }
  $("eval-norm").onchange = (ev) => update({ evalNorm: ev.target.value });
  $("evaluate").onclick = guard(async () => {
    const s = get();
    const picked = s.evalModel ?? (s.classifier?.origin === "trainer" ? "fused" : "trained");
    update({ evalBusy: true });
    try {
      await api.evaluation({ fused: picked === "fused", ema: picked === "ema" });
    } finally {
      update({ evalBusy: false });
    }
  });
  $("eval-back").onclick = () => update({ evalCell: null });
  const changed = tracker();
  subscribe((s) => {
    const e = shown(s);
    const fusedOk = s.classifier?.origin === "trainer";
    const picked = s.evalModel ?? (e?.model ?? "trained");
    for (const radio of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="eval-model"]'))) {
      radio.checked = radio.value === picked;
      if (radio.value === "fused") radio.disabled = !fusedOk && !s.evaluations.fused;
      if (radio.value === "ema") radio.disabled = !hasEma(s) && !s.evaluations.ema;
    }
    $("evaluate").disabled = !s.model || s.evalBusy || s.trainState === "running" || (picked === "fused" && !fusedOk);
    $("evaluate").textContent = t(s.evalBusy ? "eval.busy" : "eval.now");
    const stale = e && e.model !== "fused" && e.step !== s.step;
    // The trained net and its weight average side by side, when both were evaluated at a step.
    const { trained, ema } = s.evaluations;
    const beside = trained && ema && trained.step === ema.step ? t("eval.beside", { trained: pct(trained.accuracy), ema: pct(ema.accuracy) }) : "";
    $("eval-summary").textContent = !e
      ? t(!s.model ? "eval.untrained" : "eval.notYet")
      : t("eval.summary", { model: e.model, step: num(e.step), accuracy: pct(e.accuracy), images: num(e.confusion.flat().reduce((a, b) => a + b, 0)) }) +
        ttaSaid(e) + (stale ? t("eval.stale", { step: num(s.step) }) : "") + beside;
    $("eval-body").hidden = !e;
    if (!e) return;
    if ([changed("matrix", e), changed("norm", s.evalNorm), changed("cell", s.evalCell)].includes(true)) {
      // Redrawn: the focused cell keeps the focus.
      const focused = /** @type {HTMLElement} */ (document.activeElement)?.dataset?.focus;
      $("confusion").replaceChildren(matrix(e, s.evalNorm, s.evalCell?.of === e ? s.evalCell : null));
      if (focused) $("confusion").querySelector(`[data-focus="${focused}"]`)?.focus();
    }
    if (changed("perClass", e)) {
      $("per-class").querySelector("tbody").replaceChildren(...e.perClass.map((c, i) => el("tr", {},
        el("td", {}, label(c.name, i)),
        el("td", {}, el("span", { class: "meter", style: { width: `${(c.accuracy ?? 0) * 5}rem` } }), pct(c.accuracy)),
        el("td", {}, num(c.count)))));
    }
    const cell = s.evalCell?.of === e ? s.evalCell : null;
    if (changed("gallery", cell ?? e)) {
      $("eval-back").hidden = !cell;
      const items = cell ? cell.images : e.mistakes;
      const count = cell ? e.confusion[cell.label][cell.predicted] : 0;
      $("gallery-title").textContent = cell
        ? t("eval.cellTitle", { label: e.classes[cell.label], predicted: e.classes[cell.predicted], count: num(count), shown: items.length < count ? items.length : null })
        : t("eval.mistakesTitle", { n: items.length });
      $("gallery").replaceChildren(...(items.length ? items.map((m) => tile(e, m)) : [el("p", { class: "muted" }, t(cell ? "eval.cellEmpty" : "eval.noMistakes"))]));
    }
  });
}
