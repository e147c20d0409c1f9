// The one app state. It is never changed in place: `update` makes a new frozen object from the
// old one and a patch, and every subscribed view redraws from it, telling what changed by
// comparing references with what it drew last. A view that throws is caught and said once
// (until it draws again); the other views still draw, and saving goes on.
import { t } from "./i18n.js";

const listeners = [];
/** Views that threw and what they threw, for tests and the message. */
export const failedViews = new Map();
let current = Object.freeze({});

export const get = () => current;

export function init(initial) {
  current = Object.freeze({ ...initial });
}

export function update(patch) {
  current = Object.freeze({ ...current, ...patch });
  for (const l of listeners) {
    try {
      l.view(current);
      if (l.failed !== null) failedViews.delete(l.name);
      l.failed = null;
    } catch (e) {
      const text = String(e?.message ?? e);
      if (l.failed === text) continue;
      l.failed = text;
      failedViews.set(l.name, text);
      console.warn(`view ${l.name} failed:`, e);
      // Said after this round of drawing (the message is a state change of its own).
      queueMicrotask(() => message(t("view.failed", { name: t(`view.${l.name}`) }), "error", text));
    }
  }
}

let mounting = "page";
/** Names the views subscribed from now on (app.js, as it mounts each). */
export const mountingView = (name) => { mounting = name; };

/** `view(state)` runs on every change; `name` says which part of the page it draws. */
export function subscribe(view, name = mounting) {
  listeners.push({ view, name, failed: null });
}

/** Appends to a message list kept to its last five, as a new array. `detail`: technical text
 * from elsewhere (an engine's error), shown after it as it is. */
export function message(text, kind = "error", detail = null) {
  update({ messages: [...current.messages.slice(-4), { text, kind, detail, at: Date.now() }] });
}

/** A remembered value per view: `changed(key, value)` is true when value is not what it saw. */
export function tracker() {
  const seen = new Map();
  return (key, value) => {
    if (seen.has(key) && seen.get(key) === value) return false;
    seen.set(key, value);
    return true;
  };
}
