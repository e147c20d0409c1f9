// Section 6, left: fusing the trained net, only at lambda 1 (Rust says why not otherwise), and
// the trained-against-fused table.
import { api } from "../actions.js";
import { $, el, fmt, guard, pct } from "../dom.js";
import { subscribe, tracker } from "../state.js";

export function mount() {
  $("fuse").onclick = guard(() => api.fuse());
  $("finish-annealing").onclick = guard(() => api.finishAnnealing());
  const changed = tracker();
  subscribe((s) => {
    const blocked = s.cannotFuse;
    const ready = s.model && s.step > 0 && !blocked && s.trainState !== "running";
    $("fuse").disabled = !ready;
    $("finish-annealing").hidden = !(s.model && blocked && s.trainState !== "finished");
    $("fuse-why").textContent = !s.model
      ? "train a model first"
      : blocked
        ? `${blocked}. Deep training ends after ${s.options?.decayEpochs} epoch(s); or finish annealing with this epoch, then fuse.`
        : s.step === 0 ? "train at least one step first"
          : s.trainState === "running" ? "pause to fuse"
            : s.fuseReport ? "fused: drop images to classify"
              : s.options?.deepTraining === false ? "no deep training: the BatchNorms fold into the convs at any step" : "λ = 1: ready to fuse";
    const r = s.fuseReport;
    $("fuse-table").hidden = !r;
    if (changed("report", r) && r) {
      const ms = (v) => `${v.toFixed(1)} ms for ${r.images} images`;
      const rows = [
        ["parameters", fmt(r.params), fmt(r.paramsDeploy)],
        ["conv layers", r.convs, r.convsDeploy],
        ["BatchNorms", r.batchNorms, 0],
        ["MACs per image", fmt(r.macs), fmt(r.macsDeploy)],
        ["inference time", ms(r.ms), ms(r.msDeploy)],
        ["test accuracy", pct(r.accuracy), pct(r.accuracyDeploy)],
        ["largest logit difference", "", r.maxLogitDiff.toExponential(2)],
      ];
      $("fuse-table").querySelector("tbody").replaceChildren(...rows.map((row) => el("tr", {}, row.map((c) => el("td", {}, String(c))))));
    }
  });
}
