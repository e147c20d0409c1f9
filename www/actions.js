// What the page can do: `window.vanillanet`, the scripting API that the buttons use too. Each
// operation runs in the worker under the same name (see worker.js) and lands in the app state.
import * as check from "./checks.js";
import { call, worker } from "./client.js";
import { buildFor } from "./rpc.js";
import { $, fieldLabel, fileStem, pixelsBlob, pixelsUrl, thumbnail } from "./dom.js";
import { num, t, time } from "./i18n.js";
import * as opts from "./options.js";
import * as persist from "./persist.js";
import { get, message, update } from "./state.js";

/** Bounds of the benchmarks' arguments (the bench page's too): an input side, a batch, runs. */
export const MAX_BENCH_SIZE = 1024;
export const MAX_BENCH_BATCH = 256;
export const MAX_BENCH_RUNS = 1000;

/** The training options the form holds with `given` over them, checked by Rust (the form's
 * check): the first option out of range is refused with its reason, before anything changes. */
async function checkedOptions(given) {
  const merged = { ...formOptions(), ...given };
  if (get().dataset) {
    const problem = await call("checkOptions", { options: merged });
    if (problem) throw new Error(t("opt.refused", { name: problem.field, reason: problem.message }));
  }
  return merged;
}

const EVAL_EVERY = 50;
const EVAL_LIMIT = 500;
export const NO_EVALUATIONS = Object.freeze({ trained: null, fused: null });
export const EMPTY_HISTORY = Object.freeze({ steps: [], loss: [], trainAccuracy: [], lambda: [] });
export const TRAINING_CLEARED = Object.freeze({
  fuseReport: null, model: null, options: null, step: 0, epoch: 0, lambda: null, nextLambda: null, cannotFuse: null,
  loss: null, trainAccuracy: null, testAccuracy: null, imagesPerSec: null, etaSeconds: null, probe: null,
  history: EMPTY_HISTORY, evals: [], evaluations: NO_EVALUATIONS, evalCell: null,
});

const trainForm = () => $("options");
const studyForm = () => $("study-options");
/** The training options the form holds (over the defaults Rust gives). */
export const formOptions = () => opts.read(trainForm(), opts.TRAIN, get().defaults ?? {});
export const setForm = (options) => opts.write(trainForm(), opts.TRAIN, options);
export const studyFormOptions = () => opts.read(studyForm(), opts.STUDY, { train: formOptions() });
export const setStudyForm = (options) => opts.write(studyForm(), opts.STUDY, options);

export async function refreshSchedule() {
  const s = get();
  if (!s.dataset) return;
  try {
    update({ schedule: await call("schedule", { options: s.options ?? formOptions() }) });
  } catch {
    update({ schedule: null });
  }
}

