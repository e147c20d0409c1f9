// Sharing a run: the options, seed, dataset and backend travel in the URL; opening the link
// fills the form and says what it set, and never replaces a saved session unasked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, waitFor } from "./harness.mjs";

const ready = (page) => waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });

test("a shared link fills the form, and keeps a saved session", { timeout: 180_000 }, async () => {
  const link = "?backend=cpu&dataset=mnist&preset=nano_28&learningRate=0.01&epochs=2&seed=7&schedule=linear";
  const { page, close } = await open({ webgpu: false, query: link });
  try {
    assert.equal(await page.inputValue('#options [name="learningRate"]'), "0.01");
    assert.equal(await page.inputValue('#options [name="seed"]'), "7");
    assert.equal(await page.inputValue('#options [name="preset"]'), "nano_28");
    assert.equal(await page.inputValue('#options [name="schedule"]'), "linear");
    assert.match(await page.textContent("#data-summary"), /^mnist/);
    assert.match(await page.textContent("#messages"), /the link set dataset mnist, Preset nano_28, Schedule linear, Learning rate 0.01, Epochs 2, Seed 7/);
    const shared = new URL(await page.evaluate(() => window.vanillanet.shareLink()));
    for (const [k, v] of [["learningRate", "0.01"], ["seed", "7"], ["dataset", "mnist"], ["backend", "cpu"], ["preset", "nano_28"], ["epochs", "2"]]) {
      assert.equal(shared.searchParams.get(k), v, k);
    }

    // With a saved model, another link's options are not applied over it.
    await page.evaluate(() => window.vanillanet.step());
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.goto(page.url().replace("learningRate=0.01", "learningRate=0.5").replace("seed=7", "seed=9"));
    await ready(page);
    assert.equal(await page.inputValue('#options [name="learningRate"]'), "0.01", "the saved run's options stay");
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 1);
    assert.match(await page.textContent("#messages"), /the link's settings were not applied, to keep the saved session/);
  } finally {
    await close();
  }
});
