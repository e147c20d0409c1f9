// What survives a reload: one IndexedDB object store of named records (own images, the data
// choice, the training snapshot with its charts, the classifier, the predictions, the study).
// Values are structured-cloned, so typed arrays and Blobs go in as they are. Each record carries
// a schema version and is checked (records.js) before anything uses it; one that fails, or that
// cannot be restored, is set aside under `aside/...` (kept, downloadable, deletable by the user)
// and the rest is restored.
import { t } from "./i18n.js";
import { call } from "./client.js";
import * as records from "./records.js";
import { get, message, update } from "./state.js";

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
const put = (key, value) => run("readwrite", (s) => s.put(value, key));
/** Saves a record with the current schema version. */
export const save = (key, value) => put(key, records.versioned(value));
export const remove = (key) => run("readwrite", (s) => s.delete(key));
// A full disk says what was not saved; the rest of the session is unaffected.
const isFull = (e) => /quota/i.test(`${e.name} ${e.message}`);
const report = (record) => (e) => {
  const what = t(`record.${record}`);
  if (isFull(e)) message(t("save.full", { what }));
  else message(t("save.failed", { what }), "error", e.message);
};

// Records whose last save failed (a full disk): whenSaved saves each again, so that once there
// is room nothing stays unsaved, and refuses with the reason while it still cannot.
/** @type {Map<string, {again: () => Promise<void>, error: any}>} */
const unsaved = new Map();
const failed = (key, again) => (e) => {
  unsaved.set(key, { again, error: e });
  report(key)(e);
};
/** Saves record `key` (the value `make()` gives); a failure is said and kept to try again. */
function keep(key, make) {
  const again = () => save(key, make()).then(() => void unsaved.delete(key), failed(key, again));
  return again();
}

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

/** Longest a save may wait for the worker's snapshot: past it the save is given up (and said),
 * so that saving never stays stuck on a worker that crashed or hangs. */
export const SNAPSHOT_TIMEOUT_MS = 120_000;

/** The weights and position, with the charts up to that step, so a reload continues the run. */
export function saveTraining() {
  if (!writable()) return;
  if (saving) {
    saveAgain = true;
    return;
  }
  lastSave = Date.now();
  saving = (async () => {
    const snap = await call("snapshot", undefined, { timeout: SNAPSHOT_TIMEOUT_MS });
    // No trainer (a fresh worker after a crash, a reset): nothing of training is left unsaved.
    if (!snap) return void unsaved.delete("training");
    const upto = snap.status.globalStep;
    const s = get();
    const h = s.history;
    const keep = h.steps.findLastIndex((st) => st <= upto) + 1;
    await save("training", {
      bytes: snap.bytes, datasetName: s.datasetName, trainAccuracy: s.recentTrainAccuracy,
      history: { steps: h.steps.slice(0, keep), loss: h.loss.slice(0, keep), trainAccuracy: h.recentTrainAccuracy.slice(0, keep), lambda: h.lambda.slice(0, keep) },
      evals: s.evals.filter(([st]) => st <= upto), savedAt: Date.now(),
    });
    unsaved.delete("training");
  })().catch(failed("training", async () => {
    saveTraining();
    await saving;
  })).finally(() => {
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
    keep("own", () => record);
  }, 300);
}

export async function saveClassifier() {
  if (!writable()) return;
  const bytes = await call("exportModel");
  const s = get();
  // The record says `fromTrainer` (its format from before the classifier had an origin).
  const record = { bytes, fromTrainer: s.classifier.origin === "trainer", fuseReport: s.fuseReport };
  await keep("classifier", () => record);
}

const forget = (key) => {
  unsaved.delete(key);
  return writable() ? remove(key).catch(report(key)) : Promise.resolve();
};
export const forgetClassifier = () => forget("classifier");
export const forgetTraining = () => forget("training");
export const forgetStudy = () => forget("study");

export function saveStudy(study) {
  if (!study || !writable()) return;
  // Only finished runs: a run in progress starts over after a reload.
  const done = study.report?.runs.length ?? 0;
  const record = { options: study.options, report: study.report, curves: study.curves.filter((c) => c.run < done), savedAt: Date.now() };
  keep("study", () => record);
}

