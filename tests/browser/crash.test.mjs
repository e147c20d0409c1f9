// A crash never hangs the page: a panic in Rust inside an awaited call rejects that call with
// the panic's message, the page starts a fresh worker from the last saved state and says so,
// and training goes on; a call made while it restarts is told so, not given the crash.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, waitFor } from "./harness.mjs";

test("a panic in the engine is recovered from", { timeout: 180_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    const options = { preset: "nano_28", batchSize: 32, epochs: 1, decayEpochs: 1 };
    for (let i = 0; i < 3; i++) await page.evaluate((o) => window.vanillanet.step(o), options);
    await page.evaluate(() => window.vanillanet.whenSaved());
    const answer = await page.evaluate(() => window.vanillanet.debug.panic().then(() => "settled", (e) => e.message));
    assert.match(answer, /The engine crashed \(.*a panic on purpose/);
    await waitFor(page, () => /recovered( on the CPU)? at step 3/.test(document.querySelector("#messages").textContent), null, { timeout: 60_000 });
    assert.match(await page.textContent("#messages"), /The engine crashed/);
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 3, "back at the saved step");
    const next = await page.evaluate((o) => window.vanillanet.step(o).then((r) => r.globalStep), options);
    assert.equal(next, 4, "and it trains on");
    // The panic is logged (console_error_panic_hook); nothing else went wrong.
    assert.deepEqual(errors.filter((e) => !/panic|unreachable|RuntimeError/i.test(e)), []);
  } finally {
    await close();
  }
});

const OPTIONS = { preset: "nano_28", batchSize: 32, epochs: 1, decayEpochs: 1 };
const panic = (page) => page.evaluate(async () => {
  const t0 = performance.now();
  const message = await window.vanillanet.debug.panic().then(() => "settled", (e) => e.message);
  return { message, ms: performance.now() - t0 };
});
const engineUp = (page) => waitFor(page, () => window.vanillanet.status().engine === "up", null, { timeout: 90_000 });

test("two crashes in a row: each call settles, each is recovered from, saving goes on", { timeout: 300_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    for (let i = 0; i < 3; i++) await page.evaluate((o) => window.vanillanet.step(o), OPTIONS);
    await page.evaluate(() => window.vanillanet.whenSaved());
    for (let round = 0; round < 2; round++) {
      const { message, ms } = await panic(page);
      assert.match(message, /The engine crashed \(.*a panic on purpose/, `crash ${round + 1}`);
      assert.ok(ms < 5000, `the call settled in ${Math.round(ms)} ms`);
      console.log(`crash ${round + 1}: the call settled in ${Math.round(ms)} ms`);
      await engineUp(page);
      assert.equal(await page.evaluate(() => window.vanillanet.status().step), 3, "back at the saved step");
    }
    // It trains on, and what it trains is saved.
    assert.equal((await page.evaluate((o) => window.vanillanet.step(o), OPTIONS)).globalStep, 4);
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 4, "saved after the crashes");
  } finally {
    await close();
  }
});

test("a call made while the engine restarts is told so, not given the earlier crash; once up it runs", { timeout: 300_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    await page.evaluate((o) => window.vanillanet.step(o), OPTIONS);
    await page.evaluate(() => window.vanillanet.whenSaved());
    // Two panics, then a call, each as soon as the one before settles: the engine is down.
    const answers = await page.evaluate(async () => {
      const settle = (p) => p.then(() => "answered", (e) => e.message);
      const first = await settle(window.vanillanet.debug.panic());
      const second = await settle(window.vanillanet.debug.panic());
      const load = await settle(window.vanillanet.loadDataset("mnist"));
      return { first, second, load };
    });
    assert.match(answers.first, /The engine crashed \(.*a panic on purpose/);
    for (const [call, answer] of [["the second panic", answers.second], ["loadDataset", answers.load]]) {
      assert.doesNotMatch(answer, /panic|crashed \(/, `${call} is not given the earlier crash`);
      if (answer !== "answered") assert.match(answer, /^the engine is restarting .*try again once vanillanet\.status\(\)\.engine is "up"/, call);
    }
    // Once up, the session is back and the call runs.
    await engineUp(page);
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 1, "back at the saved step");
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    await waitFor(page, () => /^mnist/.test(document.querySelector("#data-summary").textContent));
  } finally {
    await close();
  }
});

