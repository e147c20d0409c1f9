// The options tables: one row per option, naming its form field and how its value reads. They
// drive reading a form into options, writing options back into it (a restored session, an API
// call), and nothing else knows the fields.
const number = { read: (v) => Number(v), write: String };
const text = { read: (v) => v, write: String };
const bool = { read: (v) => v === "true", write: String };
// A count where 0 means "all" (null in the options).
const count = { read: (v) => (Number(v) > 0 ? Number(v) : null), write: (v) => String(v ?? 0) };

/** The training options (Rust's `TrainOptions`), from the form `#options`. */
export const TRAIN = [
  ["preset", text], ["actNum", number], ["deepTraining", bool], ["shortcut", text], ["decayEpochs", number],
  ["schedule", text], ["perStep", bool], ["optimizer", text], ["learningRate", number], ["weightDecay", number],
  ["momentum", number], ["batchSize", number], ["epochs", number], ["seed", number],
].map(([name, kind]) => ({ name, path: [name], ...kind }));

/** The study options (Rust's `StudyOptions`), from `#study-options`; `train` takes the rest
 * from the training form. */
export const STUDY = [
  ["study", ["study"], text], ["seeds", ["seeds"], number], ["trainImages", ["trainImages"], count],
  ["testImages", ["testImages"], count], ["preset", ["train", "preset"], text], ["epochs", ["train", "epochs"], number],
  ["decayEpochs", ["train", "decayEpochs"], number],
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

/** The options a link's parameters set (only those it has), laid over `base`, and their names. */
export function fromQuery(table, params, base = {}) {
  const set = table.filter((f) => params.has(f.name));
  return { options: set.reduce((o, f) => setPath(o, f.path, f.read(params.get(f.name))), base), names: set.map((f) => f.name) };
}
