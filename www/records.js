// The saved records' shapes. Each record is written with a schema version and checked here
// (types, lengths, shapes, ranges) before anything uses it, so that a record an older or newer
// page wrote, or one damaged on disk, is named and set aside instead of breaking the restore.
// Records written before versions (no `schema`) are version 0: the same shapes, the
// predictions a bare array.

export const SCHEMA = 1;

/** The own-images sizes the page offers: "side x channels". */
export const OWN_SIZES = ["28x1", "32x3", "64x3"];
export const DATA_NAMES = ["fashion-mnist", "mnist", "own"];

class Invalid extends Error {}
const bad = (path, want, ...got) => {
  throw new Invalid(`${path}: ${want}${got.length ? `, got ${kind(got[0])}` : ""}`);
};
function kind(v) {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") return Object.prototype.toString.call(v).slice(8, -1);
  if (typeof v === "string") return v.length > 30 ? `a string of ${v.length} characters` : JSON.stringify(v);
  return typeof v === "number" ? String(v) : typeof v;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof Blob);
function object(path, v) {
  if (!isObject(v)) bad(path, "an object", v);
  return v;
}
function array(path, v, max = 10_000_000) {
  if (!Array.isArray(v)) bad(path, "an array", v);
  if (v.length > max) bad(path, `at most ${max} entries`, v);
  return v;
}
function string(path, v, max = 100_000) {
  if (typeof v !== "string" || v.length > max) bad(path, `a string of at most ${max} characters`, v);
  return v;
}
function number(path, v, { min = -Infinity, max = Infinity, nullable = false, finite = true } = {}) {
  if (nullable && v === null) return v;
  if (typeof v !== "number" || (finite && !Number.isFinite(v)) || v < min || v > max) bad(path, `a number${min > -Infinity || max < Infinity ? ` from ${min} to ${max}` : ""}${nullable ? " or null" : ""}`, v);
  return v;
}
function integer(path, v, min = 0, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isInteger(v) || v < min || v > max) bad(path, `a whole number from ${min} to ${max}`, v);
  return v;
}
function oneOf(path, v, values) {
  if (!values.includes(v)) bad(path, `one of ${values.join(", ")}`, v);
  return v;
}
function bytes(path, v) {
  if (!(v instanceof Uint8Array) || v.length === 0) bad(path, "bytes (a non-empty Uint8Array)", v);
  return v;
}
const optional = (v) => v === undefined || v === null;

function own(r) {
  const [side, channels] = oneOf("size", r.size, OWN_SIZES).split("x").map(Number);
  array("classes", r.classes, 10_000).forEach((c, i) => {
    object(`classes[${i}]`, c);
    string(`classes[${i}].name`, c.name);
    array(`classes[${i}].items`, c.items, 1_000_000).forEach((item, j) => {
      const at = `classes[${i}].items[${j}]`;
      object(at, item);
      string(`${at}.name`, item.name);
      if (!optional(item.pixels)) {
        bytes(`${at}.pixels`, item.pixels);
        if (item.pixels.length !== side * side * channels) bad(`${at}.pixels`, `${side * side * channels} bytes (${r.size})`, item.pixels);
      }
      if (!optional(item.error)) string(`${at}.error`, item.error);
      if (optional(item.pixels) && optional(item.error)) bad(at, "pixels or an error");
    });
  });
}

function session(r) {
  oneOf("datasetName", r.datasetName, DATA_NAMES);
  // Own images as made into the training data (pages before it saved only the name).
  if (optional(r.own)) return;
  const o = object("own", r.own);
  const names = array("own.classes", o.classes, 10_000);
  names.forEach((c, i) => string(`own.classes[${i}]`, c));
  const [h, w, c] = [integer("own.height", o.height, 1, 64), integer("own.width", o.width, 1, 64), integer("own.channels", o.channels, 1, 3)];
  bytes("own.labels", o.labels);
  if (o.labels.some((l) => l >= names.length)) bad("own.labels", `labels below ${names.length}`);
  if (bytes("own.pixels", o.pixels).length !== o.labels.length * h * w * c) bad("own.pixels", `${o.labels.length * h * w * c} bytes`, o.pixels);
}

