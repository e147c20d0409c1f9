// Section 6, right: images to classify (dropped anywhere, pasted or picked) and the answers:
// thumbnail, top-5 bars, the times of the fused and the trained net.
import { api, loadCheckpoints } from "../actions.js";
import { $, el, guard, pct } from "../dom.js";
import { foreign, num, t } from "../i18n.js";
import { subscribe, tracker } from "../state.js";

const isCheckpoint = (f) => /\.(pth|pt|safetensors|ckpt)$/i.test(f.name);
const classifyAll = guard(async (files) => {
  for (const f of files) await api.classify(f).catch(() => {});
});
// Anything dropped on the page: checkpoints load, everything else is classified.
function dropped(files) {
  guard(loadCheckpoints)(files.filter(isCheckpoint));
  const images = files.filter((f) => !isCheckpoint(f));
  if (images.length) classifyAll(images);
}

function prediction(p) {
  const answer = p.error
    ? [el("div", { class: "error", lang: foreign(p.error) }, p.error)]
    : [
      ...p.result.top.map((top) => el("div", { class: "bar" },
        el("span", { title: top.label }, top.label),
        el("div", { style: { width: `${(top.probability * 150).toFixed(0)}px` } }),
        pct(top.probability))),
      el("div", { class: "model" },
        t("classify.times", { model: p.model ?? "", ms: num(p.result.ms, 1) }) +
          (p.result.topUnfused ? t("classify.unfused", { ms: num(p.result.msUnfused, 1), top1: p.result.topUnfused[0].label }) : "")),
    ];
  // Spaces between the parts, so the text reads (and copies) as words.
  const parts = [el("b", {}, p.name), ...answer].flatMap((part) => [part, " "]);
  return el("div", { class: "prediction" }, p.thumb ? el("img", { src: p.thumb, alt: "" }) : null, el("div", { class: "bars" }, parts));
}

export function mount() {
  $("classify-files").onchange = () => classifyAll([...$("classify-files").files]);
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    dropped([...e.dataTransfer.files]);
  });
  document.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length) dropped(files);
  });
  const changed = tracker();
  subscribe((s) => {
    if (changed("predictions", s.predictions)) $("predictions").replaceChildren(...s.predictions.map(prediction));
  });
}
