// Nothing lost: two tabs of the page (one saves, the other says so and can take over, neither
// overwrites or resets the other's work unseen), and a saved session of which one part cannot
// come back (own images with one class) still restores the rest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, waitFor } from "./harness.mjs";

const ready = (page) => waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });

test("a second tab saves nothing until it takes over", { timeout: 240_000 }, async () => {
  const { page, url, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    const options = { preset: "nano_28", batchSize: 32, epochs: 1, decayEpochs: 1 };
    for (let i = 0; i < 2; i++) await page.evaluate((o) => window.vanillanet.step(o), options);
    await page.evaluate(() => window.vanillanet.whenSaved());
    assert.equal(await page.isHidden("#tab-owner"), true, "the first tab owns the session");

    const second = await page.context().newPage();
    await second.goto(url);
    await ready(second);
    assert.equal(await second.isVisible("#tab-owner"), true);
    assert.match(await second.textContent("#tab-owner"), /open in another tab, which saves it/);
    assert.equal(await second.evaluate(() => window.vanillanet.status().step), 2, "it shows the saved work");
    // A reset there is not saved: the first tab's training survives its reload.
    await second.evaluate(() => window.vanillanet.reset());
    await waitFor(second, () => window.vanillanet.status().step === 0);
    await page.reload();
    await ready(page);
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 2, "nothing lost");

    await second.click("#take-over");
    await waitFor(second, () => document.querySelector("#tab-owner").hidden && window.vanillanet.status().step === 2);
    await waitFor(page, () => /took this session over/.test(document.querySelector("#tab-owner").textContent) && !document.querySelector("#tab-owner").hidden);
    await second.close();
  } finally {
    await close();
  }
});

test("a saved part that cannot come back does not stop the others", { timeout: 120_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    // What an older page could leave: own images chosen as the data, with a single class.
    await page.evaluate(async () => {
      const db = await new Promise((resolve, reject) => {
        const r = indexedDB.open("vanillanet", 1);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const tx = db.transaction("records", "readwrite");
      const store = tx.objectStore("records");
      store.put({ datasetName: "own" }, "session");
      store.put({ size: "28x1", classes: [{ name: "lonely", items: [{ name: "a.png", pixels: new Uint8Array(784).fill(200) }] }] }, "own");
      await new Promise((r) => { tx.oncomplete = r; });
      db.close();
    });
    await page.reload();
    await ready(page);
    assert.match(await page.textContent("#messages"), /the saved data choice \(your images\) could not be used \(add images to at least two classes first\)/);
    assert.match(await page.textContent("#data-summary"), /^fashion-mnist/);
    assert.deepEqual(await page.evaluate(() => window.vanillanet.own.classes().map((c) => [c.name, c.images])), [["lonely", 1]], "the images are back");
  } finally {
    await close();
  }
});
