// The header: backend and adapter, the backend switch, and the messages.
import { api, takeOver } from "../actions.js";
import { $, el, guard } from "../dom.js";
import { foreign, lang, setLanguage, t } from "../i18n.js";
import { subscribe, tracker } from "../state.js";

export function mount() {
  $("backend-select").onchange = guard(() => api.setBackend($("backend-select").value));
  $("take-over").onclick = guard(() => takeOver());
  $("language-select").value = lang;
  $("language-select").onchange = guard(async () => {
    await api.whenSaved();
    setLanguage($("language-select").value);
  });
  const changed = tracker();
  subscribe((s) => {
    if (changed("backend", `${s.backend} ${s.fallbackReason}`) && s.backend && ($("backend-select").value !== "auto" || s.fallbackReason)) {
      $("backend-select").value = s.backend;
    }
    $("backend-name").textContent = s.backend === "webgpu" ? "WebGPU"
      : s.backend === "cpu" ? t("backend.cpuThreads", { threads: s.build?.threads ?? 1 }) : t("backend.starting");
    $("backend-name").className = `pill ${s.backend ?? ""}`;
    const a = s.adapter;
    $("adapter").textContent = a
      ? `${a.vendor} · ${a.architecture}${a.description ? ` · ${a.description}` : ""}${a.isFallback ? ` · ${t("adapter.fallback")}` : ""}`
      : s.backend === "cpu" ? t(s.fallbackReason ? "adapter.cpuFallback" : s.webgpuAvailable ? "adapter.cpuChosen" : "adapter.none") : "";
    $("tab-owner").hidden = s.owner !== false;
    $("tab-owner-text").textContent = t(s.ownerLost ? "owner.lost" : "owner.other");
    if (changed("messages", s.messages)) {
      // A message of the page is in its language; an engine's message (Rust, the browser) is
      // in English, and marked so.
      $("messages").replaceChildren(...s.messages.map((m) => el("div", { class: `msg ${m.kind}`, lang: foreign(m.text) },
        m.text, m.detail ? [" ", el("span", { class: "detail", lang: "en" }, m.detail)] : null)));
    }
  });
}
