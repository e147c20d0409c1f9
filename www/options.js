// The options tables, from Rust (`TrainOptions::table()` and `StudyOptions::form_table()`, over
// the wasm API's `optionsTable`): one row per option with its name, its path in the options,
// its kind, bounds, default and help. They build the forms' fields, read a form into options
// and write options back (a restored session, an API call), read a shared link's parameters
// (`fromQuery`: as people write them, or a reason), and check the API's option arguments
// (`checkArgs`); nothing else in the page knows the options. Labels are the translations'
// `opt.<name>` (a title `opt.<name>.title`, a choice's label `opt.<name>.<value>`, when there).
import * as check from "./checks.js";
import { el } from "./dom.js";
import { has, t } from "./i18n.js";

const text = { read: (v) => v, write: String, parse: (v) => ({ value: v }) };
const KINDS = {
  integer: { read: (v) => Number(v), write: String, parse: (v) => check.parseNumber(v, { whole: true }) },
  number: { read: (v) => Number(v), write: String, parse: (v) => check.parseNumber(v) },
  boolean: { read: (v) => v === "true", write: String, parse: check.parseBoolean },
  choice: text,
  preset: text,
  // A count where 0 means "all" (null in the options).
  count: { read: (v) => (Number(v) > 0 ? Number(v) : null), write: (v) => String(v ?? 0), parse: (v) => check.parseNumber(v, { whole: true }) },
};

/** The training options (Rust's `TrainOptions`), the form `#options`. Filled by `setTables`. */
export const TRAIN = [];
/** The study options (Rust's `StudyOptions`: its own, and the training options the
 * Experiments form shows, under `train`), the form `#study-options`. */
export const STUDY = [];

/** Takes Rust's tables (`{train, study}`) and builds both forms' fields from them. */
export function setTables(tables, forms) {
  useTables(tables);
  buildForm(forms.train, TRAIN);
  buildForm(forms.study, STUDY);
}

/** Takes Rust's tables (`{train, study}`) as `TRAIN` and `STUDY`, without a form. */
export function useTables(tables) {
  for (const [rows, from] of [[TRAIN, tables.train], [STUDY, tables.study]]) rows.splice(0, rows.length, ...from.map((f) => ({ ...f, ...KINDS[f.kind] })));
}

/** The options the table's defaults give. */
export const defaults = (table) => table.reduce((o, f) => setPath(o, f.path, f.default), {});

function choiceLabel(f, value) {
  const key = `opt.${f.name}.${value}`;
  return has(key) ? el("option", { value, "data-i18n": key }, t(key)) : el("option", { value }, value);
}

function control(f) {
  switch (f.kind) {
    case "boolean": return el("select", { name: f.name }, ...["true", "false"].map((v) => choiceLabel(f, v)));
    case "choice": return el("select", { name: f.name }, ...f.values.map((v) => choiceLabel(f, v)));
    // The presets that fit the data: filled by the views when data is loaded.
    case "preset": return el("select", { name: f.name });
    default: return el("input", { name: f.name, type: "number", min: f.min, max: f.max, step: f.kind === "number" ? "any" : undefined });
  }
}

/** One labelled field per option, holding its default. */
function buildForm(form, table) {
  form.replaceChildren(...table.map((f) => {
    const title = `opt.${f.name}.title`;
    const input = control(f);
    if (f.kind !== "preset") input.value = f.write(f.default);
    return el("label", has(title) ? { title: t(title), "data-i18n-attr": `title:${title}` } : {},
      el("span", { "data-i18n": `opt.${f.name}` }, t(`opt.${f.name}`)), " ", input);
  }));
}

const getPath = (o, path) => path.reduce((v, k) => v?.[k], o);
/** @param {any} o @param {string[]} path @param {any} value @returns {any} */
function setPath(o, path, value) {
  const [k, ...rest] = path;
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
 * `seed=1e400`, `deepTraining=maybe`) is refused and named, never replaced; a choice only
 * among the table's values, a preset only among `presets` (those the data has). */
export function fromQuery(table, params, base = {}, presets = []) {
  let options = base;
  const names = [];
  const refused = [];
  for (const f of table) {
    if (!params.has(f.name)) continue;
    const raw = params.get(f.name);
    let { value, reason } = raw.length > MAX_VALUE ? { reason: t("link.tooLong", { n: raw.length }) } : f.parse(raw);
    const choices = reason !== undefined ? null : f.kind === "choice" ? f.values : f.kind === "preset" ? presets : null;
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

// The check of each kind of value for the API's arguments: what JavaScript could pass on wrong
// (a string for a number, NaN, a whole number wasm would wrap). The bounds are Rust's to check,
// once, with its reasons (the same check the form and the CLI get).
const ARG_CHECKS = {
  integer: (f) => (n, v) => check.integer(n, v, 0, Math.max(check.MAX_INDEX, f.max)),
  number: () => check.number,
  boolean: () => check.boolean,
  choice: (f) => (n, v) => check.oneOf(n, v, f.values),
  preset: () => (n, v) => check.string(n, v, MAX_VALUE),
  count: () => (n, v) => (v === null ? v : check.integer(n, v)),
};

/** Options given to the API (`name`: the argument's name): a plain object of the table's
 * options at `path` (`[]` the top, `["train"]` a study's training options), each of its kind;
 * `extra`: more keys with their checks (the loop's `evalEvery`, a
 * study's `train`). */
export function checkArgs(table, name, v, { path = [], extra = {} } = {}) {
  const rows = table.filter((f) => f.path.length === path.length + 1 && path.every((p, i) => f.path[i] === p));
  const known = Object.fromEntries(rows.map((f) => [f.path.at(-1), ARG_CHECKS[f.kind](f)]));
  const o = check.object(name, v, [...Object.keys(known), ...Object.keys(extra)]);
  for (const [key, value] of Object.entries(o)) (known[key] ?? extra[key])(`${name}.${key}`, value);
  return o;
}
