// Section 2: the training options (the form the options table reads), the model's sizes, the
// run buttons and the progress.
import { api, applyFormOptions, formProblem, refreshSchedule, setForm } from "../actions.js";
import { $, download, el, enable, eta, fieldLabel, fileStem, fillSelect, fmt, guard, pct } from "../dom.js";
import { num, t } from "../i18n.js";
import { get, message, subscribe, tracker } from "../state.js";

export function mount() {
  const form = $("options");
  // Rust checks the options (the same check the API and the CLI make); its reason shows beside
  // the field, and nothing is applied while one is out of range.
  let checks = 0;
  const checkForm = async () => {
    const mine = ++checks;
    const problem = await formProblem();
    // Typing starts a check per key: only the latest one shows.
    if (mine !== checks) return !problem;
    for (const old of form.querySelectorAll(".field-error")) old.remove();
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    if (!problem) return true;
    const field = form.elements[problem.field];
    field?.setAttribute("aria-invalid", "true");
    // The reason comes from Rust, in English.
    (field?.closest("label") ?? form).append(el("small", { class: "field-error", role: "alert", lang: "en" }, problem.message));
    return false;
  };
  form.addEventListener("input", () => checkForm());
  form.addEventListener("change", async (e) => {
    if (!(await checkForm())) return;
    refreshSchedule();
    if (!get().model) return;
    try {
      await applyFormOptions();
      message(t("opt.changed", { name: fieldLabel(form, e.target.name) }), "info");
    } catch (err) {
      message(err.message);
    }
  });
  $("train").onclick = guard(async () => {
    if (get().trainState === "finished" && !confirm(t("train.confirmAgain"))) return;
    await api.train();
  });
  $("pause").onclick = guard(() => api.pause());
  $("resume").onclick = guard(() => api.resume());
  $("step").onclick = guard(() => api.step());
  $("reset").onclick = guard(async () => {
    if (get().step > 0 && !confirm(t("train.confirmReset"))) return;
    await api.reset();
  });
  $("copy-link").onclick = guard(async () => {
    const link = api.shareLink();
    await navigator.clipboard.writeText(link);
    message(t("train.linkCopied", { link }), "info");
  });
  $("export-training").onclick = guard(async () => {
    const blob = await api.exportTraining();
    download(blob, `${fileStem(`${get().options.preset}-${get().datasetName}`)}-training.safetensors`);
  });

  const changed = tracker();
  subscribe((s) => {
    // The presets that fit the data, from Rust; the default preset first when it fits.
    if (form.elements.preset) fillSelect(form.elements.preset, s.dataset?.presets ?? [], s.options?.preset ?? s.defaults?.options.preset);
    // Options the worker set (a restored model, new options) shown in the form.
    if (changed("formFill", s.formFill) && s.formFill) setForm(s.formFill);
    const m = s.model;
    $("model-info").textContent = m
      ? t("model.info", {
        dims: m.config.dims.join("-"), strides: m.config.strides.join(","), params: fmt(m.params), macs: fmt(m.macs),
        paramsDeploy: fmt(m.paramsDeploy), macsDeploy: fmt(m.macsDeploy),
      })
      : t("model.notBuilt");
    const frac = s.totalSteps ? s.step / s.totalSteps : 0;
    $("progress-bar").style.width = `${(frac * 100).toFixed(1)}%`;
    $("progress-text").textContent = s.step
      ? t("train.progress", {
        state: t(`state.${s.trainState}`), epoch: Math.min(s.epoch + 1, s.options?.epochs ?? 1), epochs: s.options?.epochs ?? "?",
        step: num(s.step), total: num(s.totalSteps), loss: num(s.loss, 4), train: pct(s.recentTrainAccuracy), test: pct(s.testAccuracy), validation: s.validation ? pct(s.validation.accuracy) : null,
        rate: s.imagesPerSec ? num(Math.round(s.imagesPerSec)) : null, eta: eta(s.etaSeconds, s.trainState === "finished"),
      })
      : t(`state.${s.trainState}`);
    const running = s.trainState === "running";
    enable([
      ["train", !running && s.dataset], ["pause", running && s.dataset], ["resume", s.trainState === "paused" && s.dataset],
      ["step", !running && s.trainState !== "finished" && s.dataset], ["export-training", m && s.step > 0 && !running],
    ]);
  });
}
