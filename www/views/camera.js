// The camera: choosing and starting it (section 1, with own images), recording into a class
// (the class cards' Hold to record buttons, see own.js), and live classification (section 6).
import { FACING, cameraApi as camera } from "../camera.js";
import { $, el, fillSelect, guard, pct } from "../dom.js";
import { num, t } from "../i18n.js";
import { get, subscribe, tracker } from "../state.js";

function showStream(video, stream) {
  if (video.srcObject === stream) return;
  video.srcObject = stream;
  if (stream) video.play().catch(() => {});
}

export function mount() {
  const select = $("camera-select");
  $("camera-start").onclick = guard(() => camera.start(select.value || undefined));
  $("camera-stop").onclick = () => camera.stop();
  $("live-toggle").onclick = guard(async () => {
    const c = get().camera;
    if (c.live) return camera.live(false);
    if (!c.running) await camera.start(select.value || undefined);
    return camera.live(true);
  });
  // Recording stops wherever the pointer or the key is let go (the card may be redrawn under it).
  for (const type of ["pointerup", "pointercancel", "blur"]) addEventListener(type, () => camera.stopRecording());
  addEventListener("keyup", (e) => (e.key === " " || e.key === "Enter") && camera.stopRecording());
  // Labels come with permission: list the cameras again once one has started.
  const listDevices = async () => {
    const devices = await camera.devices().catch(() => []);
    const values = ["", ...FACING, ...devices.map((d) => d.deviceId).filter(Boolean)];
    fillSelect(select, values, get().camera.deviceId ?? "");
    for (const option of select.options) {
      const device = devices.find((d) => d.deviceId === option.value);
      option.textContent = option.value === "" ? t("camera.default") : FACING.includes(option.value) ? t(`camera.${option.value}`) : device?.label ?? option.value;
    }
  };
  listDevices();
  navigator.mediaDevices?.addEventListener?.("devicechange", listDevices);
  const changed = tracker();
  subscribe((s) => {
    const c = s.camera;
    if (changed("running", c.running) && c.running) listDevices();
    $("camera-start").disabled = c.running;
    $("camera-stop").disabled = !c.running;
    $("camera-video").hidden = !c.running;
    showStream($("camera-video"), c.stream);
    showStream($("live-video"), c.live ? c.stream : null);
    $("camera-help").textContent = c.error
      ? c.error
      : c.running ? (c.recording !== null ? t("camera.recordingInto", { name: s.own.classes[c.recording]?.name ?? "" }) : t("camera.helpRunning"))
        : t("camera.help");
    $("camera-help").classList.toggle("error-text", Boolean(c.error));
    const toggle = $("live-toggle");
    toggle.disabled = !s.classifier && !c.live;
    toggle.setAttribute("aria-pressed", String(c.live));
    toggle.textContent = t(c.live ? "live.pause" : "live.start");
    $("live-view").hidden = !c.live && !c.top.length;
    $("live-rate").textContent = c.fps
      ? `${t("live.rate", { fps: num(c.fps, 1), ms: num(c.ms, 1) })}${c.live ? "" : ` ${t("live.paused")}`}`
      : s.classifier ? "" : t("live.needsClassifier");
    if (changed("top", c.top)) $("live-top").replaceChildren(...c.top.map((t) => el("li", {}, `${t.label} `, el("b", {}, pct(t.probability)))));
  });
}
