// The header: backend and adapter, the backend switch, and the messages.
import { api, takeOver } from "../actions.js";
import { $, el, guard } from "../dom.js";
import { subscribe, tracker } from "../state.js";

export function mount() {
  $("backend-select").onchange = guard(() => api.setBackend($("backend-select").value));
  $("take-over").onclick = guard(() => takeOver());
  const changed = tracker();
  subscribe((s) => {
    if (changed("backend", s.backend) && s.backend && ($("backend-select").value !== "auto" || s.fallbackReason)) {
      $("backend-select").value = s.backend;
    }
    $("backend-name").textContent = s.backend === "webgpu" ? "WebGPU" : s.backend === "cpu" ? "CPU (wasm)" : "starting…";
    $("backend-name").className = `pill ${s.backend ?? ""}`;
    const a = s.adapter;
    $("adapter").textContent = a
      ? `${a.vendor} · ${a.architecture}${a.description ? ` · ${a.description}` : ""}${a.isFallback ? " · fallback adapter" : ""}`
      : s.backend === "cpu" ? (s.fallbackReason ? "no WebGPU adapter: running on the CPU" : s.webgpuAvailable ? "CPU chosen; WebGPU can be tried" : "this browser has no WebGPU") : "";
    $("tab-owner").hidden = s.owner !== false;
    $("tab-owner-text").textContent = s.ownerLost
      ? "Another tab took this session over and saves it now: what you do here is no longer saved."
      : "This session is open in another tab, which saves it: what you do here is not saved.";
    if (changed("messages", s.messages)) {
      $("messages").replaceChildren(...s.messages.map((m) => el("div", { class: `msg ${m.kind}` }, m.text)));
    }
  });
}
