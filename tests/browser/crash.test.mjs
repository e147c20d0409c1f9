// A crash never hangs the page: a panic in Rust inside an awaited call rejects that call with
// the panic's message, the page starts a fresh worker from the last saved state and says so,
// and training goes on.
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
