// Section 2: the training options (the form the options table reads), the model's sizes, the
// run buttons and the progress.
import { api, refreshSchedule, formOptions } from "../actions.js";
import { call } from "../client.js";
import { $, download, el, enable, eta, fileStem, fillSelect, fmt, guard, pct } from "../dom.js";
import { get, message, subscribe } from "../state.js";

export function mount() {
  const form = $("options");
  // Rust checks the options (the same check the API and the CLI make); its reason shows beside
  // the field, and nothing is applied while one is out of range.
  let checks = 0;
  const checkForm = async () => {
    const mine = ++checks;
    const problem = get().dataset ? await call("checkOptions", { options: formOptions() }).catch(() => null) : null;
    // Typing starts a check per key: only the latest one shows.
    if (mine !== checks) return !problem;
    for (const old of form.querySelectorAll(".field-error")) old.remove();
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    if (!problem) return true;
    const field = form.elements[problem.field];
    field?.setAttribute("aria-invalid", "true");
    (field?.closest("label") ?? form).append(el("small", { class: "field-error", role: "alert" }, problem.message));
    return false;
  };
  form.addEventListener("input", () => checkForm());
  form.addEventListener("change", async (e) => {
    if (!(await checkForm())) return;
    refreshSchedule();
    if (!get().model) return;
    try {
      await call("setOptions", { options: formOptions() });
      message(`${e.target.name} changed: applies from the next step, weights kept`, "info");
    } catch (err) {
      message(err.message);
    }
  });
  $("train").onclick = guard(async () => {
    if (get().trainState === "finished" && !confirm("Training again starts a new model: discard the trained weights and charts?")) return;
    await api.train();
  });
  $("pause").onclick = guard(() => api.pause());
  $("resume").onclick = guard(() => api.resume());
  $("step").onclick = guard(() => api.step());
  $("reset").onclick = guard(async () => {
    if (get().step > 0 && !confirm("Reset discards the trained weights and the charts. Reset?")) return;
    await api.reset();
  });
  $("copy-link").onclick = guard(async () => {
    const link = api.shareLink();
    await navigator.clipboard.writeText(link);
    message(`link copied: ${link}`, "info");
  });
  $("export-training").onclick = guard(async () => {
    const blob = await api.exportTraining();
    download(blob, `${fileStem(`${get().options.preset}-${get().datasetName}`)}-training.safetensors`);
  });

  subscribe((s) => {
    // The presets that fit the data, from Rust; the default preset first when it fits.
    fillSelect(form.elements.preset, s.dataset?.presets ?? [], s.options?.preset ?? s.defaults?.options.preset);
    const m = s.model;
    $("model-info").textContent = m
      ? `${m.config.dims.join("-")} (strides ${m.config.strides.join(",")}): ${fmt(m.params)} parameters, ${fmt(m.macs)} MACs per image; after fusion ${fmt(m.paramsDeploy)} / ${fmt(m.macsDeploy)}`
      : "the model is built when you press Train";
    const frac = s.totalSteps ? s.step / s.totalSteps : 0;
    $("progress-bar").style.width = `${(frac * 100).toFixed(1)}%`;
    $("progress-text").textContent = s.step
      ? `${s.trainState} · epoch ${Math.min(s.epoch + 1, s.options?.epochs ?? 1)}/${s.options?.epochs ?? "?"} · step ${s.step}/${s.totalSteps} · loss ${s.loss.toFixed(4)} · train ${pct(s.trainAccuracy)} · test ${pct(s.testAccuracy)}${s.imagesPerSec ? ` · ${Math.round(s.imagesPerSec)} images/s` : ""} · ETA ${eta(s.etaSeconds, s.trainState === "finished")}`
      : s.trainState;
    const running = s.trainState === "running";
    enable([
      ["train", !running && s.dataset], ["pause", running && s.dataset], ["resume", s.trainState === "paused" && s.dataset],
      ["step", !running && s.trainState !== "finished" && s.dataset], ["export-training", m && s.step > 0 && !running],
    ]);
  });
}
