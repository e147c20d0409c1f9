// The session: the backend and the build serving it, the dataset, everything saved brought back
// (part by part), and recovery from a crashed engine or a lost GPU.
import * as check from "../checks.js";
import { call, worker } from "../client.js";
import { pixelsUrl } from "../dom.js";
import { num, t, time } from "../i18n.js";
import * as persist from "../persist.js";
import { BACKENDS, DATASETS } from "../names.js";
import { buildFor } from "../rpc.js";
import { get, message, subscribe, tracker, update } from "../state.js";
import { fuse, loadCheckpoint } from "./classifier.js";
import { ownDataset, ownSize, useOwnDataset } from "./own.js";
import { setStudyForm, TRAINING_CLEARED } from "./training.js";

/** Switches backend. When the other build of the engine serves it (the threaded CPU build, or
 * the one with WebGPU), the session moves to a fresh worker of that build through what was
 * saved: training pauses first and is saved, then everything is restored there. */
export const setBackend = (backend) => switchBackend(backend, true);

/** `carry`: whether the session moves along (saved, then restored on the fresh worker). A
 * recovery moves a fresh worker that holds nothing, and restores once itself: what the crashed
 * worker left unsaved is gone with it, and waiting to save it would fail the move. */
async function switchBackend(backend, carry) {
  check.oneOf("backend", backend, BACKENDS);
  const build = await buildFor(backend);
  // "auto" chose the threaded build because there is no WebGPU adapter: the CPU it is.
  if (backend === "auto" && build === "threads") {
    const answer = await switchBackend("cpu", carry);
    update({ fallbackReason: "no WebGPU adapter" });
    message(t("backend.unavailable"), "info", "no WebGPU adapter was found");
    return answer;
  }
  if (build === worker.build) return call("setBackend", { backend });
  // Nothing moves unless the other build can take the session.
  if (backend === "webgpu" && !(await navigator.gpu?.requestAdapter().catch(() => null))) {
    throw new Error("WebGPU unavailable: this browser gives no WebGPU adapter");
  }
  const s = get();
  const [previousBuild, previousBackend] = [worker.build, s.backend ?? "cpu"];
  const hadSession = carry && Boolean(s.dataset);
  if (carry) {
    if (s.trainState === "running") await call("pause");
    if (s.model) persist.saveTraining();
    await persist.whenSaved();
  }
  const moveTo = async (to, toBackend) => {
    worker.restart(t("build.switching"), to);
    update({ trainState: "idle", fuseReport: null, classifier: null, build: null });
    const answer = await call("setBackend", { backend: toBackend });
    if (hadSession) await restoreSession();
    return answer;
  };
  try {
    return await moveTo(build, backend);
  } catch (e) {
    await moveTo(previousBuild, previousBackend);
    throw e;
  }
}

export async function loadDataset(name) {
  check.oneOf("name", name, DATASETS);
  const summary = await call("loadDataset", { name });
  // Named only once it is loaded: a name that failed is never saved as the data choice.
  update({ datasetName: name });
  persist.saveDataChoice(name);
  return summary;
}

/** A restore that the engine crashed in: the part it was restoring is set aside already. */
export class CrashedInRestore extends Error {}

/** Everything saved, back in place: images, data, the trained model and its charts, the
 * classifier, the predictions, the study. Part by part: a record that fails its check or
 * cannot be restored is set aside (kept, downloadable) and said so; the others still come
 * back. A part during which the engine crashes is set aside too, and the restore stops with
 * `CrashedInRestore` (the recovery starts a fresh worker and restores the rest). One restore
 * at a time. */
export function restoreSession() {
  const next = restoring.then(restoreParts);
  restoring = next.catch(() => {});
  return next;
}
let restoring = Promise.resolve();

