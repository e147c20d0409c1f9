// The worker's events into the app state: each through the reducer (events.js), its patch
// applied and the saves it calls for made. Training steps are drawn in batches.
import { worker } from "./client.js";
import { reduce, withSteps } from "./events.js";
import * as persist from "./persist.js";
import { get, update } from "./state.js";

// Steps are drawn at most every STEP_DRAW_MS while training runs: on two cores the page's
// drawing (the charts, the status line) takes its CPU time from the training threads, and a
// step takes a quarter longer when every one of them redraws (measured, the quick default on
// the CPU backend). An epoch's end, the last step, a step while paused and every other event
// draw the steps waiting first.
const STEP_DRAW_MS = 250;
let pendingSteps = [];
let drawTimer = null;

function drawSteps() {
  clearTimeout(drawTimer);
  drawTimer = null;
  if (pendingSteps.length === 0) return;
  const steps = pendingSteps;
  pendingSteps = [];
  update(withSteps(get(), steps));
}

const SAVES = {
  saveTraining: () => persist.saveTraining(),
  saveStudy: () => persist.saveStudy(get().study),
  saveClassifier: () => persist.saveClassifier(),
  forgetTraining: () => persist.forgetTraining(),
  forgetClassifier: () => persist.forgetClassifier(),
};

function receive(m) {
  if (m.type !== "step") drawSteps();
  const { patch, saves } = reduce(get(), m, { now: performance.now(), restoring: persist.isRestoring() });
  if (Object.keys(patch).length) update(patch);
  for (const save of saves) SAVES[save]();
  if (m.type === "step") {
    pendingSteps.push(m);
    const save = persist.sinceLastSave() > persist.SAVE_EVERY_MS || m.report.epochEnd;
    if (save || m.next.finished || get().trainState !== "running") drawSteps();
    else drawTimer ??= setTimeout(drawSteps, STEP_DRAW_MS);
    if (save) persist.saveTraining();
  }
}

export function listen() {
  worker.onEvent = receive;
  worker.onError = (e) => receive({ type: "workerFailed", message: e.message });
}
