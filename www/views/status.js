// The header: backend and adapter, the backend switch, and the messages.
import { api, startFresh, takeOver } from "../actions.js";
import { $, download, el, guard } from "../dom.js";
import { foreign, lang, setLanguage, t, time } from "../i18n.js";
import * as persist from "../persist.js";
import { KEYS } from "../records.js";
import { subscribe, tracker } from "../state.js";
import { applyUpdate } from "../update.js";

// A saved record set aside: what it is, when, why (in English, from the check), and buttons to
// download it (nothing of it is lost) or delete it.
function asideItem(a) {
  const what = KEYS.includes(a.key) ? t(`record.${a.key}`) : a.key;
  return el("li", {},
    el("span", {}, t("record.asideItem", { what, time: time(a.at) })), " ",
    el("span", { class: "detail", lang: "en" }, a.reason), " ",
    el("button", { type: "button", "aria-label": t("record.downloadLabel", { what }), onclick: guard(async () => download(await persist.asideFile(a.id), `vanillanet-${a.key}-${a.at}.json`)) }, t("record.download")), " ",
    el("button", { type: "button", "aria-label": t("record.deleteLabel", { what }), onclick: guard(async () => {
      if (confirm(t("record.confirmDelete", { what }))) await persist.discardAside(a.id);
    }) }, t("record.delete")));
}

export function mount() {
  $("backend-select").onchange = guard(() => api.setBackend($("backend-select").value));
  $("take-over").onclick = guard(() => takeOver());
  $("start-fresh").onclick = guard(() => startFresh());
  $("update-reload").onclick = guard(() => applyUpdate(api.whenSaved));
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
    $("update-ready").hidden = !s.updateReady;
    $("crash-loop").hidden = !s.crashLoop;
    if (s.crashLoop) $("crash-loop-text").textContent = t("recover.loop", { reason: s.crashLoop.reason });
    if (changed("aside", s.aside)) {
      $("aside").hidden = !s.aside.length;
      $("aside-list").replaceChildren(...s.aside.map(asideItem));
    }
    if (changed("messages", s.messages)) {
      // A message of the page is in its language; an engine's message (Rust, the browser) is
      // in English, and marked so.
      $("messages").replaceChildren(...s.messages.map((m) => el("div", { class: `msg ${m.kind}`, lang: foreign(m.text) },
        m.text, m.detail ? [afterText(m.text), el("span", { class: "detail", lang: "en" }, m.detail)] : null)));
    }
  });
}

// A message's detail reads on from its text: after a colon, or set off by one ("using the CPU:
// no WebGPU adapter was found", not "using the CPU no WebGPU ...").
const afterText = (text) => (/[:：]\s*$/.test(text) ? " " : ": ");