test("a saved record that crashes the engine on restore is set aside; the rest comes back", { timeout: 300_000 }, async () => {
  const { page, context, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    // Restoring the training panics in Rust (the request is turned into debugPanic), as a record
    // that crashes the engine would.
    await context.addInitScript(() => {
      if (!sessionStorage.getItem("crashOnRestore")) return;
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (m, ...rest) {
        return post.call(this, m?.type === "restore" ? { ...m, type: "debugPanic" } : m, ...rest);
      };
    });
    for (let i = 0; i < 2; i++) await page.evaluate((o) => window.vanillanet.step(o), OPTIONS);
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.evaluate(() => sessionStorage.setItem("crashOnRestore", "1"));
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
    await engineUp(page);
    assert.match(await page.textContent("#aside"), /the training state, set aside at .*the engine crashed while restoring it \(The engine crashed \(.*a panic on purpose/);
    assert.match(await page.textContent("#data-summary"), /^fashion-mnist/, "the rest came back");
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 0);
    assert.equal((await page.evaluate((o) => window.vanillanet.step(o), OPTIONS)).globalStep, 1, "and it trains");
  } finally {
    await close();
  }
});

test("repeated crashes stop after a bound and offer to start fresh, keeping the records", { timeout: 400_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    await page.evaluate((o) => window.vanillanet.step(o), OPTIONS);
    await page.evaluate(() => window.vanillanet.whenSaved());
    for (let i = 0; i < 3; i++) {
      await panic(page);
      await engineUp(page);
    }
    const { message, ms } = await panic(page);
    assert.match(message, /The engine crashed/);
    assert.ok(ms < 5000);
    await waitFor(page, () => window.vanillanet.status().engine === "stopped");
    assert.equal(await page.isVisible("#crash-loop"), true);
    assert.match(await page.textContent("#crash-loop"), /The engine keeps crashing/);
    // Every call settles at once, with the reason.
    const refused = await page.evaluate(async () => {
      const t0 = performance.now();
      const m = await window.vanillanet.step().then(() => "answered", (e) => e.message);
      return { m, ms: performance.now() - t0 };
    });
    assert.match(refused.m, /crashed 3 times within a minute/);
    assert.ok(refused.ms < 1000);
    await page.click("#start-fresh");
    await engineUp(page);
    assert.equal(await page.isHidden("#crash-loop"), true);
    assert.match(await page.textContent("#aside"), /the training state, set aside at .*started fresh/);
    assert.equal((await page.evaluate((o) => window.vanillanet.step(o), OPTIONS)).globalStep, 1);
  } finally {
    await close();
  }
});

// Found by the soak (seed 11): a lost GPU device while the training's last save had failed (the
// lost device's own snapshot, or a full disk) stopped the recovery at "training state not saved":
// the move to the CPU build waited to save what the fresh worker did not hold. The page then
// said "idle" with the lost model's step, and "paused" after a reload. And where the recovery
// went through, the model was restored twice (the move and the recovery each restored).
test("a lost device with the training left unsaved: recovered on the CPU at the saved step, paused, restored once", { timeout: 300_000 }, async () => {
  const { page, close } = await open({ webgpu: true, query: "?backend=webgpu" });
  try {
    for (let i = 0; i < 2; i++) await page.evaluate((o) => window.vanillanet.step(o), OPTIONS);
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.evaluate(() => {
      window.full = true;
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (...a) {
        if (window.full) throw new DOMException("the quota has been exceeded", "QuotaExceededError");
        return put.apply(this, a);
      };
    });
    await page.evaluate((o) => window.vanillanet.step(o), OPTIONS);
    assert.match(await page.evaluate(() => window.vanillanet.whenSaved().then(() => "saved", (e) => e.message)), /full/);
    await page.evaluate(() => { window.full = false; });
    assert.equal(await page.evaluate(() => window.vanillanet.debug.loseDevice()), 1);
    await waitFor(page, () => /recovered on the CPU|recovery failed/.test(document.querySelector("#messages").textContent), null, { timeout: 90_000 });
    await engineUp(page);
    const messages = await page.textContent("#messages");
    assert.doesNotMatch(messages, /recovery failed/);
    assert.match(messages, /recovered on the CPU at step 2/);
    assert.equal(messages.match(/restored the model at step 2/g)?.length, 1, messages);
    const status = await page.evaluate(() => window.vanillanet.status());
    assert.deepEqual([status.backend, status.state, status.step], ["cpu", "paused", 2]);
    assert.equal(await page.evaluate(() => window.vanillanet.whenSaved().then(() => "saved", (e) => e.message)), "saved");
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
    const reloaded = await page.evaluate(() => window.vanillanet.status());
    assert.deepEqual([reloaded.state, reloaded.step], ["paused", 2]);
  } finally {
    await close();
  }
});
