// Settings are checked once, in Rust: the form shows the reason beside the field, and the API
// rejects with it, before anything trains.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, waitFor } from "./harness.mjs";

test("options out of range are refused with the reason beside the field", { timeout: 120_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    await page.locator('#options [name="learningRate"]').fill("1000000");
    await waitFor(page, () => document.querySelector("#options .field-error")?.textContent);
    assert.match(await page.textContent("#options .field-error"), /learning rate 1000000 is out of range: above 0, at most 10/);
    assert.equal(await page.getAttribute('#options [name="learningRate"]', "aria-invalid"), "true");
    const rejected = await page.evaluate(() => window.vanillanet.train({ learningRate: 1e6 }).then(() => "trained", (e) => e.message));
    assert.match(rejected, /learning rate 1000000 is out of range/);
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 0, "nothing trained");

    await page.locator('#options [name="learningRate"]').fill("0.002");
    await page.locator('#options [name="epochs"]').fill("1");
    await page.locator('#options [name="decayEpochs"]').fill("4");
    await waitFor(page, () => /must not exceed epochs \(1\)/.test(document.querySelector("#options .field-error")?.textContent ?? ""));
    assert.equal(await page.locator("#options .field-error").count(), 1, "one reason, beside its field");
    await page.locator('#options [name="decayEpochs"]').fill("1");
    await waitFor(page, () => document.querySelectorAll("#options .field-error").length === 0);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
