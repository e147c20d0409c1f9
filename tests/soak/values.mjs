//! The soak's randomness: a seeded PRNG, and the values it draws (valid, edge and garbage) as
//! JSON tokens, so that an action log replays exactly; `PAGE_HELPERS` turns the tokens back
//! into values inside the page (NaN, Infinity, Blobs, typed arrays) and keeps every call the
//! soak makes in a registry, so that a call left unanswered is seen.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { png, pngHeader, root } from "../browser/harness.mjs";

/** mulberry32: small, fast, and the same on every machine. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    /** One of `[weight, value]` pairs, by weight. */
    weighted(pairs) {
      let r = next() * pairs.reduce((s, [w]) => s + w, 0);
      for (const [w, v] of pairs) if ((r -= w) < 0) return v;
      return pairs.at(-1)[1];
    },
  };
}

/** Values no argument accepts, as tokens (`{$: ...}` decoded in the page). Strings are kept
 * free of the words the UI check looks for, so a name shown back is no false alarm. */
export const GARBAGE = [
  { $: "NaN" }, -1, 2 ** 32, 2 ** 32 + 1, 1e300, -0.5, { $: "Infinity" }, { $: "-Infinity" }, "__proto__", "1", "", {}, [], null,
  true, { $: "undefined" }, { $: "longString", n: 100_000 }, "<img src=x onerror=window.__pwned=1>", { $: "symbolish" }, 2 ** 53,
  -(2 ** 53), { $: "fn" }, { $: "bigint" },
];

/** A garbage value and its label for the log. */
export const garbage = (rng) => rng.pick(GARBAGE);

const fixture = (name) => readFileSync(join(root, "tests", "fixtures", "hostile", name)).toString("base64");
const HOSTILE_FILES = ["payload-pickle.pth", "payload-zip.pth"];

/** A file token: a real PNG, a PNG that declares a huge size, a PNG cut short, random bytes,
 * text named .png, an empty file, or one of the hostile checkpoints. */
export function fileToken(rng, { kind } = {}) {
  const k = kind ?? rng.weighted([[6, "png"], [1, "hugeHeader"], [1, "truncated"], [1, "random"], [1, "text"], [1, "empty"], [1, "pth"]]);
  const seed = rng.int(1, 1e6);
  const colour = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
  switch (k) {
    case "png": return { $: "file", name: `img-${seed}.png`, type: "image/png", b64: png(rng.int(8, 48), colour, seed).toString("base64") };
    case "hugeHeader": return { $: "file", name: `huge-${seed}.png`, type: "image/png", b64: pngHeader(rng.pick([65535, 100000, 2 ** 31 - 1]), rng.pick([1, 65535, 2 ** 31 - 1])).toString("base64") };
    case "truncated": {
      const whole = png(32, colour, seed);
      return { $: "file", name: `cut-${seed}.png`, type: "image/png", b64: whole.subarray(0, rng.int(8, whole.length - 1)).toString("base64") };
    }
    case "random": return { $: "file", name: `noise-${seed}.jpg`, type: "image/jpeg", b64: Buffer.from(Array.from({ length: rng.int(1, 2000) }, () => rng.int(0, 255))).toString("base64") };
    case "text": return { $: "file", name: `notes-${seed}.png`, type: "image/png", b64: Buffer.from("these are notes, not pixels").toString("base64") };
    case "empty": return { $: "file", name: `empty-${seed}.png`, type: "image/png", b64: "" };
    default: {
      const name = rng.pick(HOSTILE_FILES);
      return { $: "file", name, type: "application/octet-stream", b64: fixture(name) };
    }
  }
}

/** Installed in every page of the soak's browser context (an init script: the page's CSP does
 * not govern it). `__soak.decode` turns tokens into values; `__soak.call` calls a
 * `window.vanillanet` function, racing it against a bound, and keeps it in `pending` until it
 * settles; `__soak.quota` on makes IndexedDB writes throw QuotaExceededError. */
export function PAGE_HELPERS() {
  const decode = (v) => {
    if (Array.isArray(v)) return v.map(decode);
    if (v && typeof v === "object") {
      if (typeof v.$ !== "string") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
      switch (v.$) {
        case "NaN": return NaN;
        case "Infinity": return Infinity;
        case "-Infinity": return -Infinity;
        case "undefined": return undefined;
        case "longString": return "x".repeat(v.n);
        case "symbolish": return { toString() { throw new Error("a value whose toString throws"); } };
        case "fn": return () => 1;
        case "bigint": return 10n ** 30n;
        case "f32": return new Float32Array(v.n).fill(v.fill ?? 0.5);
        case "f64": return new Float64Array(v.n);
        case "file": return new File([Uint8Array.from(atob(v.b64), (c) => c.charCodeAt(0))], v.name, { type: v.type });
        case "blob": return new Blob([Uint8Array.from(atob(v.b64), (c) => c.charCodeAt(0))], { type: v.type });
        default: return v;
      }
    }
    return v;
  };
  const pending = new Map();
  let next = 0;
  const soak = {
    decode,
    pending,
    /** Another on every load of the page: a changed token is a reload the soak did not make. */
    token: Math.random(),
    quota: false,
    /** Calls `path` with the decoded `args`; answers `{ok, value}` (a summary) or `{ok: false,
     * message}`, or `{timeout: true}` after `bound` ms (the call stays pending). */
    async call(path, args, bound) {
      const id = next++;
      const fn = path.split(".").reduce((o, k) => o?.[k], window.vanillanet);
      const started = performance.now();
      pending.set(id, { path, started });
      const settled = Promise.resolve().then(() => fn(...decode(args))).then(
        (value) => ({ ok: true, value: summary(value) }),
        (e) => ({ ok: false, name: e?.name ?? null, message: String(e?.message ?? e) }),
      ).finally(() => pending.delete(id));
      const timer = new Promise((r) => setTimeout(() => r({ timeout: true }), bound));
      const answer = await Promise.race([settled, timer]);
      return { ...answer, ms: Math.round(performance.now() - started) };
    },
    /** The calls still unanswered after `bound` ms. */
    overdue: (bound) => [...pending.values()].filter((p) => performance.now() - p.started > bound).map((p) => p.path),
  };
  const summary = (v) => {
    if (v instanceof Blob) return { blob: v.size, type: v.type };
    try {
      const s = JSON.stringify(v, (k, x) => (ArrayBuffer.isView(x) ? { typed: x.length } : x instanceof Blob ? { blob: x.size } : x));
      return s === undefined ? null : JSON.parse(s.length > 4000 ? JSON.stringify(s.slice(0, 4000)) : s);
    } catch (e) {
      return String(e);
    }
  };
  window.__soak = soak;
  // A full disk, on demand: every IndexedDB write throws as a full quota makes it fail.
  for (const method of ["put", "add"]) {
    const original = IDBObjectStore.prototype[method];
    IDBObjectStore.prototype[method] = function (...a) {
      if (soak.quota) throw new DOMException("The quota has been exceeded (injected by the soak)", "QuotaExceededError");
      return original.apply(this, a);
    };
  }
}
