// The page: one app state (state.js), the worker's events into it (listen.js, through the
// reducer events.js), views that subscribe and redraw from it (views/), and window.vanillanet,
// the scripting API the buttons use too (actions.js), whose calls go to the worker. All model
// work happens in the worker (worker.js, over wasm). One way round: the events call no action,
// what follows from a change is the actions' reaction to the state (react()), and no view
// imports another or the reducer (tests/unit/layers.test.mjs).
import { api, applyLink, CrashedInRestore, react, readLink, restoreSession, whenRecovered } from "./actions.js";
import { cameraApi } from "./camera.js";
import { call } from "./client.js";
import { listen } from "./listen.js";
import * as opts from "./options.js";
import { t, translatePage } from "./i18n.js";
import * as persist from "./persist.js";
import * as updates from "./update.js";
import { get, init, message, mountingView, update } from "./state.js";
import { insideApi } from "./inside.js";
import * as charts from "./views/charts.js";
import * as insideView from "./views/inside.js";
import * as camera from "./views/camera.js";
import * as checkpoint from "./views/checkpoint.js";
import * as classify from "./views/classify.js";
import * as data from "./views/data.js";
import * as evaluation from "./views/evaluation.js";
import * as fuse from "./views/fuse.js";
import * as own from "./views/own.js";
import * as status from "./views/status.js";
import * as study from "./views/study.js";
import * as training from "./views/training.js";

init();
translatePage();
listen();
// The drop zones' keyboard and click alternative: buttons that open their file inputs.
for (const button of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-picks]"))) button.onclick = () => document.getElementById(button.dataset.picks).click();
for (const [name, view] of Object.entries({ status, data, own, camera, training, evaluation, fuse, checkpoint, classify, study })) {
  mountingView(name);
  view.mount();
}
mountingView("charts");
const drawn = charts.mount();
insideView.mount();
mountingView("page");
react();

window.vanillanet = {
  ...api,
  /** The camera: `devices()`, `start(deviceId?)`, `stop()`, `capture(classIndex, frames)`,
   * `live(on)`, `status()`. */
  camera: cameraApi,
  /** Inside the net: `decay()`, `featureMaps(imageOrTestIndex, block, {fused, tiles})`,
   * `fusion(block)`, `setProbeEvery(steps)`. */
  inside: insideApi,
  /** Points drawn in each chart (for tests). */
  charts: () => Object.fromEntries(Object.entries(drawn).map(([k, c]) => [k, c.data[0].length])),
};

// Saved when the tab goes away or into the background, not only on the timer.
const saveNow = () => get().model && persist.saveTraining();
addEventListener("pagehide", saveNow);
document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && saveNow());
persist.whenTakenOver(() => {
  update({ owner: false, ownerLost: true });
  message(t("owner.tookOver"));
});
persist.askPersistence();

// Offline after the first visit: the service worker (sw.js) keeps the page, the wasm and the
// data of one build. Not on file:// or where the browser has none; the page works without it.
// A new version is said when ready and taken only on the user's word (update.js).
updates.watch();
addEventListener("offline", () => message(t("offline.now"), "info"));
addEventListener("online", () => message(t("offline.back"), "info"));

api.ready = window.vanillanet.ready = (async () => {
  update({ owner: await persist.claim() });
  // A shared link's parameters are read once, checked, before anything uses them.
  const link = readLink();
  const backend = link.backend;
  /** @type {HTMLSelectElement} */ (document.getElementById("backend-select")).value = backend;
  try {
    await api.setBackend(backend);
  } catch (e) {
    message(t("backend.failed", { reason: e.message }));
    await api.setBackend("cpu");
  }
  // The forms' fields, bounds and defaults: Rust's options tables.
  const { table, studies } = await call("defaults");
  opts.setTables(table, { train: document.getElementById("options"), study: document.getElementById("study-options") });
  update({ defaults: { options: opts.defaults(opts.TRAIN), limits: table.limits }, studies });
  try {
    await restoreSession();
  } catch (e) {
    // The engine crashed on a saved part: it is set aside, and the recovery restores the rest.
    if (!(e instanceof CrashedInRestore)) throw e;
  }
  await whenRecovered();
  await applyLink(link);
  return true;
})();
// A build that does not start from a damaged offline copy is loaded once from the network.
api.ready.then(() => updates.started(null), async (e) => (await updates.started(e).catch(() => false)) || message(e.message));
update({});
