// The camera: choosing and starting it (section 1, with own images), recording into a class
// (the class cards' Hold to record buttons, see own.js), and live classification (section 6).
import { FACING, cameraApi as camera } from "../camera.js";
import { $, el, fillSelect, guard, pct } from "../dom.js";
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
    const values = ["", ...Object.keys(FACING), ...devices.map((d) => d.deviceId).filter(Boolean)];
    fillSelect(select, values, get().camera.deviceId ?? "");
    for (const option of select.options) {
      const device = devices.find((d) => d.deviceId === option.value);
      option.textContent = option.value === "" ? "default camera" : FACING[option.value] ?? device?.label ?? option.value;
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
      : c.running ? (c.recording !== null ? `recording into ${s.own.classes[c.recording]?.name ?? "a class"}…` : "Hold a class's Hold to record button (mouse, finger, or Space) to add frames to it.")
        : "Start the camera, then hold a class's Hold to record button to add frames to it.";
    $("camera-help").classList.toggle("error-text", Boolean(c.error));
    const toggle = $("live-toggle");
    toggle.disabled = !s.classifier && !c.live;
    toggle.setAttribute("aria-pressed", String(c.live));
    toggle.textContent = c.live ? "Pause live classification" : "Classify the camera live";
    $("live-view").hidden = !c.live && !c.top.length;
    $("live-rate").textContent = c.fps ? `${c.fps.toFixed(1)} frames/s · ${c.ms.toFixed(1)} ms per frame${c.live ? "" : " (paused)"}` : s.classifier ? "" : "needs a classifier";
    if (changed("top", c.top)) $("live-top").replaceChildren(...c.top.map((t) => el("li", {}, `${t.label} `, el("b", {}, pct(t.probability)))));
  });
}
