// The page's side of the worker (www/rpc.js), against a fake Worker: a crash rejects what is
// pending with the crash, and a call made after it is refused at once, told that a fresh worker
// is coming where the Rpc has a recovery (not given the earlier crash as if it had crashed), or
// given the failure where it has none; a fresh worker answers again.
import { test } from "node:test";
import assert from "node:assert/strict";

/** The workers started, newest last; each records what it was sent. */
const workers = [];
globalThis.Worker = class {
  constructor(url) {
    this.url = String(url);
    this.sent = [];
    this.ended = false;
    workers.push(this);
  }
  postMessage(m) {
    this.sent.push(m);
  }
  terminate() {
    this.ended = true;
  }
  /** The worker's message `m`, as the page receives it. */
  send(m) {
    this.onmessage?.({ data: m });
  }
};
const { Rpc } = await import("../../www/rpc.js");
const RESTARTING = "the engine is restarting";
const crashOf = (reason) => `The engine crashed (${reason})`;
const rejection = (promise) => promise.then(() => "answered", (e) => e.message);

test("a call made while a fresh worker is on its way is told so, not given the earlier crash", async () => {
  const rpc = new Rpc({ crashReason: crashOf, restartingReason: () => RESTARTING });
  const pending = rejection(rpc.call("debugPanic"));
  workers.at(-1).send({ type: "crashed", reason: "panicked at src/lib.rs: a panic on purpose" });
  assert.equal(await pending, crashOf("panicked at src/lib.rs: a panic on purpose"), "the call that crashed is given the crash");
  assert.equal(await rejection(rpc.call("loadDataset", { name: "mnist" })), RESTARTING);
  // A second failure reported meanwhile (the recovery's own `fail`) changes nothing of that.
  rpc.fail("The engine crashed (again)");
  assert.equal(await rejection(rpc.call("loadDataset", { name: "mnist" })), RESTARTING);
  rpc.restart("recovering");
  const answer = rpc.call("loadDataset", { name: "mnist" });
  const w = workers.at(-1);
  assert.deepEqual(w.sent.at(-1), { id: w.sent.at(-1).id, type: "loadDataset", name: "mnist" }, "sent to the fresh worker");
  w.send({ type: "reply", id: w.sent.at(-1).id, ok: true, value: "mnist" });
  assert.equal(await answer, "mnist");
});

test("stopped: every call is refused at once with why, until a restart", async () => {
  const rpc = new Rpc({ crashReason: crashOf, restartingReason: () => RESTARTING });
  const pending = rejection(rpc.call("step"));
  rpc.fail("The engine crashed (x)");
  rpc.stop("the engine crashed 3 times within a minute");
  assert.equal(await pending, "The engine crashed (x)");
  assert.equal(await rejection(rpc.call("step")), "the engine crashed 3 times within a minute");
  rpc.restart("starting fresh");
  assert.equal(rpc.dead, null);
  const answer = rpc.call("step");
  const w = workers.at(-1);
  w.send({ type: "reply", id: w.sent.at(-1).id, ok: false, error: "no data" });
  assert.equal(await rejection(answer), "no data");
});

test("without a recovery (the bench page) a call after a crash is given the crash", async () => {
  const rpc = new Rpc({ crashReason: crashOf });
  workers.at(-1).send({ type: "crashed", reason: "unreachable" });
  assert.equal(await rejection(rpc.call("benchLatency")), crashOf("unreachable"));
});

test("what is pending at a restart is rejected with its reason; the ended worker is not listened to", async () => {
  const rpc = new Rpc();
  const old = workers.at(-1);
  const pending = rejection(rpc.call("train"));
  rpc.restart("another build", "threads");
  assert.equal(await pending, "another build");
  assert.equal(old.ended, true);
  assert.match(workers.at(-1).url, /worker\.js\?build=threads$/);
  old.send({ type: "crashed", reason: "late" });
  assert.equal(rpc.dead, null, "an ended worker's last words are not a failure of the next");
});
