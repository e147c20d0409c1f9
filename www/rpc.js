// The page's side of the worker (worker.js): requests answered by promises, events passed to
// a listener. Shared by the app and the bench page. A lost GPU device or a failed worker is
// handled by starting a fresh one (`restart`): every request still pending is rejected.
// Every request settles in bounded time whatever happens to the worker: a crash it reports
// (a Rust panic, a wasm trap) or an error of the worker itself rejects every pending request
// at once with the reason (`fail`); a request may also carry its own deadline (`timeout`).
// Requests made after that, until a fresh worker is started, are refused at once: with
// `restartingReason` where a fresh worker is on its way (the app's recovery), so that a call
// that never ran is not told it crashed; with the failure itself where none is (`stop`, or
// an Rpc without a recovery).
//
// Two builds of the engine: "single" (WebGPU and a single-threaded CPU backend) and "threads"
// (the CPU backend on a pool of Web Workers, no WebGPU), which needs a cross-origin isolated
// page (COOP/COEP headers) for its shared memory. `buildFor` picks one for a backend.
export class Rpc {
  /** @param {{onEvent?: (event: any) => void, onError?: (error: Error) => void, build?: string, threads?: number | null,
   *   crashReason?: (reason: string) => string, restartingReason?: ((failure: string) => string) | null}} [options] */
  constructor({
    onEvent = () => {}, onError = () => {}, build = "single", threads = null, crashReason = (r) => `the engine crashed (${r})`, restartingReason = null,
  } = {}) {
    this.onEvent = onEvent;
    this.crashReason = crashReason;
    this.restartingReason = restartingReason;
    // Why this worker can answer nothing more (it crashed or failed), or null.
    this.dead = null;
    // What a request made while it is so is told (see `fail` and `stop`).
    this.refusal = null;
    // Counts the workers started: tells a request's failure by this one from a later one's.
    this.generation = 0;
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
    this.rejectAll(reason);
    this.dead = null;
    this.refusal = null;
    this.generation++;
    this.build = build;
    const url = new URL(`./worker.js?build=${build}`, import.meta.url);
    if (this.threads) url.searchParams.set("threads", String(this.threads));
    const w = new Worker(url, { type: "module" });
    this.worker = w;
    // Only the current worker is listened to: an ended one's last events (its error after a
    // crash it reported) are not a failure of the next.
    w.onmessage = ({ data }) => this.worker === w && this.receive(data);
    w.onerror = (e) => {
      const error = new Error(`worker failed: ${e.message}`);
      // A crash the worker reports itself says more (the panic's message): its report, sent
      // just before, is given a moment to arrive first.
      setTimeout(() => {
        if (this.worker !== w || this.dead) return;
        this.fail(error.message);
        this.onError(error);
      }, 50);
    };
    w.onmessageerror = () => this.worker === w && this.fail("worker failed: a message could not be read");
  }

  rejectAll(reason) {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
  }

  /** The worker can answer nothing more: every pending request is rejected with `reason`, and
   * every later one (until a restart) is refused: told that a fresh worker is coming where the
   * Rpc has a `restartingReason`, else given the failure. */
  /** @param {string} reason */
  fail(reason) {
    this.dead ??= reason;
    this.refusal ??= this.restartingReason?.(this.dead) ?? this.dead;
    this.rejectAll(reason);
  }

  /** No fresh worker is coming (until a restart): every pending and later request is rejected
   * with `reason`. */
  /** @param {string} reason */
  stop(reason) {
    this.dead = reason;
    this.refusal = reason;
    this.rejectAll(reason);
  }

  receive(m) {
    if (m.type === "crashed") this.fail(this.crashReason(m.reason));
    if (m.type !== "reply") return this.onEvent(m);
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (!p) return;
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  }

  /** Runs the worker's operation `type` (the page's, the worker's and the Session's name);
   * `timeout` (ms): rejected if no answer comes by then. */
  call(type, payload = {}, { timeout = 0 } = {}) {
    if (this.dead) return Promise.reject(new Error(this.refusal ?? this.dead));
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      const p = { resolve, reject, timer: 0 };
      if (timeout) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`no answer from the engine to '${type}' within ${Math.round(timeout / 1000)} s`));
        }, timeout);
      }
      this.pending.set(id, p);
      try {
        this.worker.postMessage({ id, type, ...payload });
      } catch (e) {
        // A value that cannot be sent (a function, a symbol): refused here, not lost.
        this.pending.delete(id);
        clearTimeout(p.timer);
        reject(e);
      }
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
