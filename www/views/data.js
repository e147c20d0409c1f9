// Section 1: the choice of data, its summary and sample thumbnails (a column per class).
import { api } from "../actions.js";
import { $, guard, keepModel } from "../dom.js";
import { num, t } from "../i18n.js";
import { get, subscribe, tracker } from "../state.js";


function drawSamples(d, samples) {
  const canvas = $("samples");
  const scale = Math.max(1, Math.floor(56 / d.height));
  const cell = d.width * scale + 4;
  const rows = 3;
  canvas.width = Math.max(cell * d.classes.length, 100);
  canvas.height = cell * rows + 16;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const img = ctx.createImageData(d.width, d.height);
  const plane = d.width * d.height;
  const seen = new Array(d.classes.length).fill(0);
  const tmp = new OffscreenCanvas(d.width, d.height);
  const tctx = tmp.getContext("2d");
  samples.labels.forEach((label, i) => {
    if (seen[label] >= rows) return;
    const px = samples.pixels.subarray(i * plane * d.channels, (i + 1) * plane * d.channels);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) img.data[p * 4 + c] = px[(d.channels === 3 ? c : 0) * plane + p];
      img.data[p * 4 + 3] = 255;
    }
    tctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tmp, label * cell, seen[label] * cell, d.width * scale, d.height * scale);
    seen[label]++;
  });
  ctx.fillStyle = "#444";
  ctx.font = "11px system-ui";
  // Canvas text is drawn, never parsed: class names are safe here.
  d.classes.forEach((name, l) => ctx.fillText(name.slice(0, 10), l * cell, rows * cell + 11));
}

export function mount() {
  for (const radio of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="dataset"]'))) {
    radio.onchange = guard(async () => {
      $("own").hidden = radio.value !== "own";
      if (radio.value === "own") return;
      if (keepModel()) {
        const name = get().datasetName ?? "fashion-mnist";
        /** @type {HTMLInputElement} */ (document.querySelector(`input[name="dataset"][value="${name}"]`)).checked = true;
        $("own").hidden = name !== "own";
        return;
      }
      await api.loadDataset(radio.value);
    });
  }
  const changed = tracker();
  subscribe((s) => {
    if (changed("name", s.datasetName) && s.datasetName) {
      for (const radio of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name="dataset"]'))) radio.checked = radio.value === s.datasetName;
      $("own").hidden = s.datasetName !== "own";
    }
    const d = s.dataset;
    $("data-summary").textContent = d
      ? t("data.summary", { name: d.name, train: num(d.train), test: num(d.test), size: `${d.height}×${d.width}×${d.channels}`, classes: num(d.classes.length) })
      : t("data.none");
    if (changed("samples", s.samples) && s.samples) drawSamples(d, s.samples);
  });
}