export function savePredictions(predictions) {
  if (!writable()) return;
  const items = predictions.map(({ name, model, result, error, thumbBlob }) => ({ name, model, result, error, thumbBlob }));
  keep("predictions", () => ({ items }));
}

/** The data chosen; own images with the dataset made of them (`ownDataset`'s). */
export function saveDataChoice(datasetName, own = null) {
  if (!writable()) return;
  keep("session", () => (own ? { datasetName, own } : { datasetName }));
}

/** Settles once what has changed is saved; what failed to save before is saved again first,
 * and while it still cannot be, this rejects saying what and why. */
export async function whenSaved() {
  while (saving || ownTimer) await (saving ?? new Promise((r) => setTimeout(r, 350)));
  if (!writable()) return;
  for (const { again } of [...unsaved.values()]) await again();
  if (!unsaved.size) return;
  throw new Error([...unsaved].map(([key, { error }]) => {
    const what = t(`record.${key}`);
    return isFull(error) ? t("save.full", { what }) : `${t("save.failed", { what })} ${error?.message ?? error}`;
  }).join("; "));
}

/** Every saved record by name, checked: one that can't be read or fails its check is set
 * aside (said, kept, downloadable) and left out. */
export async function loadAll() {
  const out = {};
  for (const key of records.KEYS) {
    let stored;
    try {
      stored = await load(key);
    } catch (e) {
      message(t("save.unreadable", { what: t(`record.${key}`), reason: e.message }));
      continue;
    }
    if (stored === undefined) continue;
    const { value, reason } = records.check(key, stored);
    if (reason === undefined) out[key] = value;
    else await setAside(key, reason, stored);
  }
  return out;
}

// ---- records set aside ------------------------------------------------------------------------
const ASIDE = "aside/";

/** Moves record `key` aside (to `aside/<key>/<time>`, with the reason), says so, and updates
 * the list the page shows. `value`: the record as read, if it was. In a tab that does not own
 * the session nothing is moved: the record is only left unused here. */
export async function setAside(key, reason, value, { quiet = false } = {}) {
  const what = t(`record.${key}`);
  if (!owner) {
    message(t("record.unusable", { what }), "error", reason);
    return;
  }
  try {
    const stored = value === undefined ? await load(key) : value;
    if (stored !== undefined) {
      const at = Date.now();
      await run("readwrite", (s) => {
        s.put({ key, reason, at, value: stored }, `${ASIDE}${key}/${at}`);
        s.delete(key);
      });
    }
    if (!quiet) message(t("record.setAside", { what }), "error", reason);
  } catch (e) {
    message(t("record.unusable", { what }), "error", `${reason}; ${e.message}`);
  }
  await refreshAside();
}

/** The records set aside: `[{id, key, reason, at}]`, oldest first. */
export async function asideList() {
  const range = IDBKeyRange.bound(ASIDE, `${ASIDE}\uffff`);
  const [keys, values] = await Promise.all([run("readonly", (s) => s.getAllKeys(range)), run("readonly", (s) => s.getAll(range))]);
  return keys.map((id, i) => ({ id, key: String(values[i]?.key), reason: String(values[i]?.reason ?? ""), at: Number(values[i]?.at) || 0 }));
}

/** Puts the list of set-aside records into the app state (the page shows it). */
export async function refreshAside() {
  try {
    update({ aside: await asideList() });
  } catch {
    // No IndexedDB: nothing was set aside either.
  }
}

/** A set-aside record as a JSON file (bytes and Blobs in base64): nothing of it is lost. */
export async function asideFile(id) {
  const entry = await load(id);
  if (!entry) throw new Error(t("record.asideGone"));
  const json = JSON.stringify({ record: entry.key, reason: entry.reason, setAsideAt: new Date(entry.at).toISOString(), value: await records.toJson(entry.value) });
  return new Blob([json], { type: "application/json" });
}

export async function discardAside(id) {
  await remove(id);
  await refreshAside();
}

/** Every saved record set aside (the user starts fresh; nothing is deleted). */
export async function setAllAside(reason) {
  for (const key of records.KEYS) {
    if ((await load(key).catch(() => undefined)) !== undefined) await setAside(key, reason, undefined, { quiet: true });
  }
}