// ---- own images ------------------------------------------------------------------------------
const MAX_FILE_BYTES = 32 * 1024 * 1024;
export function checkImageSize(file) {
  if (file.size > MAX_FILE_BYTES) throw new Error(t("own.tooLarge", { mb: num(Math.round(file.size / 1e6)), max: num(MAX_FILE_BYTES / 1e6) }));
}
export function ownSize(own = get().own) {
  const [side, channels] = own.size.split("x").map(Number);
  return { side, channels };
}
function setOwnClasses(classes) {
  update({ own: { ...get().own, classes } });
}
function addClass(name) {
  check.optional(check.string)("name", name);
  const classes = get().own.classes;
  setOwnClasses([...classes, { name: name ?? t("own.className", { n: String.fromCharCode(65 + classes.length) }), items: [] }]);
  return classes.length;
}
export function renameClass(index, name) {
  setOwnClasses(get().own.classes.map((c, i) => (i === index && name ? { ...c, name } : c)));
}
export function deleteClass(index) {
  setOwnClasses(get().own.classes.filter((_, i) => i !== index));
}
async function decode(file, { side, channels }) {
  checkImageSize(file);
  const pixels = await call("decodeImage", { file, channels, side });
  return { pixels, thumb: await pixelsUrl(pixels, channels, side) };
}
/** Checks an own class's index: a whole number naming a class there is. */
export function ownClassIndex(classIndex) {
  check.integer("classIndex", classIndex);
  if (!get().own.classes[classIndex]) throw new Error(t("own.noClass", { n: classIndex }));
  return classIndex;
}
async function addFiles(classIndex, files) {
  ownClassIndex(classIndex);
  files = check.blobs("files", files);
  const size = ownSize();
  for (const file of files) {
    const item = { name: file.webkitRelativePath || file.name };
    try {
      Object.assign(item, await decode(file, size));
    } catch (e) {
      item.error = e.message;
    }
    setOwnClasses(get().own.classes.map((c, i) => (i === classIndex ? { ...c, items: [...c.items, item] } : c)));
  }
  return ownClasses()[classIndex];
}
const ownClasses = () => get().own.classes.map((c) => ({
  name: c.name, images: c.items.filter((i) => i.pixels).length,
  rejected: c.items.filter((i) => i.error).map((i) => ({ file: i.name, reason: i.error })),
}));
async function ownDataset() {
  const { side, channels } = ownSize();
  const usable = get().own.classes.filter((c) => c.items.some((i) => i.pixels));
  if (usable.length < 2) throw new Error(t("own.twoClasses"));
  const labels = [];
  const chunks = [];
  usable.forEach((c, l) => c.items.filter((i) => i.pixels).forEach((i) => { labels.push(l); chunks.push(i.pixels); }));
  const pixels = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { pixels.set(c, at); at += c.length; }
  update({ datasetName: "own" });
  persist.saveDataChoice("own");
  return call("ownDataset", { classes: usable.map((c) => c.name), pixels, labels: Uint8Array.from(labels), channels, height: side, width: side });
}

// ---- the classifier --------------------------------------------------------------------------
export function forgetClassifier() {
  update({ classifier: null, evaluations: { ...get().evaluations, fused: null } });
  persist.forgetClassifier();
}

/** A checkpoint's architecture choice: `{variant}` (a name) or `{strides}` (whole numbers). */
function checkChoice(choice) {
  const c = check.object("choice", choice, ["variant", "strides"]);
  check.optional(check.string)("choice.variant", c.variant);
  if (c.strides !== undefined) {
    if (!Array.isArray(c.strides) || c.strides.length > 64) throw new check.ArgumentError("choice.strides", t("arg.strides"), c.strides);
    c.strides.forEach((v, i) => check.integer(`choice.strides[${i}]`, v, 1, 64));
  }
  return c;
}

async function loadCheckpoint(file, choice) {
  check.blob("file", file);
  if (choice !== undefined) checkChoice(choice);
  file = file instanceof File ? file : new File([file], t("checkpoint.savedName"));
  update({ checkpoint: { name: file.name, loaded: 0, total: file.size, phase: "reading" } });
  try {
    const read = await call("loadCheckpoint", { file });
    update({ checkpoint: { ...get().checkpoint, phase: "read", read } });
    if (read.ambiguous && !choice) {
      update({ checkpoint: { ...get().checkpoint, phase: "choose" } });
      return { needsChoice: true, detected: read.detected };
    }
    return await useCheckpoint(choice);
  } catch (e) {
    update({ checkpoint: null, checkpointLog: [{ name: file.name, error: e.message }, ...get().checkpointLog].slice(0, 8) });
    throw new Error(`${file.name}: ${e.message}`);
  }
}

async function useCheckpoint(choice = {}) {
  checkChoice(choice);
  const name = get().checkpoint?.name ?? "checkpoint";
  update({ checkpoint: { ...get().checkpoint, phase: "fusing" } });
  try {
    const info = await call("useCheckpoint", choice);
    update({ classifier: info, fuseReport: null, checkpoint: null, checkpointLog: [{ name, ok: t("checkpoint.using", { name: info.card.name }) }, ...get().checkpointLog].slice(0, 8) });
    await persist.saveClassifier();
    return info;
  } catch (e) {
    update({ checkpoint: get().checkpoint?.phase === "fusing" ? { ...get().checkpoint, phase: "choose" } : null });
    throw e;
  }
}

async function fuse() {
  const fuseReport = await call("fuse", { limit: 500 });
  update({ fuseReport, classifier: await call("classifier") });
  await persist.saveClassifier();
  // The fused net on the whole test set, for the evaluation view (in the background).
  evaluation({ fused: true }).catch((e) => message(t("eval.fusedFailed", { reason: e.message })));
  return fuseReport;
}