function training(r) {
  bytes("bytes", r.bytes);
  oneOf("datasetName", r.datasetName, DATA_NAMES);
  number("trainAccuracy", r.trainAccuracy, { min: 0, max: 1, nullable: true });
  object("history", r.history);
  const n = array("history.steps", r.history.steps).length;
  r.history.steps.forEach((s, i) => integer(`history.steps[${i}]`, s, 1));
  for (const key of ["loss", "trainAccuracy", "lambda"]) {
    const path = `history.${key}`;
    if (array(path, r.history[key]).length !== n) bad(path, `${n} values, as many as history.steps`, r.history[key]);
    // A diverged step's loss is kept as it was (NaN, infinite): drawn as a gap.
    r.history[key].forEach((v, i) => number(`${path}[${i}]`, v, { nullable: true, finite: key !== "loss" }));
  }
  array("evals", r.evals).forEach((e, i) => {
    // A third value: the weight average's accuracy (records before it have pairs).
    if (!Array.isArray(e) || (e.length !== 2 && e.length !== 3)) bad(`evals[${i}]`, "[step, accuracy] or [step, accuracy, average's accuracy]", e);
    integer(`evals[${i}][0]`, e[0], 0);
    number(`evals[${i}][1]`, e[1], { min: 0, max: 1, nullable: true });
    if (e.length === 3) number(`evals[${i}][2]`, e[2], { min: 0, max: 1, nullable: true });
  });
  number("savedAt", r.savedAt);
}

function classifier(r) {
  bytes("bytes", r.bytes);
  if (typeof r.fromTrainer !== "boolean") bad("fromTrainer", "true or false", r.fromTrainer);
  if (!optional(r.fuseReport)) object("fuseReport", r.fuseReport);
}

function top(path, v) {
  array(path, v, 1000).forEach((x, i) => {
    object(`${path}[${i}]`, x);
    string(`${path}[${i}].label`, x.label);
    // Softmax in f32: a hair above 1 is rounding.
    number(`${path}[${i}].probability`, x.probability, { min: 0, max: 1.001 });
  });
}

function predictions(r) {
  array("items", r.items, 100).forEach((p, i) => {
    const at = `items[${i}]`;
    object(at, p);
    string(`${at}.name`, p.name);
    if (!optional(p.model)) string(`${at}.model`, p.model);
    if (!optional(p.thumbBlob) && !(p.thumbBlob instanceof Blob)) bad(`${at}.thumbBlob`, "a Blob", p.thumbBlob);
    if (!optional(p.error)) string(`${at}.error`, p.error);
    else {
      object(`${at}.result`, p.result);
      top(`${at}.result.top`, p.result.top);
      number(`${at}.result.ms`, p.result.ms, { min: 0 });
      if (!optional(p.result.topUnfused)) {
        top(`${at}.result.topUnfused`, p.result.topUnfused);
        number(`${at}.result.msUnfused`, p.result.msUnfused, { min: 0 });
      }
    }
  });
}

