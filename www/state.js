// The one app state. It is never changed in place: `update` makes a new frozen object from the
// old one and a patch, and every subscribed view redraws from it, telling what changed by
// comparing references with what it drew last.
const listeners = [];
let current = Object.freeze({});

export const get = () => current;

export function init(initial) {
  current = Object.freeze({ ...initial });
}

export function update(patch) {
  current = Object.freeze({ ...current, ...patch });
  for (const f of listeners) f(current);
}

export function subscribe(view) {
  listeners.push(view);
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