async function restoreParts() {
  const saved = await persist.loadAll();
  const generation = worker.generation;
  await persist.whileRestoring(async () => {
    const { own, session, training, classifier, predictions, study } = saved;
    // Runs one part; a failure is said (`onError`, else the record is set aside) unless the
    // engine crashed meanwhile, which sets the record aside and ends the restore.
    const part = async (key, fn, onError) => {
      try {
        await fn();
      } catch (e) {
        if (worker.dead || worker.generation !== generation) {
          await persist.setAside(key, t("record.crashedEngine", { reason: e.message }));
          throw new CrashedInRestore(e.message);
        }
        if (onError) await onError(e);
        else await persist.setAside(key, e.message);
      }
    };
    if (own) {
      await part("own", async () => {
        const { side, channels } = ownSize(own);
        const classes = await Promise.all(own.classes.map(async (c) => ({
          name: c.name,
          items: await Promise.all(c.items.map(async (i) => (i.pixels ? { ...i, thumb: await pixelsUrl(i.pixels, channels, side) } : i))),
        })));
        update({ own: { size: own.size, classes } });
      });
    }
    const datasetName = training?.datasetName ?? session?.datasetName ?? "fashion-mnist";
    await part(datasetName === "own" ? "own" : "session", async () => {
      if (datasetName === "own") await (session?.datasetName === "own" && session.own ? useOwnDataset(session.own) : ownDataset());
      else await loadDataset(datasetName);
    }, async (e) => {
      message(t("data.savedUnusable", { name: datasetName === "own" ? t("data.ownName") : datasetName, reason: e.message }));
      await loadDataset("fashion-mnist");
    });
    if (training) {
      await part("training", async () => {
        const { status, info } = await call("restore", { bytes: training.bytes, trainAccuracy: training.trainAccuracy });
        const { trainAccuracy: recentTrainAccuracy, ...h } = training.history;
        // The state shows the last step's epoch, as a step's report does; the engine's is the next step's.
        const epoch = status.globalStep > 0 ? Math.floor((status.globalStep - 1) / info.stepsPerEpoch) : status.epoch;
        update({
          history: { ...h, recentTrainAccuracy }, evals: training.evals, step: status.globalStep, epoch, totalSteps: status.totalSteps,
          lambda: h.lambda.at(-1) ?? null, nextLambda: status.lambda, cannotFuse: status.cannotFuse, loss: h.loss.at(-1) ?? null,
          recentTrainAccuracy: training.trainAccuracy, testAccuracy: training.evals.at(-1)?.[1] ?? null, emaAccuracy: training.evals.at(-1)?.[2] ?? null,
          trainState: status.finished ? "finished" : "paused",
        });
        message(t("train.restored", { step: num(status.globalStep), time: time(training.savedAt) }), "info");
      });
    }
    if (classifier) {
      await part("classifier", async () => {
        // Fused again from the weights it was fused from (a report saved before there was a
        // choice has none: the default).
        const weights = ["ema", "trained"].includes(classifier.fuseReport?.weights) ? classifier.fuseReport.weights : undefined;
        if (classifier.fromTrainer && get().model && get().cannotFuse === null) await fuse({ weights });
        else await loadCheckpoint(new File([classifier.bytes], t("checkpoint.savedName")));
      });
    }
    if (study) {
      await part("study", () => {
        setStudyForm(study.options);
        // Reports saved before they said whether they were finished hold the runs to count.
        const finished = study.report.finished ?? study.report.runs.length === study.report.arms.length * study.options.seeds;
        update({ study: { ...study, state: finished ? "finished" : "paused", live: false, progress: null } });
      });
    }
    if (predictions?.items.length) {
      await part("predictions", () => {
        update({ predictions: predictions.items.map((p) => ({ ...p, thumb: p.thumbBlob ? URL.createObjectURL(p.thumbBlob) : null })) });
      });
    }
  });
  await persist.refreshAside();
}

