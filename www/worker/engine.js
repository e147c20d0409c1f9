// The engine this worker runs (see rpc.js): the threaded build starts its pool of Web Workers,
// one a core; if it cannot (no shared memory, or not built), the single-threaded one serves.
// And the rule every call into it follows: one at a time.

/** How the failure of a build whose files do not go together begins (a wasm that is not its
 * glue's, a file that does not parse: a damaged copy, as a service worker's cache can hold); the
 * page (update.js, which spells it too) drops its offline copy on it. Only these: a file that could not be fetched
 * (offline, not cached) is no sign of a damaged copy. */
export const BROKEN_BUILD = "the engine's files do not go together";
const broken = (e) => e instanceof WebAssembly.CompileError || e instanceof WebAssembly.LinkError || e instanceof SyntaxError;

/** The wasm module of this worker's build: `{engine, fallback}` (fallback: why the threaded
 * build was asked for and could not serve). */
export async function loadEngine() {
  /** @type {typeof import("../pkg/vanillanet.js")} */
  let engine = null;
  let fallback = null;
  const params = new URL(self.location.href).searchParams;
  if (params.get("build") === "threads") {
    try {
      if (!self.crossOriginIsolated) throw new Error("the page is not cross-origin isolated");
      const pkg = await import("../pkg/threads/vanillanet.js");
      await pkg.default();
      await pkg.initThreadPool(Number(params.get("threads")) || navigator.hardwareConcurrency || 1);
      // The same API as the single-threaded build (the same Rust), with a thread pool.
      engine = /** @type {typeof import("../pkg/vanillanet.js")} */ (/** @type {unknown} */ (pkg));
    } catch (e) {
      fallback = String(e?.message ?? e);
    }
  }
  engine ??= await import("../pkg/vanillanet.js").then(async (pkg) => (await pkg.default(), pkg)).catch((e) => {
    throw broken(e) ? new Error(`${BROKEN_BUILD}: ${e?.message ?? e}`) : e;
  });
  return { engine, fallback };
}

// The Session is borrowed for the whole of an awaited call (wasm-bindgen refuses a second one
// meanwhile), so calls run one at a time, in order.
/** @type {Promise<unknown>} */
let chain = Promise.resolve();
/**
 * @template T
 * @param {() => T} fn
 * @returns {Promise<Awaited<T>>}
 */
export const exclusive = (fn) => {
  const p = /** @type {Promise<Awaited<T>>} */ (chain.then(fn));
  chain = p.catch(() => {});
  return p;
};
