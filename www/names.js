// The names the engine takes from the page, said once: backends and weights are Rust's enums
// (`BackendRequest`, `Backend`, `Weights` in pkg/vanillanet.d.ts, generated from them), listed here as
// records over those types, so that tsc refuses a name missing or one too many; the built-in
// datasets are Rust's `BUILTIN_DATASETS` (src/data/mod.rs), which tests/unit/names.test.mjs
// keeps equal to this list. Orders are those the page's messages list them in.

/** @type {Record<import("../pkg/vanillanet.js").BackendRequest, true>} */
const backends = { auto: true, webgpu: true, cpu: true };
/** @type {Record<import("../pkg/vanillanet.js").Backend, true>} */
const running = { cpu: true, webgpu: true };
/** @type {Record<import("../pkg/vanillanet.js").Weights, true>} */
const weights = { ema: true, trained: true };

/** What `setBackend` takes ("auto": WebGPU where there is an adapter, else the CPU). */
export const BACKENDS = Object.keys(backends);
/** The backends an engine runs on (what "auto" becomes; the bench page's choices). */
export const RUNNING_BACKENDS = Object.keys(running);
/** Which weights fusing and the exports take: the moving average or the trained ones. */
export const WEIGHTS = Object.keys(weights);
/** The datasets served with the page (files under data/). */
export const DATASETS = ["fashion-mnist", "mnist"];
