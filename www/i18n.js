// The page's languages: every user-facing string is in one table per language (i18n/en.js,
// i18n/ko.js, the same keys), numbers and times are formatted for the language's locale. The
// language is the saved choice, else the browser's first language we have, else English.
import en from "./i18n/en.js";
import ko from "./i18n/ko.js";

export const LANGUAGES = { en: { name: "English", table: en, locale: "en-US" }, ko: { name: "한국어", table: ko, locale: "ko-KR" } };
const SAVED = "vanillanet.language";
// The browser's languages (none where there is no navigator: the unit tests, in Node).
const nav = globalThis.navigator ?? { languages: [], language: "en" };

function pick() {
  try {
    const saved = localStorage.getItem(SAVED);
    // An own key of the table: "__proto__" or "toString" saved there is no language.
    if (Object.hasOwn(LANGUAGES, saved)) return saved;
  } catch {
    // Storage may be off (a private window's settings): the browser's language decides.
  }
  for (const tag of nav.languages?.length ? nav.languages : [nav.language ?? "en"]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (Object.hasOwn(LANGUAGES, base)) return base;
  }
  return "en";
}

export const lang = pick();
const table = LANGUAGES[lang].table;
/** The browser's own locale when it is of this language (ko-KR, en-GB, ...), else the default. */
export const locale = (nav.languages ?? []).find((l) => l.toLowerCase().split("-")[0] === lang) ?? LANGUAGES[lang].locale;

/** The string `key` in the page's language; entries that are functions take `args`. */
export function t(key, args = {}) {
  const entry = table[key] ?? en[key];
  if (entry === undefined) throw new Error(`no string '${key}'`);
  return typeof entry === "function" ? entry(args) : entry;
}

/** Whether the page has a string `key` (an option's title or a choice's label may have none). */
export const has = (key) => Object.hasOwn(en, key);

/** Keeps the choice and reloads the page in that language (the session comes back from disk). */
export function setLanguage(code) {
  if (typeof code !== "string" || !Object.hasOwn(LANGUAGES, code)) throw new Error(`no language '${String(code).slice(0, 40)}'`);
  localStorage.setItem(SAVED, code);
  location.reload();
}

const formats = new Map();
function format(options) {
  const key = JSON.stringify(options);
  if (!formats.has(key)) formats.set(key, new Intl.NumberFormat(locale, options));
  return formats.get(key);
}
/** A number with `digits` decimals (or as many as it has, up to 3). */
export const num = (n, digits) => format(digits === undefined ? { maximumFractionDigits: 3 } : { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
export const percent = (v, digits = 1) => format({ style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);
/** Counts as people read them: 11.4K, 1.1만. */
export const compact = (n) => format({ notation: "compact", maximumFractionDigits: 1 }).format(n);
export const time = (date) => new Date(date).toLocaleTimeString(locale);
/** Text without a single letter of the page's script is in English (engine messages, names):
 * marked so, for screen readers. */
export const foreign = (text) => (lang === "ko" && !/[\uac00-\ud7a3]/.test(text) ? "en" : undefined);

/** Static text of the page: `data-i18n="key"` sets the text, `data-i18n-attr="attr:key ..."`
 * attributes. */
export function translatePage(root = document) {
  document.documentElement.lang = lang;
  for (const node of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll("[data-i18n]"))) node.textContent = t(node.dataset.i18n);
  for (const node of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll("[data-i18n-attr]"))) {
    for (const pair of node.dataset.i18nAttr.trim().split(/\s+/)) {
      const [attr, key] = pair.split(":");
      node.setAttribute(attr, t(key));
    }
  }
}
