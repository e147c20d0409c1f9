// Section 6, middle: bringing a checkpoint (progress, the variant or strides when the tensors
// can't tell), the classifier it makes, and exporting the classifier.
import { api, loadCheckpoints } from "../actions.js";
import { $, download, el, fileStem, fmt, guard } from "../dom.js";
import { num, t } from "../i18n.js";
import { get, subscribe, tracker, update } from "../state.js";

const mb = (n) => t("mb", { n: num(n / 1e6, 1) });

function statusText(c) {
  const d = c.read?.detected;
  switch (c.phase) {
    case "reading": return t("checkpoint.reading", { name: c.name, loaded: mb(c.loaded), total: mb(c.total) });
    case "parsing": return t("checkpoint.parsing", { name: c.name });
    case "read": return t("checkpoint.read", { name: c.name });
    case "fusing": return t("checkpoint.building", { name: c.name, fusing: d?.trainingForm });
    case "choose": return d
      ? `${t("checkpoint.detected", { name: c.name, training: d.trainingForm, dims: d.dims.join("-"), actNum: d.actNum, inChans: d.inChans, classes: num(d.numClasses) })} ${d.candidates.length ? t("checkpoint.pickVariant") : t("checkpoint.giveStrides", { n: d.dims.length - 1 })}`
      : "";
    default: return "";
  }
}

export function mount() {
  $("checkpoint-file").onchange = guard(() => loadCheckpoints([...$("checkpoint-file").files]));
  $("checkpoint-variant").onchange = () => update({});
  $("checkpoint-choice").onsubmit = guard(async (e) => {
    e.preventDefault();
    const variant = $("checkpoint-variant").value;
    const strides = $("checkpoint-strides").value.split(/[\s,]+/).filter(Boolean).map(Number);
    if (!variant && strides.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(t("checkpoint.badStrides"));
    await api.useCheckpoint(variant ? { variant } : { strides });
  });
  $("export-model").onclick = guard(async () => {
    const { safetensors, json, name } = await api.exportModel();
    download(safetensors, `${name}.safetensors`);
    download(json, `${name}.json`);
  });
  $("export-onnx").onclick = guard(async () => {
    download(await api.exportOnnx(), `${fileStem(get().classifier.card.name)}.onnx`);
  });

  const changed = tracker();
  subscribe((s) => {
    const c = s.checkpoint;
    $("checkpoint-progress").hidden = c?.phase !== "reading";
    if (c?.phase === "reading") $("checkpoint-progress").firstElementChild.style.width = `${((100 * c.loaded) / Math.max(1, c.total)).toFixed(1)}%`;
    $("checkpoint-status").hidden = !c;
    if (c) $("checkpoint-status").textContent = statusText(c);
    const choose = c?.phase === "choose" && c.read?.detected;
    $("checkpoint-choice").hidden = !choose;
    if (choose && changed("choice", c.read)) {
      const d = c.read.detected;
      $("checkpoint-variant").replaceChildren(...d.candidates.map((n) => el("option", { value: n }, n)), el("option", { value: "" }, t("checkpoint.custom")));
      $("checkpoint-strides").value = Array(d.dims.length - 1).fill(2).join(",");
    }
    $("checkpoint-strides-label").hidden = $("checkpoint-variant").value !== "";
    if (changed("log", s.checkpointLog)) {
      $("checkpoint-log").replaceChildren(...s.checkpointLog.map((l) => el("li", { class: l.error ? "error" : "ok" }, `${l.name}: ${l.error ?? l.ok}`)));
    }
    const k = s.classifier;
    $("export-model").disabled = !k;
    $("export-onnx").disabled = !k || Boolean(k.cannotExportOnnx);
    $("export-onnx").title = k?.cannotExportOnnx ?? t("classifier.onnxTitle");
    const p = k?.card.preprocess;
    $("classifier-info").textContent = k
      ? t("classifier.info", {
        name: k.card.name, params: fmt(k.paramsDeploy), macs: fmt(k.macsDeploy), classes: num(k.card.classes.length),
        size: `${p.height}×${p.width}×${p.channels}`, official: p.resize.kind === "shortSideCrop",
      })
      : t("classifier.none");
  });
}

