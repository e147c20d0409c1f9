// The page's side of the worker (worker.js): requests answered by promises, events passed to
// a listener. Shared by the app and the bench page. A lost GPU device or a failed worker is
// handled by starting a fresh one (`restart`): every request still pending is rejected.
export class Rpc {
  constructor({ onEvent = () => {}, onError = () => {} } = {}) {
    this.onEvent = onEvent;
    this.onError = onError;
    this.nextId = 0;
    this.pending = new Map();
    this.worker = null;
    this.restart();
  }

  /** Ends the worker and starts a fresh one; every pending request is rejected with `reason`. */
  restart(reason = "the worker was restarted") {
    this.worker?.terminate();
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
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
