// Section 6, middle: bringing a checkpoint (progress, the variant or strides when the tensors
// can't tell), the classifier it makes, and exporting the classifier.
import { api } from "../actions.js";
import { $, download, el, fileStem, fmt, guard } from "../dom.js";
import { get, subscribe, tracker, update } from "../state.js";

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

function statusText(c) {
  const d = c.read?.detected;
  switch (c.phase) {
    case "reading": return `${c.name}: reading ${mb(c.loaded)} of ${mb(c.total)}`;
    case "parsing": return `${c.name}: reading the tensors…`;
    case "read": return `${c.name}: read`;
    case "fusing": return `${c.name}: building${d?.trainingForm ? " and fusing" : ""} the model…`;
    case "choose": return d
      ? `${c.name}: ${d.trainingForm ? "training" : "deploy"} form, widths ${d.dims.join("-")}, act_num ${d.actNum}, ${d.inChans} channels in, ${d.numClasses} classes. ${d.candidates.length ? "Several variants have these widths (strides and pooling have no tensors): pick one." : `No known variant has these widths: give the stride of each of its ${d.dims.length - 1} blocks.`}`
      : "";
    default: return "";
  }
}

/** Checkpoints dropped or picked: each loads in turn; failures are listed, not thrown. */
export const loadCheckpoints = guard(async (files) => {
  for (const f of files) await api.loadCheckpoint(f).catch(() => {});
});

export function mount() {
  $("checkpoint-file").onchange = () => loadCheckpoints([...$("checkpoint-file").files]);
  $("checkpoint-variant").onchange = () => update({});
  $("checkpoint-choice").onsubmit = guard(async (e) => {
    e.preventDefault();
    const variant = $("checkpoint-variant").value;
    const strides = $("checkpoint-strides").value.split(/[\s,]+/).filter(Boolean).map(Number);
    if (!variant && strides.some((v) => !Number.isInteger(v) || v < 1)) throw new Error("strides are whole numbers of at least 1, one per block, e.g. 2,2,2");
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
      $("checkpoint-variant").replaceChildren(...d.candidates.map((n) => el("option", { value: n }, n)), el("option", { value: "" }, "custom strides"));
      $("checkpoint-strides").value = Array(d.dims.length - 1).fill(2).join(",");
    }
    $("checkpoint-strides-label").hidden = $("checkpoint-variant").value !== "";
    if (changed("log", s.checkpointLog)) {
      $("checkpoint-log").replaceChildren(...s.checkpointLog.map((l) => el("li", { class: l.error ? "error" : "ok" }, `${l.name}: ${l.error ?? l.ok}`)));
    }
    const k = s.classifier;
    $("export-model").disabled = !k;
    $("export-onnx").disabled = !k || Boolean(k.cannotExportOnnx);
    $("export-onnx").title = k?.cannotExportOnnx ?? "the fused net as ONNX, to run with onnxruntime and other ONNX runtimes";
    $("classifier-info").textContent = k
      ? `${k.card.name}: ${fmt(k.paramsDeploy)} parameters, ${fmt(k.macsDeploy)} MACs, ${k.card.classes.length} classes; input ${k.card.preprocess.height}×${k.card.preprocess.width}×${k.card.preprocess.channels}, ${k.card.preprocess.resize.kind === "shortSideCrop" ? "resized and centre-cropped as the official evaluation (ImageNet mean/std)" : "centre-cropped and resized like the training images"}`
      : "none yet: fuse a trained net or bring a checkpoint";
  });
}