// ---- evaluation ------------------------------------------------------------------------------
/** The trained net, or its fused form, on the whole test set (kept until the weights change). */
async function evaluation(options) {
  const { fused = false } = check.object("options", options, ["fused"]);
  check.boolean("options.fused", fused);
  const result = await call("evaluation", { fused });
  update({ evaluations: { ...get().evaluations, [result.model]: result } });
  return result;
}

/** The test images in one cell of the confusion matrix (true class `label`, answered
 * `predicted`), most confident first: `[{index, label, predicted, confidence}]`. */
async function evaluationCell(label, predicted, options) {
  check.integer("label", label);
  check.integer("predicted", predicted);
  const { fused = false, limit = 48 } = check.object("options", options, ["fused", "limit"]);
  check.boolean("options.fused", fused);
  check.integer("options.limit", limit, 1, 100_000);
  return call("evaluationCell", { fused, label, predicted, limit });
}

/** Test image `index` as the net sees it, as a PNG Blob. */
async function testImage(index) {
  check.integer("index", index);
  const d = get().dataset;
  if (!d) throw new Error(t("eval.noData"));
  return pixelsBlob(await call("testImage", { index }), d.channels, d.height, d.width);
}

async function classify(blob) {
  check.blob("image", blob);
  const item = { name: blob.name || t("classify.pasted") };
  try {
    const classifier = get().classifier;
    if (!classifier) throw new Error(t("classifier.missing"));
    checkImageSize(blob);
    item.result = await call("classify", { file: blob, k: 5 });
    item.model = classifier.card.name;
    item.thumbBlob = await thumbnail(blob);
    item.thumb = URL.createObjectURL(item.thumbBlob);
  } catch (e) {
    item.error = e.message;
  }
  const predictions = [item, ...get().predictions].slice(0, 12);
  update({ predictions });
  persist.savePredictions(predictions);
  if (item.error) throw new Error(`${item.name}: ${item.error}`);
  return item.result;
}

function requireClassifier() {
  if (!get().classifier) throw new Error(t("classifier.nothingToExport"));
  return get().classifier;
}

// ---- the study -------------------------------------------------------------------------------
async function studyRun(options = {}) {
  opts.checkArgs(opts.STUDY, "options", options, { extra: { train: (n, v) => opts.checkArgs(opts.TRAIN, n, v) } });
  const fromForm = studyFormOptions();
  const merged = { ...fromForm, ...options, train: { ...fromForm.train, ...(options.train ?? {}) } };
  setStudyForm(merged);
  update({ study: { options: merged, report: null, curves: [], state: "running", live: true, progress: null } });
  try {
    const report = await call("studyRun", { options: merged });
    update({ study: { ...get().study, report } });
  } catch (e) {
    update({ study: null });
    throw e;
  }
  persist.saveStudy(get().study);
  return get().study.report;
}

async function studyResume() {
  const st = get().study;
  if (!st) throw new Error(t("study.noneToContinue"));
  if (st.live) return call("studyResume");
  // A study restored from disk: the worker starts it again from its finished runs.
  const report = await call("studyRun", { options: st.options, saved: st.report });
  update({ study: { ...get().study, report, live: true, curves: st.curves.filter((c) => c.run < report.runs.length) } });
  return true;
}

async function studyDiscard() {
  await call("studyDiscard");
  update({ study: null });
  await persist.forgetStudy();
}

// ---- the backend -----------------------------------------------------------------------------
/** Switches backend. When the other build of the engine serves it (the threaded CPU build, or
 * the one with WebGPU), the session moves to a fresh worker of that build through what was
 * saved: training pauses first and is saved, then everything is restored there. */