// A lost GPU device (driver reset, tab in the background too long, ...) or a crashed worker (a
// panic in Rust, a wasm trap): every pending call is rejected with the reason at once (rpc.js),
// and a fresh worker picks up from what was saved last, on the CPU after a lost device. A crash
// during a recovery is recovered from in turn (the part being restored set aside); after
// MAX_RECOVERIES within RECOVERY_WINDOW_MS the page stops and offers to start fresh.
export const MAX_RECOVERIES = 3;
const RECOVERY_WINDOW_MS = 60_000;
let recovery = null;
let again = null;
let recoveries = [];
// The worker generations already reported: a crash's event and the worker's error are one failure.
let reported = 0;

/** A failure of the engine in the state (events.js) starts a recovery (after the drawing
 * that said it). */
export function recoverOnFailure() {
  const changed = tracker();
  subscribe((s) => {
    const failure = s.engineFailure;
    if (changed("failure", failure) && failure) queueMicrotask(() => recover(failure.what, failure.backend));
  });
}

/** Settles once no recovery is under way. */
export const whenRecovered = () => recovery ?? Promise.resolve();

export function recover(what, backend) {
  if (worker.generation <= reported) return whenRecovered();
  reported = worker.generation;
  worker.fail(what);
  if (recovery) {
    again = { what, backend };
    return recovery;
  }
  update({ engine: "recovering" });
  recovery = (async () => {
    let next = { what, backend };
    try {
      while (next) {
        again = null;
        const now = Date.now();
        recoveries = recoveries.filter((at) => now - at < RECOVERY_WINDOW_MS);
        if (recoveries.length >= MAX_RECOVERIES) {
          // Stopped: every call is refused at once with this reason until the user starts fresh.
          worker.stop(t("recover.gaveUp", { n: MAX_RECOVERIES }));
          update({ crashLoop: { reason: next.what }, engine: "stopped" });
          message(t("recover.gaveUp", { n: MAX_RECOVERIES }), "error", next.what);
          return;
        }
        recoveries.push(now);
        await recoverOnce(next);
        next = again;
      }
      update({ engine: "up" });
    } finally {
      recovery = null;
    }
  })();
  return recovery;
}

async function recoverOnce({ what, backend }) {
  message(t("recover.continuing", { what, cpu: backend === "cpu" }));
  // Saving never waits on the crashed worker: its snapshot was rejected with the crash.
  await persist.savingNow();
  worker.restart(what);
  update({ trainState: "idle", fuseReport: null, classifier: null });
  try {
    // A backend that cannot be had is said, and the session is restored where the worker is.
    const refused = await switchBackend(backend, false).then(() => null, (e) => {
      if (worker.dead) throw e;
      return e;
    });
    await restoreSession();
    if (refused) message(t("recover.failed", { reason: refused.message }));
    else message(t("recover.done", { cpu: backend === "cpu", step: get().step ? num(get().step) : null }), "info");
  } catch (e) {
    // A crash meanwhile is recovered from next (`again`); anything else is said.
    if (!worker.dead && !(e instanceof CrashedInRestore)) message(t("recover.failed", { reason: e.message }));
  }
}

/** After repeated crashes: every saved record set aside (kept, downloadable), a fresh worker
 * with Fashion-MNIST and nothing restored. */
export async function startFresh() {
  await whenRecovered();
  await persist.setAllAside(t("record.startedFresh"));
  recoveries = [];
  worker.restart(t("recover.fresh"));
  update({ ...TRAINING_CLEARED, crashLoop: null, trainState: "idle", classifier: null, study: null, predictions: [], datasetName: null });
  await switchBackend(get().backend ?? "cpu", false);
  await loadDataset("fashion-mnist");
  update({ engine: "up" });
  message(t("recover.freshDone"), "info");
}

/** Makes this tab the one that saves the session, showing what was saved last. */
export async function takeOver() {
  await persist.claim({ steal: true });
  update({ owner: true, ownerLost: false });
  await restoreSession();
  message(t("owner.now"), "info");
}