function study(r) {
  object("options", r.options);
  string("options.study", r.options.study, 100);
  integer("options.seeds", r.options.seeds, 1, 1000);
  object("options.train", r.options.train);
  const rep = object("report", r.report);
  const arms = array("report.arms", rep.arms, 100);
  arms.forEach((a, i) => string(`report.arms[${i}].name`, object(`report.arms[${i}]`, a).name, 100));
  string("report.study", rep.study, 100);
  string("report.dataset", rep.dataset);
  integer("report.stepsPerRun", rep.stepsPerRun, 1);
  integer("report.trainImages", rep.trainImages);
  integer("report.testImages", rep.testImages);
  if (!optional(rep.finished) && typeof rep.finished !== "boolean") bad("report.finished", "true or false", rep.finished);
  array("report.runs", rep.runs, 100_000).forEach((run, i) => {
    object(`report.runs[${i}]`, run);
    integer(`report.runs[${i}].arm`, run.arm, 0, arms.length - 1);
    number(`report.runs[${i}].accuracy`, run.accuracy, { min: 0, max: 1 });
  });
  if (array("report.summary", rep.summary, 100).length !== arms.length) bad("report.summary", `${arms.length} rows, one an arm`, rep.summary);
  rep.summary.forEach((a, i) => {
    const at = `report.summary[${i}]`;
    object(at, a);
    string(`${at}.name`, a.name, 100);
    integer(`${at}.runs`, a.runs);
    for (const k of ["accuracyMean", "accuracyStd", "accuracyMin", "accuracyMax", "fusedMsPerImage"]) number(`${at}.${k}`, a[k], { nullable: true, finite: false });
    for (const k of ["params", "paramsDeploy", "macsDeploy"]) number(`${at}.${k}`, a[k], { min: 0 });
    if (!optional(a.vsReference)) {
      object(`${at}.vsReference`, a.vsReference);
      number(`${at}.vsReference.meanDiff`, a.vsReference.meanDiff);
    }
  });
  array("curves", r.curves, 100_000).forEach((c, i) => {
    const at = `curves[${i}]`;
    object(at, c);
    integer(`${at}.run`, c.run);
    integer(`${at}.arm`, c.arm, 0, arms.length - 1);
    const n = array(`${at}.steps`, c.steps, 1_000_000).length;
    c.steps.forEach((s, j) => number(`${at}.steps[${j}]`, s));
    if (array(`${at}.loss`, c.loss, 1_000_000).length !== n) bad(`${at}.loss`, `${n} values`, c.loss);
    c.loss.forEach((v, j) => number(`${at}.loss[${j}]`, v, { nullable: true, finite: false }));
  });
}

const CHECKS = { own, session, training, classifier, predictions, study };
export const KEYS = Object.keys(CHECKS);

/** The record as the page uses it (a version-0 predictions array as `{items}`), or a reason why
 * it can't be used: `{value}` or `{reason}`. */
export function check(key, stored) {
  try {
    let value = stored;
    if (key === "predictions" && Array.isArray(value)) value = { schema: 0, items: value };
    object("the record", value);
    const schema = value.schema ?? 0;
    if (!Number.isInteger(schema) || schema < 0) bad("schema", "a version number", schema);
    if (schema > SCHEMA) bad("schema", `version ${SCHEMA} or older: this record was written by a newer version of the page`, schema);
    CHECKS[key](value);
    return { value };
  } catch (e) {
    if (e instanceof Invalid) return { reason: e.message };
    // A getter that throws, a structure deeper than the stack: unusable all the same.
    return { reason: String(e?.message ?? e) };
  }
}

/** `record` with the current schema version. */
export const versioned = (record) => ({ ...record, schema: SCHEMA });

// ---- a set-aside record as a file --------------------------------------------------------------
const base64 = (u8) => {
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
};

/** A stored value as JSON-ready data: bytes and Blobs as base64 (`{$type, base64}`), nothing
 * lost; cycles and depth bounded. */
export async function toJson(value, depth = 0, seen = new WeakSet()) {
  if (depth > 64) return { $type: "too deep" };
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) return { $type: "number", value: String(value) };
    return typeof value === "bigint" ? { $type: "bigint", value: String(value) } : value;
  }
  if (seen.has(value)) return { $type: "cycle" };
  seen.add(value);
  if (ArrayBuffer.isView(value)) return { $type: Object.prototype.toString.call(value).slice(8, -1), base64: base64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  if (value instanceof ArrayBuffer) return { $type: "ArrayBuffer", base64: base64(new Uint8Array(value)) };
  if (value instanceof Blob) return { $type: "Blob", type: value.type, name: /** @type {File} */ (value).name, base64: base64(new Uint8Array(await value.arrayBuffer())) };
  if (value instanceof Date) return { $type: "Date", value: value.toISOString() };
  if (Array.isArray(value)) return Promise.all(value.map((v) => toJson(v, depth + 1, seen)));
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = await toJson(v, depth + 1, seen);
  return out;
}
