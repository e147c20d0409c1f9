// Values from outside the page's own code — a `window.vanillanet` call's arguments, a shared
// link's parameters — are checked here before anything uses them: an integer is a whole number
// within its range (the worker's wasm calls would wrap 2**32 + 1 to 1 and NaN to 0), a name is
// a short string and one of the known ones, a file is a Blob. A value that fails is refused
// with an error naming the argument and what it got; nothing is replaced by a default.
import { t } from "./i18n.js";

/** The largest index or count passed on to the engine (its integers are 32-bit in wasm). */
export const MAX_INDEX = 2 ** 31 - 1;
/** Names (presets, models, class names, device ids) longer than this are refused. */
export const MAX_NAME = 200;

/** A value as a short text for a message: a long string is cut, an object is only described
 * (its own `toString` is never called). */
export function describe(v) {
  if (v === null) return "null";
  switch (typeof v) {
    case "undefined": return "undefined";
    case "string": return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}… (${v.length} characters)` : JSON.stringify(v);
    case "number": case "boolean": case "bigint": return String(v);
    case "function": return t("arg.aFunction");
    case "symbol": return t("arg.aSymbol");
    default: {
      if (Array.isArray(v)) return t("arg.anArray", { n: v.length });
      const kind = Object.prototype.toString.call(v).slice(8, -1);
      if (v instanceof Blob) return t("arg.aBlob", { kind, n: v.size });
      return t("arg.anObject", { kind });
    }
  }
}

export class ArgumentError extends Error {
  constructor(name, want, got) {
    super(t("arg.bad", { name, want, got: describe(got) }));
    this.name = "ArgumentError";
    this.argument = name;
  }
}

/** A whole number from `min` to `max`. */
export function integer(name, v, min = 0, max = MAX_INDEX) {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new ArgumentError(name, t("arg.integer", { min, max }), v);
  return v;
}

/** A finite number from `min` to `max`. */
export function number(name, v, min = -Number.MAX_VALUE, max = Number.MAX_VALUE) {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw new ArgumentError(name, t("arg.number"), v);
  return v;
}

export function boolean(name, v) {
  if (typeof v !== "boolean") throw new ArgumentError(name, t("arg.boolean"), v);
  return v;
}

/** A string of at most `max` characters. */
export function string(name, v, max = MAX_NAME) {
  if (typeof v !== "string" || v.length > max) throw new ArgumentError(name, t("arg.string", { max }), v);
  return v;
}

/** One of `values` (compared as they are: no own-property lookups, so "__proto__" is no name). */
export function oneOf(name, v, values) {
  if (!values.includes(v)) throw new ArgumentError(name, t("arg.oneOf", { values: values.map((x) => JSON.stringify(x)).join(", ") }), v);
  return v;
}

export function blob(name, v) {
  if (!(v instanceof Blob)) throw new ArgumentError(name, t("arg.blob"), v);
  return v;
}

/** A list (an Array, a FileList, ...) of at most `max` Files or Blobs, as an Array. */
export function blobs(name, v, max = 100_000) {
  const list = Array.isArray(v) || (typeof FileList !== "undefined" && v instanceof FileList) ? [...v] : null;
  if (!list || list.length > max) throw new ArgumentError(name, t("arg.files", { max }), v);
  list.forEach((f, i) => blob(`${name}[${i}]`, f));
  return list;
}

const isPlain = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

/** A plain object whose own keys are all among `known` (`undefined` passes as `{}`). */
export function object(name, v, known) {
  if (v === undefined) return {};
  if (!isPlain(v)) throw new ArgumentError(name, t("arg.object"), v);
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) throw new Error(t("arg.unknownKey", { name, key: describe(key), known: known.join(", ") }));
  }
  return v;
}

/** `check(name, v)` unless `v` is undefined. */
export const optional = (check) => (name, v, ...rest) => (v === undefined ? v : check(name, v, ...rest));

// ---- how people write values in a link -------------------------------------------------------
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A number as written in a link (`0.01`, `1e3`, `-2`): `{value}` or `{reason}`. `whole`: it
 * must be an integer that a double holds exactly. Infinity, NaN, hex and empty text are
 * refused, never read as 0. */
export function parseNumber(text, { whole = false } = {}) {
  const s = text.trim();
  if (!DECIMAL.test(s)) return { reason: t("link.notNumber") };
  const value = Number(s);
  if (!Number.isFinite(value)) return { reason: t("link.notRepresentable") };
  if (whole && !Number.isInteger(value)) return { reason: t("link.notWhole") };
  if (whole && !Number.isSafeInteger(value)) return { reason: t("link.notRepresentable") };
  return { value: Object.is(value, -0) ? 0 : value };
}

/** A yes/no as written in a link: `1`, `true`, `yes`, `on` and `0`, `false`, `no`, `off`. */
export function parseBoolean(text) {
  const s = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(s)) return { value: true };
  if (["0", "false", "no", "off"].includes(s)) return { value: false };
  return { reason: t("link.notBoolean") };
}
