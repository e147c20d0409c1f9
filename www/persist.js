// What survives a reload: one IndexedDB object store of named records (own images, the data
// choice, the training snapshot with its charts, the classifier, the predictions, the study).
// Values are structured-cloned, so typed arrays and Blobs go in as they are.
import { t } from "./i18n.js";
import { call } from "./client.js";
import { get, message } from "./state.js";

const DB = "vanillanet";
const STORE = "records";

let opened = null;
function db() {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`cannot open IndexedDB: ${req.error?.message ?? "unknown error"}`));
  });
  return opened;
}

async function run(mode, fn) {
  const tx = (await db()).transaction(STORE, mode);
  const req = fn(tx.objectStore(STORE));
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(req?.result);
    tx.onabort = tx.onerror = () => reject(new Error(`saving failed: ${tx.error?.message ?? "unknown error"}`));
  });
}

export const load = (key) => run("readonly", (s) => s.get(key));
export const save = (key, value) => run("readwrite", (s) => s.put(value, key));
export const remove = (key) => run("readwrite", (s) => s.delete(key));
// A full disk says what was not saved; the rest of the session is unaffected.
const report = (record) => (e) => {
  const what = t(`record.${record}`);
  if (/quota/i.test(`${e.name} ${e.message}`)) message(t("save.full", { what }));
  else message(t("save.failed", { what }), "error", e.message);
};

/** Asks the browser to keep this page's storage under pressure (it may decide without asking). */
export const askPersistence = () => navigator.storage?.persist?.().catch(() => false) ?? Promise.resolve(false);

// While a saved session is being put back, nothing is saved over it.
let restoring = false;
export const isRestoring = () => restoring;

// One tab owns the saved session and alone writes it (a Web Lock held while the tab lives).
// Another tab of the page works on, saves nothing and says so, until the user takes over there;
// so neither overwrites or resets the other's work unseen.
const LOCK = "vanillanet-session";
let owner = !navigator.locks;
let onLost = () => {};
export const owns = () => owner;
/** Calls `fn` when another tab takes the session over. */
export const whenTakenOver = (fn) => { onLost = fn; };
/** Takes the session if no tab holds it (`steal`: even if one does); answers whether it did. */
export function claim({ steal = false } = {}) {
  if (!navigator.locks) return Promise.resolve(true);
  return new Promise((resolve) => {
    navigator.locks.request(LOCK, steal ? { steal: true } : { ifAvailable: true }, (lock) => {
      if (!lock) return resolve(false);
      owner = true;
      resolve(true);
      return new Promise(() => {}); // held until the tab goes or another steals it
    }).catch(() => {
      // Stolen by another tab.
      owner = false;
      onLost();
    });
  });
}
const writable = () => owner && !restoring;
export async function whileRestoring(fn) {
  restoring = true;
  try {
    return await fn();
  } finally {
    restoring = false;
  }
}

export const SAVE_EVERY_MS = 15_000;
let lastSave = 0;
let saving = null;
let saveAgain = false;
export const sinceLastSave = () => Date.now() - lastSave;
export const savingNow = () => saving;

/** The weights and position, with the charts up to that step, so a reload continues the run. */
export function saveTraining() {
  if (!writable()) return;
  if (saving) {
    saveAgain = true;
    return;
  }
  lastSave = Date.now();
  saving = (async () => {
    const snap = await call("snapshot");
    if (!snap) return;
    const upto = snap.status.globalStep;
    const s = get();
    const h = s.history;
    const keep = h.steps.findLastIndex((st) => st <= upto) + 1;
    await save("training", {
      bytes: snap.bytes, datasetName: s.datasetName, trainAccuracy: s.trainAccuracy,
      history: { steps: h.steps.slice(0, keep), loss: h.loss.slice(0, keep), trainAccuracy: h.trainAccuracy.slice(0, keep), lambda: h.lambda.slice(0, keep) },
      evals: s.evals.filter(([st]) => st <= upto), savedAt: Date.now(),
    });
  })().catch(report("training")).finally(() => {
    saving = null;
    if (saveAgain) {
      saveAgain = false;
      saveTraining();
    }
  });
}

let ownTimer = null;
export function saveOwn(own) {
  if (!writable()) return;
  clearTimeout(ownTimer);
  ownTimer = setTimeout(() => {
    ownTimer = null;
    const record = { size: own.size, classes: own.classes.map((c) => ({ name: c.name, items: c.items.map(({ name, pixels, error }) => ({ name, pixels, error })) })) };
    save("own", record).catch(report("own"));
  }, 300);
}

export async function saveClassifier() {
  if (!writable()) return;
  const bytes = await call("exportModel");
  const s = get();
  await save("classifier", { bytes, fromTrainer: s.classifier.fromTrainer, fuseReport: s.fuseReport }).catch(report("classifier"));
}

const forget = (key) => (writable() ? remove(key).catch(report(key)) : Promise.resolve());
export const forgetClassifier = () => forget("classifier");
export const forgetTraining = () => forget("training");
export const forgetStudy = () => forget("study");

export function saveStudy(study) {
  if (!study || !writable()) return;
  // Only finished runs: a run in progress starts over after a reload.
  const done = study.report?.runs.length ?? 0;
  const record = { options: study.options, report: study.report, curves: study.curves.filter((c) => c.run < done), savedAt: Date.now() };
  save("study", record).catch(report("study"));
}

export function savePredictions(predictions) {
  if (!writable()) return;
  const items = predictions.map(({ name, model, result, error, thumbBlob }) => ({ name, model, result, error, thumbBlob }));
  save("predictions", items).catch(report("predictions"));
}

export function saveDataChoice(datasetName) {
  if (!writable()) return;
  save("session", { datasetName }).catch(report("session"));
}

/** Settles once what has changed is saved. */
export async function whenSaved() {
  while (saving || ownTimer) await (saving ?? new Promise((r) => setTimeout(r, 350)));
}

/** Every saved record by name (one that can't be read is reported and left out). */
export async function loadAll() {
  const keys = ["own", "session", "training", "classifier", "predictions", "study"];
  const values = await Promise.all(keys.map((key) => load(key).catch((e) => (message(t("save.unreadable", { what: key, reason: e.message })), undefined))));
  return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
}
