// Section 6, left: fusing the trained net or the moving average of its weights (the choice
// also says which the training-form export holds), only at lambda 1 (Rust says why not
// otherwise), and the trained-against-fused table.
import { api } from "../actions.js";
import { $, el, fmt, guard, pct } from "../dom.js";
import { num, t } from "../i18n.js";
import { subscribe, tracker, update } from "../state.js";

export function mount() {
  $("fuse").onclick = guard(() => api.fuse());
  $("finish-annealing").onclick = guard(() => api.finishAnnealing());
  $("fuse-weights").onchange = (e) => update({ fuseWeights: e.target.value });
  const changed = tracker();
  subscribe((s) => {
    const blocked = s.cannotFuse;
    const ready = s.model && s.step > 0 && !blocked && s.trainState !== "running";
    $("fuse").disabled = !ready;
    // The choice, while the run keeps an average (the average unless the trained net is picked).
    const ema = (s.options?.emaDecay ?? 0) > 0;
    $("fuse-weights-label").hidden = !ema;
    $("fuse-weights").value = ema ? s.fuseWeights ?? "ema" : "trained";
    $("finish-annealing").hidden = !(s.model && blocked && s.trainState !== "finished");
    $("fuse-why").textContent = !s.model
      ? t("fuse.trainFirst")
      : blocked
        ? t("fuse.blocked", { reason: blocked, lambda: num(s.nextLambda ?? 0, 3), epochs: s.options?.decayEpochs })
        : t(s.step === 0 ? "fuse.oneStep"
          : s.trainState === "running" ? "fuse.pauseFirst"
            : s.fuseReport ? "fuse.done"
              : s.options?.deepTraining === false ? "fuse.noDeep" : "fuse.ready");
    const r = s.fuseReport;
    $("fuse-table").hidden = !r;
    if (changed("report", r) && r) {
      const ms = (v) => t("fuse.ms", { ms: num(v, 1), images: num(r.images) });
      const rows = [
        [t("fuse.params"), fmt(r.params), fmt(r.paramsDeploy)],
        [t("fuse.convs"), r.convs, r.convsDeploy],
        [t("fuse.bns"), r.batchNorms, 0],
        [t("fuse.macs"), fmt(r.macs), fmt(r.macsDeploy)],
        [t("fuse.time"), ms(r.ms), ms(r.msDeploy)],
        [t("fuse.accuracy"), pct(r.accuracy), pct(r.accuracyDeploy)],
        [t("fuse.diff"), "", r.maxLogitDiff.toExponential(2)],
        // Reports saved before the choice existed do not say.
        ...(r.weights ? [[t("fuse.weightsRow"), t(`fuse.weights.${r.weights}`), t(`fuse.weights.${r.weights}`)]] : []),
      ];
      $("fuse-table").querySelector("tbody").replaceChildren(...rows.map((row) => el("tr", {}, row.map((c) => el("td", {}, String(c))))));
    }
  });
}
