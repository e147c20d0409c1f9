// The camera as a data source and as live input for the classifier: `vanillanet.camera`. Frames
// are taken as PNG files and go through the very path dropped images take (the wasm decoder,
// then the same crop and resize), so a recorded class is what dropping those frames would give.
import { api, ownClassIndex } from "./actions.js";
import * as check from "./checks.js";
import { call } from "./client.js";
import { t } from "./i18n.js";
import { get, message, update } from "./state.js";

/** Milliseconds between recorded frames (about 6 a second). */
const FRAME_MS = 160;
/** Cameras by the way they face (phones and tablets). */
export const FACING = ["user", "environment"];

let stream = null;
const video = Object.assign(document.createElement("video"), { muted: true, playsInline: true });
let frameCount = 0;
let liveRun = 0;

const camera = () => get().camera;
const set = (patch) => update({ camera: { ...camera(), ...patch } });

function explain(e) {
  switch (e?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return t("camera.denied");
    case "NotFoundError":
      return t("camera.notFound");
    case "OverconstrainedError":
      return t("camera.unavailable");
    case "NotReadableError":
    case "AbortError":
      return t("camera.busy");
    default:
      return t("camera.failed", { reason: e?.message ?? e });
  }
}

/** The cameras there are: `[{deviceId, label}]` (labels once the page may use the camera). */
async function devices() {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const all = await navigator.mediaDevices.enumerateDevices();
  return all.filter((d) => d.kind === "videoinput")
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || t("camera.device", { n: i + 1 }) }));
}

/** Starts a camera: a device id from `devices()`, "user" (front) or "environment" (back), or
 * the browser's choice. A failure says why and leaves the rest of the page as it was. */
async function start(deviceId) {
  if (deviceId !== null) check.optional(check.string)("deviceId", deviceId, 1000);
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error(t("camera.noApi"));
  }
  stop();
  const choice = FACING.includes(deviceId) ? { facingMode: { ideal: deviceId } } : deviceId ? { deviceId: { exact: deviceId } } : {};
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { ...choice, width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (e) {
    set({ running: false, error: explain(e) });
    throw new Error(explain(e));
  }
  const track = stream.getVideoTracks()[0];
  track.addEventListener("ended", () => {
    if (stream?.getVideoTracks()[0] !== track) return;
    stop();
    message(t("camera.ended"));
  });
  video.srcObject = stream;
  await video.play();
  set({ running: true, stream, deviceId: track.getSettings().deviceId ?? deviceId ?? null, error: null, devices: await devices() });
  return status();
}

function stop() {
  liveRun++;
  for (const t of stream?.getTracks() ?? []) t.stop();
  stream = null;
  video.srcObject = null;
  set({ running: false, stream: null, live: false, recording: null });
  return status();
}

function requireRunning() {
  if (!stream) throw new Error(t("camera.startFirst"));
}

/** Shorter side of a frame, live or recorded: enough for the nets here (224 after the
 * official 256 resize; own images are at most 64 px), and a fraction of the encoding and
 * decoding a full camera frame costs (a 24-megapixel camera would record below 1 frame/s). */
export const FRAME_SIDE = 256;

/** The current frame as a PNG file, scaled down to `FRAME_SIDE` on its shorter side. */
async function frame(shorterSide = FRAME_SIDE) {
  requireRunning();
  const [w, h] = [video.videoWidth || 640, video.videoHeight || 480];
  const scale = Math.min(1, shorterSide / Math.min(w, h));
  const canvas = new OffscreenCanvas(Math.round(w * scale), Math.round(h * scale));
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  const blob = await canvas.convertToBlob({ type: "image/png" });
  return new File([blob], `camera frame ${++frameCount}.png`, { type: "image/png" });
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** Records `frames` frames into own class `classIndex`, as if dropped there: the class. */
async function capture(classIndex, frames = 1) {
  ownClassIndex(classIndex);
  check.integer("frames", frames, 1, 10_000);
  requireRunning();
  let summary = null;
  for (let i = 0; i < frames && stream; i++) {
    const t0 = performance.now();
    summary = await api.own.addFiles(classIndex, [await frame()]);
    await pause(Math.max(0, FRAME_MS - (performance.now() - t0)));
  }
  return summary;
}

/** Records into a class for as long as a button is held: until `stopRecording()`. */
async function startRecording(classIndex) {
  ownClassIndex(classIndex);
  requireRunning();
  if (camera().recording !== null) return;
  set({ recording: classIndex });
  try {
    while (camera().recording === classIndex && stream) await capture(classIndex, 1);
  } finally {
    if (camera().recording === classIndex) set({ recording: null });
  }
}

function stopRecording() {
  if (camera().recording !== null) set({ recording: null });
}

/** Classifies the stream with the classifier, frame after frame, while on: top-3, frames per
 * second, milliseconds per frame (the net's time) in `status()`. */
async function live(on = true) {
  check.boolean("on", on);
  const run = ++liveRun;
  if (!on) {
    set({ live: false });
    return status();
  }
  requireRunning();
  if (!get().classifier) throw new Error(t("classifier.missing"));
  set({ live: true, fps: null, ms: null, top: [] });
  (async () => {
    let last = performance.now();
    /** @type {number} */
    let fps = null;
    while (run === liveRun && stream && get().classifier) {
      try {
        const result = await call("classify", { file: await frame(), k: 3 });
        if (run !== liveRun) break;
        const now = performance.now();
        fps = fps === null ? 1000 / (now - last) : 0.8 * fps + 0.2 * (1000 / (now - last));
        last = now;
        set({ top: result.top, ms: result.ms, fps });
      } catch (e) {
        if (run === liveRun) message(t("live.stopped", { reason: e.message }));
        break;
      }
      await pause(0);
    }
    if (run === liveRun) set({ live: false });
  })();
  return status();
}

/** `{running, deviceId, live, recording, fps, ms, top}`. */
function status() {
  const c = camera();
  return { running: c.running, deviceId: c.deviceId, live: c.live, recording: c.recording, fps: c.fps, ms: c.ms, top: c.top, error: c.error };
}

export const cameraApi = { devices, start, stop, capture, startRecording, stopRecording, live, status };
