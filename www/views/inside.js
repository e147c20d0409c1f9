// Inside the net: the decay charts beside lambda's timeline (distance from linear and share of
// negative inputs, a line per block), what each layer sees (the feature maps after a chosen
// block for a chosen image, updated as training runs) and the fusion of a chosen part drawn as
// matrices. The work is bounded: one request at a time, feature maps at most every MAPS_EVERY
// steps and the fusion every FUSION_EVERY steps while their view is open, a bounded number of
// tiles.
import { api } from "../actions.js";
import { $, el, fmt, guard } from "../dom.js";
import { num, t } from "../i18n.js";
import { EMPTY_DECAY, featureMaps, fusion, partName, refreshDecay, setChartReader } from "../inside.js";
import { get, message, subscribe, tracker } from "../state.js";
import { STEP_TICKS } from "../chart.js";

/** Steps between two refreshes of an open view while training runs. */
export const MAPS_EVERY = 25;
export const FUSION_EVERY = 50;
const TILES = 16;
/** Kernels of the series activation drawn as tiles (the first channels). */
const KERNEL_TILES = 16;
const COLORS = ["#d9480f", "#1c7ed6", "#2b8a3e", "#862e9c", "#c2255c", "#5c940d", "#0b7285", "#e67700", "#495057"];