async function setBackend(backend) {
  check.oneOf("backend", backend, BACKENDS);
  const build = await buildFor(backend);
  // "auto" chose the threaded build because there is no WebGPU adapter: the CPU it is.
  if (backend === "auto" && build === "threads") {
    const answer = await setBackend("cpu");
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
  const hadSession = Boolean(s.dataset);
  if (s.trainState === "running") await call("pause");
  if (s.model) persist.saveTraining();
  await persist.whenSaved();
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

// ---- the session -----------------------------------------------------------------------------
/** The built-in datasets (files under data/). */
export const DATASETS = ["fashion-mnist", "mnist"];
export const BACKENDS = ["auto", "webgpu", "cpu"];

async function loadDataset(name) {
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
      if (datasetName === "own") await ownDataset();
      else await loadDataset(datasetName);
    }, async (e) => {
      message(t("data.savedUnusable", { name: datasetName === "own" ? t("data.ownName") : datasetName, reason: e.message }));
      await loadDataset("fashion-mnist");
    });
    if (training) {
      await part("training", async () => {
        const { status } = await call("restore", { bytes: training.bytes, trainAccuracy: training.trainAccuracy });
        const h = training.history;
        update({
          history: h, evals: training.evals, step: status.globalStep, epoch: status.epoch, totalSteps: status.totalSteps,
          lambda: h.lambda.at(-1) ?? null, nextLambda: status.lambda, cannotFuse: status.cannotFuse, loss: h.loss.at(-1) ?? null,
          trainAccuracy: training.trainAccuracy, testAccuracy: training.evals.at(-1)?.[1] ?? null,
          trainState: status.finished ? "finished" : "paused",
        });
        message(t("train.restored", { step: num(status.globalStep), time: time(training.savedAt) }), "info");
      });
    }
    if (classifier) {
      await part("classifier", async () => {
        if (classifier.fromTrainer && get().model && get().cannotFuse === null) await fuse();
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
          worker.dead = t("recover.gaveUp", { n: MAX_RECOVERIES });
          worker.fail(worker.dead);
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
    await api.setBackend(backend);
    await restoreSession();
    message(t("recover.done", { cpu: backend === "cpu", step: get().step ? num(get().step) : null }), "info");
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
  await api.setBackend(get().backend ?? "cpu");
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

/** A link to this page that opens it with these options, dataset and backend. */
function shareLink() {
  const s = get();
  const params = opts.toQuery(opts.TRAIN, formOptions());
  if (DATASETS.includes(s.datasetName)) params.set("dataset", s.datasetName);
  params.set("backend", $("backend-select").value);
  return `${location.origin}${location.pathname}?${params}`;
}

/** A query longer than this is not read at all (a shared link is a few hundred characters). */
export const MAX_LINK = 4096;
const linkKeys = () => [...opts.TRAIN.map((f) => f.name), "dataset", "backend"];

/** A link's parameters, read before anything uses them: `{params, backend, refused, tooLong}`.
 * The backend is one of the known names or "auto" (a refused one is said). */
export function readLink(search = location.search) {
  const link = { params: new URLSearchParams(), backend: "auto", refused: [], tooLong: 0 };
  if (search.length > MAX_LINK) return { ...link, tooLong: search.length };
  link.params = new URLSearchParams(search);
  if (link.params.has("backend")) {
    const b = link.params.get("backend");
    if (BACKENDS.includes(b)) link.backend = b;
    else link.refused.push({ name: "backend", value: b, reason: t("link.notOffered", { values: BACKENDS.join(", ") }) });
  }
  return link;
}

// An option whose range depends on another's: when Rust names the dependent one, the link's
// value of the other is the one refused.
const DEPENDS_ON = { decayEpochs: "epochs", batchSize: "preset" };

/** What a shared link sets, applied unless a saved model is open (which it would replace). Every
 * value goes through the form's checks first — read as people write them, then Rust's
 * `TrainOptions::check` — and one that fails is named in a message and not applied. */
export async function applyLink(link) {
  const described = (r) => t("link.refusedOne", { name: r.name, value: check.describe(r.value), reason: r.reason });
  const refused = [...link.refused];
  // Keys the table does not have (known once the tables are in).
  const unknown = [...new Set(link.params.keys())].filter((k) => !linkKeys().includes(k));
  const say = () => {
    if (link.tooLong) message(t("link.tooLongAll", { n: link.tooLong }));
    if (refused.length) message(t("link.refused", { what: refused.map(described).join("; ") }));
    if (unknown.length) {
      const names = unknown.slice(0, 5).map((k) => check.describe(k));
      message(t("link.unknown", { names: names.join(", "), more: unknown.length - names.length }), "info");
    }
  };
  const params = link.params;
  let dataset = null;
  if (params.has("dataset")) {
    const d = params.get("dataset");
    if (DATASETS.includes(d)) dataset = d;
    else refused.push({ name: "dataset", value: d, reason: t("link.notOffered", { values: DATASETS.join(", ") }) });
  }
  const given = opts.TRAIN.some((f) => params.has(f.name));
  if (!given && !dataset) return say();
  if (get().model) {
    say();
    message(t("link.notApplied"), "info");
    return;
  }
  if (dataset && dataset !== get().datasetName) await loadDataset(dataset);
  const base = formOptions();
  // A preset only among those the data has (the form's choices).
  const presets = [...trainForm().elements.preset.options].map((o) => o.value);
  const read = opts.fromQuery(opts.TRAIN, params, base, presets);
  refused.push(...read.refused);
  let { options, names } = read;
  // Rust's check, until what is left passes: each value it names is refused and the form's kept.
  for (let tries = 0; names.length && tries <= opts.TRAIN.length; tries++) {
    const problem = await call("checkOptions", { options }).catch((e) => ({ field: null, message: e.message }));
    if (!problem) break;
    const field = names.includes(problem.field) ? problem.field : names.includes(DEPENDS_ON[problem.field]) ? DEPENDS_ON[problem.field] : null;
    // Not one of the link's values (nor what it depends on): none of them is used.
    const culprits = field ? [field] : names;
    for (const n of culprits) {
      refused.push({ name: n, value: params.get(n), reason: problem.message });
      options = { ...options, [n]: base[n] };
    }
    names = names.filter((n) => !culprits.includes(n));
  }
  for (const r of refused) if (opts.TRAIN.some((f) => f.name === r.name)) r.name = fieldLabel(trainForm(), r.name);
  if (names.length) setForm(options);
  await refreshSchedule();
  const said = names.map((n) => `${fieldLabel(trainForm(), n)} ${options[n]}`);
  const what = [...(dataset ? [t("link.dataset", { name: dataset })] : []), ...said];
  if (what.length) message(t("link.set", { what: what.join(", ") }), "info");
  say();
}

export const api = {
  status() {
    const s = get();
    return {
      backend: s.backend, adapter: s.adapter, threads: s.build?.threads ?? null, crossOriginIsolated: s.build?.crossOriginIsolated ?? null, state: s.trainState, step: s.step, epoch: s.epoch,
      lambda: s.lambda, loss: s.loss, trainAccuracy: s.trainAccuracy, testAccuracy: s.testAccuracy, cannotFuse: s.cannotFuse,
      engine: s.engine,
    };
  },
  async train(options = {}) {
    const { evalEvery = EVAL_EVERY, evalLimit = EVAL_LIMIT, ...given } = opts.checkArgs(opts.TRAIN, "options", options, {
      extra: { evalEvery: (n, v) => check.integer(n, v, 1, 1_000_000), evalLimit: (n, v) => check.integer(n, v, 1, 1_000_000) },
    });
    const merged = await checkedOptions(given);
    setForm(merged);
    return call("train", { options: merged, evalEvery, evalLimit });
  },
  pause: () => call("pause"),
  resume: () => call("resume"),
  step: async (options = {}) => call("step", { options: await checkedOptions(opts.checkArgs(opts.TRAIN, "options", options)) }),
  reset: () => call("reset"),
  setBackend,
  loadDataset,
  finishAnnealing: () => call("finishAnnealing"),
  fuse,
  /** `{model: "trained" | "fused", step, accuracy, classes, perClass: [{name, accuracy, count}],
   * confusion: [[count]] (confusion[true][predicted]), mistakes: [{index, label, predicted,
   * confidence}]}` on the whole test set. */
  evaluation,
  evaluationCell,
  testImage,
  /** Top-k `{label, probability}` of an image by the classifier, with timings (and the trained
   * net's answer while the classifier is its fused form). */
  classify,
  /** Reads a checkpoint (official .pth, safetensors, or a model file of ours) and, unless the
   * tensors leave the architecture open, makes it the classifier. `choice` settles that:
   * `{variant}` or `{strides: [...]}`. */
  loadCheckpoint,
  useCheckpoint,
  /** The classifier as `{safetensors, json}` Blobs: official deploy key names, and the model
   * card (architecture, classes, preprocessing, form), which the safetensors header carries too. */
  async exportModel() {
    const { card } = requireClassifier();
    const bytes = await call("exportModel");
    return {
      safetensors: new Blob([bytes], { type: "application/octet-stream" }),
      json: new Blob([JSON.stringify(card, null, 2)], { type: "application/json" }),
      name: fileStem(card.name),
    };
  },
  /** The trained net in the authors' training form (official names, BN step counters, the card):
   * it loads with `strict=True` into their PyTorch code. */
  async exportTraining() {
    if (!get().model) throw new Error(t("train.nothingToExport"));
    return new Blob([await call("exportTraining")], { type: "application/octet-stream" });
  },
  /** The classifier as an ONNX model (opset 13; input `input` [batch, C, H, W] preprocessed as
   * its card says, output `logits`), as a Blob. */
  async exportOnnx() {
    requireClassifier();
    return new Blob([await call("exportOnnx")], { type: "application/octet-stream" });
  },
  /** The classifier's logits for preprocessed inputs (a Float32Array of batch x C x H x W). */
  logits: async (values, batch = 1) => {
    if (!(values instanceof Float32Array)) throw new check.ArgumentError("values", "Float32Array", values);
    return call("logits", { values, batch: check.integer("batch", batch, 1, 65_536) });
  },
  /** Benchmarks on the current backend (random weights): see the README. */
  bench: {
    latency: async (model, size, batch, fused, runs = 30, warmup = 3) => call("benchLatency", {
      model: check.string("model", model, 64), size: check.integer("size", size, 1, MAX_BENCH_SIZE), batch: check.integer("batch", batch, 1, MAX_BENCH_BATCH),
      fused: check.boolean("fused", fused), runs: check.integer("runs", runs, 1, MAX_BENCH_RUNS), warmup: check.integer("warmup", warmup, 0, MAX_BENCH_RUNS),
    }),
    training: async (preset, channels, size, batch = 64, steps = 20) => call("benchTraining", {
      preset: check.string("preset", preset, 64), channels: check.oneOf("channels", channels, [1, 3]), size: check.integer("size", size, 1, MAX_BENCH_SIZE),
      batch: check.integer("batch", batch, 1, MAX_BENCH_BATCH), steps: check.integer("steps", steps, 1, MAX_BENCH_RUNS),
    }),
  },
  classifier: () => get().classifier,
  /** A link that opens the page with the current options, seed, dataset and backend. */
  shareLink,
  /** The paper's ablations: run one on the loaded data (options as the Experiments form's,
   * overridden by `options`), pause, continue, discard; the report, and CSV/JSON of it. */
  study: {
    run: studyRun,
    pause: () => call("studyPause"),
    resume: studyResume,
    discard: studyDiscard,
    report: () => get().study?.report ?? null,
    status: () => {
      const st = get().study;
      return st ? { state: st.state, progress: st.progress, runs: st.report?.runs.length ?? 0 } : null;
    },
    async csv() {
      const report = get().study?.report;
      if (!report) throw new Error(t("study.noResults"));
      return new Blob([await call("studyCsv", { report })], { type: "text/csv" });
    },
    json() {
      const st = get().study;
      if (!st?.report) throw new Error(t("study.noResults"));
      return new Blob([JSON.stringify({ ...st.report, curves: st.curves }, null, 2)], { type: "application/json" });
    },
  },
  /** Settles once what has changed is saved to IndexedDB. */
  whenSaved: persist.whenSaved,
  debug: {
    /** Destroys the worker's GPU device, as a driver reset would: to see recovery work. */
    loseDevice: () => call("loseDevice"),
    /** Panics in Rust inside an awaited call: the call is rejected and the page recovers. */
    panic: () => call("debugPanic"),
  },
  history: () => {
    const h = get().history;
    return { steps: [...h.steps], loss: [...h.loss], lambda: [...h.lambda], trainAccuracy: [...h.trainAccuracy], testAccuracy: [...get().evals] };
  },
  own: {
    addClass,
    addFiles,
    /** Makes the classes with images the training data. */
    dataset: ownDataset,
    classes: ownClasses,
  },
};
