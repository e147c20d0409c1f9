// The options tables: one row per option, naming its form field and how its value reads. They
// drive reading a form into options, writing options back into it (a restored session, an API
// call), reading a shared link's parameters (`parse`: as people write them, or a reason), and
// nothing else knows the fields.
import { parseBoolean, parseNumber } from "./checks.js";
import { t } from "./i18n.js";

const number = { read: (v) => Number(v), write: String, parse: (v) => parseNumber(v) };
const integer = { read: (v) => Number(v), write: String, parse: (v) => parseNumber(v, { whole: true }) };
const text = { read: (v) => v, write: String, parse: (v) => ({ value: v }) };
const bool = { read: (v) => v === "true", write: String, parse: parseBoolean };
// A count where 0 means "all" (null in the options).
const count = { read: (v) => (Number(v) > 0 ? Number(v) : null), write: (v) => String(v ?? 0), parse: (v) => parseNumber(v, { whole: true }) };

/** The training options (Rust's `TrainOptions`), from the form `#options`. */
export const TRAIN = [
  ["preset", text], ["actNum", integer], ["deepTraining", bool], ["shortcut", text], ["decayEpochs", integer],
  ["schedule", text], ["perStep", bool], ["optimizer", text], ["learningRate", number], ["weightDecay", number],
  ["momentum", number], ["batchSize", integer], ["epochs", integer], ["seed", integer],
].map(([name, kind]) => ({ name, path: [name], ...kind }));

/** The study options (Rust's `StudyOptions`), from `#study-options`; `train` takes the rest
 * from the training form. */
export const STUDY = [
  ["study", ["study"], text], ["seeds", ["seeds"], integer], ["trainImages", ["trainImages"], count],
  ["testImages", ["testImages"], count], ["preset", ["train", "preset"], text], ["epochs", ["train", "epochs"], integer],
  ["decayEpochs", ["train", "decayEpochs"], integer],
].map(([name, path, kind]) => ({ name, path, ...kind }));

const getPath = (o, path) => path.reduce((v, k) => v?.[k], o);
function setPath(o, [k, ...rest], value) {
  return rest.length ? { ...o, [k]: setPath(o[k] ?? {}, rest, value) } : { ...o, [k]: value };
}

/** The options a form holds, laid over `base`. */
export function read(form, table, base = {}) {
  return table.reduce((o, f) => (form.elements[f.name] ? setPath(o, f.path, f.read(form.elements[f.name].value)) : o), base);
}

/** Puts `options` into the form's fields (those it has). */
export function write(form, table, options) {
  for (const f of table) {
    const v = getPath(options, f.path);
    if (v !== undefined && form.elements[f.name]) form.elements[f.name].value = f.write(v);
  }
}

/** Names of the options whose values differ. */
export function changed(table, a, b) {
  return table.filter((f) => getPath(a, f.path) !== getPath(b, f.path)).map((f) => f.name);
}

/** The options as URL query parameters (a shared link), by their form names. */
export function toQuery(table, options, params = new URLSearchParams()) {
  for (const f of table) {
    const v = getPath(options, f.path);
    if (v !== undefined && v !== null) params.set(f.name, f.write(v));
  }
  return params;
}

/** What a link's parameters set (only those it has), laid over `base`: `{options, names,
 * refused: [{name, value, reason}]}`. A value that does not read as its kind (`epochs=ten`,
 * `seed=1e400`, `deepTraining=maybe`) is refused and named, never replaced; `offered(name)`,
 * when it gives a list, is what a text option may be (a select's choices). */
export function fromQuery(table, params, base = {}, offered = () => null) {
  let options = base;
  const names = [];
  const refused = [];
  for (const f of table) {
    if (!params.has(f.name)) continue;
    const raw = params.get(f.name);
    let { value, reason } = raw.length > MAX_VALUE ? { reason: t("link.tooLong", { n: raw.length }) } : f.parse(raw);
    const choices = reason === undefined ? offered(f.name) : null;
    if (choices && !choices.includes(value)) reason = t("link.notOffered", { values: choices.join(", ") });
    if (reason !== undefined) refused.push({ name: f.name, value: raw, reason });
    else {
      options = setPath(options, f.path, value);
      names.push(f.name);
    }
  }
  return { options, names, refused };
}

/** Longest value a link's parameter may have (a preset name, a number). */
export const MAX_VALUE = 64;
