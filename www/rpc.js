// The page's side of the worker (worker.js): requests answered by promises, events passed to
// a listener. Shared by the app and the bench page. A lost GPU device or a failed worker is
// handled by starting a fresh one (`restart`): every request still pending is rejected.
//
// Two builds of the engine: "single" (WebGPU and a single-threaded CPU backend) and "threads"
// (the CPU backend on a pool of Web Workers, no WebGPU), which needs a cross-origin isolated
// page (COOP/COEP headers) for its shared memory. `buildFor` picks one for a backend.
export class Rpc {
  constructor({ onEvent = () => {}, onError = () => {}, build = "single", threads = null } = {}) {
    this.onEvent = onEvent;
    this.onError = onError;
    this.nextId = 0;
    this.pending = new Map();
    this.worker = null;
    this.build = build;
    // The threaded build's pool size (default: one a core).
    this.threads = threads;
    this.restart(undefined, build);
  }

  /** Ends the worker and starts a fresh one (of `build`); every pending request is rejected
   * with `reason`. */
  restart(reason = "the worker was restarted", build = this.build) {
    this.worker?.terminate();
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
    this.build = build;
    const url = new URL(`./worker.js?build=${build}`, import.meta.url);
    if (this.threads) url.searchParams.set("threads", this.threads);
    this.worker = new Worker(url, { type: "module" });
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.worker.onerror = (e) => this.onError(new Error(`worker failed: ${e.message}`));
  }

  receive(m) {
    if (m.type !== "reply") return this.onEvent(m);
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (!p) return;
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  }

  /** Runs the worker's operation `type` (the page's, the worker's and the Session's name). */
  call(type, payload = {}) {
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, type, ...payload });
    });
  }
}

/** Whether this page can run the threaded build: shared memory needs cross-origin isolation. */
export const canThread = () => Boolean(self.crossOriginIsolated && self.SharedArrayBuffer);

/** The build a backend ("webgpu", "cpu", "auto") runs on: the threaded one for the CPU where
 * the page allows it. "auto" is the CPU when the browser has no WebGPU adapter. */
export async function buildFor(backend) {
  if (!canThread()) return "single";
  if (backend === "cpu") return "threads";
  if (backend === "webgpu") return "single";
  const adapter = await navigator.gpu?.requestAdapter().catch(() => null);
  return adapter ? "single" : "threads";
}