// ---- drawing ---------------------------------------------------------------------------------
/** Blue for negative, white for 0, red for positive, scaled by `max` (|value| at full colour). */
function paint(canvas, values, rows, cols, max) {
  canvas.width = cols;
  canvas.height = rows;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(cols, rows);
  const scale = max > 0 && Number.isFinite(max) ? max : 1;
  for (let i = 0; i < rows * cols; i++) {
    const v = Math.max(-1, Math.min(1, values[i] / scale));
    const [r, g, b] = v >= 0 ? [255, 255 * (1 - v), 255 * (1 - v)] : [255 * (1 + v), 255 * (1 + v), 255];
    img.data.set([r, g, b, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

const extent = (values) => {
  let [min, max] = [Infinity, -Infinity];
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return values.length ? [min, max] : [0, 0];
};
const maxAbs = (values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** A heat map of a matrix as a figure: the canvas (described in words) and its caption. */
function heatmap(title, m, max = maxAbs(m.values), cls = "heat") {
  const canvas = el("canvas", { class: cls, role: "img" });
  paint(canvas, m.values, m.rows, m.cols, max);
  const [lo, hi] = extent(m.values);
  canvas.setAttribute("aria-label", t("inside.matrixLabel", { name: title, rows: m.rows, cols: m.cols, min: num(lo, 3), max: num(hi, 3) }));
  return el("figure", { class: "matrix" }, canvas, el("figcaption", {}, title, " ", el("span", { class: "muted" }, `${m.rows} × ${m.cols}`)));
}

// ---- the decay charts ------------------------------------------------------------------------
function decayCharts() {
  const made = { names: null, distance: null, negative: null };
  const make = (id, names, range) => {
    const target = $(id);
    target.replaceChildren();
    return new uPlot({
      width: target.clientWidth || 360, height: 200, legend: { show: true },
      scales: { x: { time: false }, y: { range } },
      axes: [{ label: t("chart.step"), incrs: STEP_TICKS }, {}],
      series: [{ label: t("chart.step") }, ...names.map((n, i) => ({ label: partName(n), stroke: COLORS[i % COLORS.length], width: 2 }))],
    }, [[], ...names.map(() => [])], target);
  };
  for (const id of ["decay-chart", "negative-chart"]) {
    const target = $(id);
    new ResizeObserver(() => {
      const plot = id === "decay-chart" ? made.distance : made.negative;
      const width = target.clientWidth;
      if (plot && width && Math.abs(width - plot.width) > 1) plot.setSize({ width, height: 200 });
    }).observe(target);
  }
  setChartReader(() => made.distance && {
    steps: [...made.distance.data[0]],
    distance: made.distance.data.slice(1).map((s) => [...s]),
    negativeShare: made.negative.data.slice(1).map((s) => [...s]),
  });
  return (decay) => {
    const names = decay.blocks.map((b) => b.name);
    const key = names.join("|");
    if (made.names !== key) {
      made.distance?.destroy();
      made.negative?.destroy();
      made.names = key;
      made.distance = make("decay-chart", names, [0, 1.02]);
      made.negative = make("negative-chart", names, [0, 1.02]);
    }
    made.distance.setData([decay.steps, ...decay.blocks.map((b) => b.distance)]);
    made.negative.setData([decay.steps, ...decay.blocks.map((b) => b.negativeShare)]);
    return made;
  };
}

// ---- what each layer sees --------------------------------------------------------------------
function mapsView() {
  /** @type {{kind: "test", index: number} | {kind: "file", blob: Blob, name: string}} */
  let source = { kind: "test", index: 0 };
  let busy = false;
  let again = false;
  let shownStep = -1;
  let thumb = null;

  const setThumb = (blob) => {
    if (thumb) URL.revokeObjectURL(thumb);
    thumb = blob ? URL.createObjectURL(blob) : null;
    $("maps-thumb").hidden = !thumb;
    if (thumb) $("maps-thumb").src = thumb;
  };
  const sourceText = () => (source.kind === "test" ? t("inside.testImage", { n: num(source.index) }) : t("inside.ownImage", { name: source.name }));

  function draw(maps) {
    const max = maps.tiles.reduce((m, tile) => Math.max(m, maxAbs(tile.values)), 0);
    const tiles = maps.tiles.map((tile) => {
      const canvas = el("canvas", { class: "tile", role: "img" });
      paint(canvas, tile.values, maps.height, maps.width, max);
      const [lo, hi] = extent(tile.values);
      canvas.setAttribute("aria-label", t("inside.tileLabel", { c: tile.channel, min: num(lo, 3), max: num(hi, 3) }));
      return el("figure", { class: "tile" }, canvas, el("figcaption", {}, t("inside.channel", { c: tile.channel })));
    });
    $("maps-tiles").replaceChildren(...tiles);
    const parts = [t("inside.mapsSummary", {
      name: partName(maps.name), channels: maps.channels, h: maps.height, w: maps.width, shown: maps.tiles.length, fused: maps.fused, image: sourceText(),
    })];
    if (maps.maxDiff !== null && maps.maxDiff !== undefined) parts.push(t("inside.mapsDiff", { d: maps.maxDiff.toExponential(2) }));
    $("maps-summary").textContent = parts.join(" ");
  }

  /** Asks for the maps now (or once the request in flight is done). */
  async function refresh() {
    const s = get();
    if (!s.model || !$("maps-view").open) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      const block = Number($("maps-block").value);
      const fused = $("maps-fused").checked && !$("maps-fused").disabled;
      const image = source.kind === "test" ? source.index : source.blob;
      shownStep = s.step;
      draw(await featureMaps(image, block, { fused, tiles: TILES }));
    } catch (e) {
      $("maps-tiles").replaceChildren();
      $("maps-summary").textContent = t("inside.failed", { reason: e.message });
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  $("maps-index").onchange = guard(async () => {
    const d = get().dataset;
    const n = Number($("maps-index").value);
    const index = Number.isInteger(n) && n >= 0 && d && n < d.test ? n : 0;
    $("maps-index").value = String(index);
    source = { kind: "test", index };
    setThumb(d ? await api.testImage(index) : null);
    $("maps-source-text").textContent = sourceText();
    refresh();
  });
  $("maps-file").onchange = guard(async () => {
    const file = $("maps-file").files[0];
    $("maps-file").value = "";
    if (!file) return;
    source = { kind: "file", blob: file, name: file.name };
    setThumb(file);
    $("maps-source-text").textContent = sourceText();
    refresh();
  });
  $("maps-use-test").onclick = () => $("maps-index").onchange();
  $("maps-block").oninput = () => {
    $("maps-block-name").textContent = partName(Number($("maps-block").value) === 0 ? "stem" : `stages.${Number($("maps-block").value) - 1}`);
    refresh();
  };
  $("maps-fused").onchange = () => refresh();
  $("maps-view").addEventListener("toggle", () => refresh());

  const changed = tracker();
  return (s) => {
    const blocks = s.model?.config.strides.length ?? 0;
    if (changed("blocks", blocks)) {
      $("maps-block").max = String(blocks);
      if (Number($("maps-block").value) > blocks) $("maps-block").value = "0";
      $("maps-block").oninput();
    }
    const canFuse = s.classifier?.origin === "trainer";
    if (changed("canFuse", canFuse)) {
      $("maps-fused").disabled = !canFuse;
      // Once fused, the view shows the fused net's maps (and how far they are from the trained net's).
      $("maps-fused").checked = canFuse;
      if (s.model) refresh();
    }
    if (changed("dataset", s.dataset) && s.dataset) {
      $("maps-index").max = String(Math.max(0, s.dataset.test - 1));
      if (source.kind === "test") $("maps-index").onchange();
    }
    if (changed("model", s.model)) {
      if (!s.model) {
        $("maps-tiles").replaceChildren();
        $("maps-summary").textContent = t("inside.mapsNone");
        shownStep = -1;
      } else refresh();
    }
    const running = s.trainState === "running";
    if (s.model && (!running || s.step - shownStep >= MAPS_EVERY) && s.step !== shownStep && changed("mapsStep", s.step)) refresh();
  };
}

// ---- the fusion, drawn -----------------------------------------------------------------------
function fusionView() {
  let busy = false;
  let again = false;
  let shownStep = -1;

  function draw(v) {
    const figures = [];
    const name = partName(v.name);
    figures.push(heatmap(t("inside.conv1"), v.conv1.folded));
    if (v.conv2) {
      figures.push(el("span", { class: "op", "aria-hidden": "true" }, "→"));
      figures.push(heatmap(t("inside.conv2"), v.conv2.folded));
      figures.push(el("span", { class: "op", "aria-hidden": "true" }, "="));
    }
    figures.push(heatmap(t(v.identityAdded ? "inside.fusedConvIdentity" : "inside.fusedConv"), v.fused));
    const body = [el("div", { class: "matrices" }, ...figures)];
    if (v.act) {
      const shown = Math.min(KERNEL_TILES, v.act.folded.rows);
      const k = Math.round(Math.sqrt(v.act.folded.cols));
      const max = maxAbs(v.act.folded.values.subarray(0, shown * v.act.folded.cols));
      const kernels = Array.from({ length: shown }, (_, c) => heatmap(
        t("inside.channel", { c }),
        { rows: k, cols: k, values: v.act.folded.values.subarray(c * k * k, (c + 1) * k * k) },
        max, "tile",
      ));
      body.push(el("h3", {}, t("inside.actKernels", { shown, channels: v.act.folded.rows, k })), el("div", { class: "tiles" }, ...kernels));
    }
    $("fusion-body").replaceChildren(...body);
    const range = (f) => extent(f.scale).map((x) => num(x, 3)).join("–");
    const lines = [
      [t("inside.fusionSummary", { name }), " ", el("code", { lang: "en" }, `${v.fusedKey}.weight`)],
      v.exact ? t("inside.exact") : t("inside.notExact", { lambda: num(v.lambda, 3) }),
      v.conv2 ? t("inside.scales", { a: range(v.conv1), b: v.conv2.batchNorm ? range(v.conv2) : t("inside.noBn") }) : t("inside.noSecond"),
      t("inside.counts", { pb: fmt(v.paramsBefore), pa: fmt(v.paramsAfter), mb: fmt(v.macsBefore), ma: fmt(v.macsAfter) }),
    ];
    $("fusion-summary").replaceChildren(...lines.flatMap((l, i) => (i ? [el("br"), l] : [l])).flat());
  }

  async function refresh() {
    const s = get();
    if (!s.model || !$("fusion-view").open) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      shownStep = s.step;
      draw(await fusion(Number($("fusion-part").value)));
    } catch (e) {
      $("fusion-body").replaceChildren();
      $("fusion-summary").textContent = t("inside.failed", { reason: e.message });
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }
  $("fusion-part").onchange = () => refresh();
  $("fusion-view").addEventListener("toggle", () => refresh());

  const changed = tracker();
  return (s) => {
    const blocks = s.model?.config.strides.length ?? 0;
    if (changed("blocks", blocks)) {
      const names = ["stem", ...Array.from({ length: blocks }, (_, i) => `stages.${i}`), "head"];
      $("fusion-part").replaceChildren(...names.map((n, i) => el("option", { value: String(i) }, partName(n))));
      $("fusion-part").value = blocks ? "1" : "0";
    }
    if (changed("model", s.model)) {
      if (!s.model) {
        $("fusion-body").replaceChildren();
        $("fusion-summary").textContent = t("inside.fusionNone");
        shownStep = -1;
      } else refresh();
    }
    const running = s.trainState === "running";
    if (s.model && (!running || s.step - shownStep >= FUSION_EVERY) && s.step !== shownStep && changed("fusionStep", s.step)) refresh();
  };
}

export function mount() {
  const drawDecay = decayCharts();
  const maps = mapsView();
  const fused = fusionView();
  $("maps-summary").textContent = t("inside.mapsNone");
  $("fusion-summary").textContent = t("inside.fusionNone");
  const changed = tracker();
  subscribe((s) => {
    // A new, restored or dropped model: its decay series from the worker.
    if (changed("model", s.model)) refreshDecay().catch((e) => message(e.message));
    const decay = s.insideDecay ?? EMPTY_DECAY;
    if (changed("decay", decay)) drawDecay(decay);
    maps(s);
    fused(s);
  });
}
