// Saved records are checked before anything uses them: each carries a schema version; one of
// another shape (what an older or newer page, or a damaged disk, could leave) is named, set
// aside (kept, downloadable, deletable) and the rest restored; a view that throws is caught and
// said, the others draw on and saving goes on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { open, png, waitFor } from "./harness.mjs";

const ready = async (page) => {
  await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
  await page.evaluate(() => window.vanillanet.ready);
};

test("odd saved records are named and set aside; the rest comes back", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    const options = { preset: "nano_28", batchSize: 32, epochs: 1, decayEpochs: 1 };
    for (let i = 0; i < 2; i++) await page.evaluate((o) => window.vanillanet.step(o), options);
    await page.evaluate(() => window.vanillanet.whenSaved());
    const saved = await page.evaluate(() => new Promise((resolve) => {
      const r = indexedDB.open("vanillanet", 1);
      r.onsuccess = () => {
        const g = r.result.transaction("records").objectStore("records").get("training");
        g.onsuccess = () => resolve({ schema: g.result.schema, bytes: g.result.bytes instanceof Uint8Array });
      };
    }));
    assert.deepEqual(saved, { schema: 1, bytes: true }, "records carry their schema version");

    // What broke every reload before: own images whose size is a number, a study report without
    // its runs, a prediction without its top-5, a record from a newer page.
    await page.evaluate(() => new Promise((resolve) => {
      const r = indexedDB.open("vanillanet", 1);
      r.onsuccess = () => {
        const tx = r.result.transaction("records", "readwrite");
        const s = tx.objectStore("records");
        s.put({ size: 28, classes: [{ name: "kept", items: [] }] }, "own");
        const row = { name: "act_num 0", runs: 0, accuracyMean: null, accuracyStd: null, accuracyMin: null, accuracyMax: null, params: 1, paramsDeploy: 1, macsDeploy: 1, fusedMsPerImage: null, vsReference: null };
        const report = { study: "act-num", claim: "", dataset: "fashion-mnist", trainImages: 100, testImages: 10, stepsPerRun: 5, arms: [{ name: "act_num 0" }], summary: [row] };
        s.put({ options: { study: "act-num", seeds: 1, train: {} }, report, curves: [] }, "study");
        s.put([{ name: "cat.png", result: { ms: 3 } }], "predictions");
        s.put({ schema: 99, bytes: new Uint8Array(10), fromTrainer: false }, "classifier");
        tx.oncomplete = resolve;
      };
    }));
    await page.reload();
    await ready(page);
    const text = await page.textContent("#messages");
    const asideText = await page.textContent("#aside");
    for (const what of ["your images", "the study", "the predictions", "the classifier"]) assert.match(`${text} ${asideText}`, new RegExp(what), what);
    assert.match(asideText, /size: one of 28x1, 32x3, 64x3, got 28/);
    assert.match(asideText, /report\.runs: an array, got undefined/);
    assert.match(asideText, /items\[0\]\.result\.top: an array/);
    assert.match(asideText, /written by a newer version of the page/);
    assert.equal(await page.locator("#aside-list li").count(), 4);
    // The rest came back: the training at step 2, and it trains on.
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 2);
    assert.equal((await page.evaluate((o) => window.vanillanet.step(o), options)).globalStep, 3);
    assert.equal((await page.evaluate(() => window.vanillanet.history())).loss.length, 3);

    // Nothing lost: a set-aside record downloads whole.
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#aside-list li", { hasText: "your images" }).getByRole("button", { name: /Download/ }).click()]);
    const file = JSON.parse(readFileSync(await download.path(), "utf8"));
    assert.equal(file.record, "own");
    assert.deepEqual(file.value, { size: 28, classes: [{ name: "kept", items: [] }] });
    // And can be deleted (after a confirmation).
    page.once("dialog", (d) => d.accept());
    await page.locator("#aside-list li", { hasText: "your images" }).getByRole("button", { name: /Delete/ }).click();
    await waitFor(page, () => document.querySelectorAll("#aside-list li").length === 3);

    // A training record of another shape: history without its train-accuracy series; bytes as a
    // plain Array. Each is set aside, a new run saves over the key.
    for (const bad of ["noTrainAccuracy", "arrayBytes"]) {
      await page.evaluate(() => window.vanillanet.whenSaved());
      await page.evaluate((bad) => new Promise((resolve) => {
        const r = indexedDB.open("vanillanet", 1);
        r.onsuccess = () => {
          const tx = r.result.transaction("records", "readwrite");
          const s = tx.objectStore("records");
          const g = s.get("training");
          g.onsuccess = () => {
            const rec = g.result;
            if (bad === "noTrainAccuracy") delete rec.history.trainAccuracy;
            else rec.bytes = [...rec.bytes];
            s.put(rec, "training");
          };
          tx.oncomplete = resolve;
        };
      }), bad);
      await page.reload();
      await ready(page);
      assert.match(await page.textContent("#messages"), /the training state could not be restored and was set aside/, bad);
      assert.equal(await page.evaluate(() => window.vanillanet.status().step), 0);
      assert.deepEqual(await page.evaluate(() => window.vanillanet.history().trainAccuracy), []);
      assert.equal((await page.evaluate((o) => window.vanillanet.step(o), options)).globalStep, 1, "a new run starts");
      await page.evaluate(() => window.vanillanet.pause());
      await page.evaluate(() => window.vanillanet.whenSaved());
      const fresh = await page.evaluate(() => new Promise((resolve) => {
        const r = indexedDB.open("vanillanet", 1);
        r.onsuccess = () => {
          const g = r.result.transaction("records").objectStore("records").get("training");
          g.onsuccess = () => resolve(g.result && g.result.bytes instanceof Uint8Array && g.result.history.trainAccuracy.length);
        };
      }));
      assert.equal(fresh, 1, `the new run is saved over the key (${bad})`);
    }
    assert.match(await page.textContent("#aside"), /history\.trainAccuracy: an array, got undefined/);
    assert.match(await page.textContent("#aside"), /bytes: bytes \(a non-empty Uint8Array\), got an array/);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("a view that throws is said; the others draw on and saving goes on", { timeout: 180_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    const options = { preset: "nano_28", batchSize: 32, epochs: 1, decayEpochs: 1, deepTraining: false };
    await page.evaluate((o) => window.vanillanet.step(o), options);
    await page.evaluate(() => window.vanillanet.fuse());
    // The predictions view breaks (as a view meeting a value it cannot draw would).
    await page.evaluate(() => {
      document.querySelector("#predictions").replaceChildren = () => {
        throw new Error("the predictions view broke");
      };
    });
    const answer = await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(28, 28);
      canvas.getContext("2d").fillRect(4, 4, 10, 10);
      return window.vanillanet.classify(await canvas.convertToBlob({ type: "image/png" }));
    });
    assert.equal(answer.top.length, 5, "the call answers");
    await waitFor(page, () => /part of the page could not be drawn \(the predictions\); the rest goes on: the predictions view broke/.test(document.querySelector("#messages").textContent));
    // The other views still draw: a step moves the progress text.
    await page.evaluate((o) => window.vanillanet.step(o), options);
    await waitFor(page, () => /step 2\//.test(document.querySelector("#progress-text").textContent));
    // And saving goes on: the prediction and the step are on disk.
    await page.evaluate(() => window.vanillanet.pause());
    await page.evaluate(() => window.vanillanet.whenSaved());
    const saved = () => page.evaluate(() => new Promise((resolve) => {
      const r = indexedDB.open("vanillanet", 1);
      r.onsuccess = () => {
        const tx = r.result.transaction("records");
        const p = tx.objectStore("records").get("predictions");
        const t = tx.objectStore("records").get("training");
        tx.oncomplete = () => resolve({ predictions: p.result?.items?.length, step: t.result?.history.steps.at(-1) });
      };
    }));
    const end = Date.now() + 10_000;
    while (JSON.stringify(await saved()) !== JSON.stringify({ predictions: 1, step: 2 }) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await saved(), { predictions: 1, step: 2 });
  } finally {
    await close();
  }
});

// Found by the soak (tests/soak/): a save refused for a full disk stayed unsaved once there was
// room again, while whenSaved() said all was saved and a reload lost it; a reload at an epoch's
// end showed the next epoch where the page before it showed the last step's; and images added
// to a class (or a class renamed) after training on own images set the training aside at the
// next reload ("trained on own images (13 images ...), not on this data"); and the own image size
// select set by a script to a value it does not offer saved a size of "", set aside at a reload.
test("a save refused for a full disk is saved once there is room; whenSaved says while it is not", { timeout: 180_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    await page.evaluate(() => {
      window.full = false;
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (...a) {
        if (window.full) throw new DOMException("the quota has been exceeded", "QuotaExceededError");
        return put.apply(this, a);
      };
    });
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.evaluate(() => { window.full = true; });
    const added = await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      return (await window.vanillanet.own.addFiles(0, [new File([bytes], "a.png", { type: "image/png" })])).images;
    }, png(32, [200, 30, 30], 1).toString("base64"));
    assert.equal(added, 1);
    const refused = await page.evaluate(() => window.vanillanet.whenSaved().then(() => "saved", (e) => e.message));
    assert.match(refused, /storage for this page is full: your images not saved/);
    await page.evaluate(() => { window.full = false; });
    assert.equal(await page.evaluate(() => window.vanillanet.whenSaved().then(() => "saved", (e) => e.message)), "saved");
    await page.reload();
    await ready(page);
    assert.equal(await page.evaluate(() => window.vanillanet.own.classes()[0].images), 1, "the image came back");
  } finally {
    await close();
  }
});

test("the epoch after a reload is the one the page showed before it", { timeout: 180_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    // Own images: 8 to train on, 2 steps an epoch at a batch of 4.
    await page.evaluate(async (b64s) => {
      const files = b64s.map((b64, i) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], `${i}.png`, { type: "image/png" }));
      await window.vanillanet.own.addFiles(0, files.slice(0, 5));
      await window.vanillanet.own.addFiles(1, files.slice(5));
      await window.vanillanet.own.dataset();
    }, Array.from({ length: 10 }, (_, i) => png(32, i < 5 ? [200, 30, 30] : [30, 30, 200], i + 1).toString("base64")));
    const options = { preset: "small_32", batchSize: 4, epochs: 2, decayEpochs: 1 };
    for (const [steps, epoch] of [[2, 0], [3, 1], [4, 1]]) {
      while ((await page.evaluate(() => window.vanillanet.status().step)) < steps) await page.evaluate((o) => window.vanillanet.step(o), options);
      assert.equal(await page.evaluate(() => window.vanillanet.status().epoch), epoch, `after step ${steps}`);
      await page.evaluate(() => window.vanillanet.whenSaved());
      await page.reload();
      await ready(page);
      assert.deepEqual(await page.evaluate(() => [window.vanillanet.status().step, window.vanillanet.status().epoch]), [steps, epoch], `after step ${steps} and a reload`);
    }
  } finally {
    await close();
  }
});

test("own images added or renamed after training on them: a reload restores the training", { timeout: 180_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  const files = (n, colour, from) => Array.from({ length: n }, (_, i) => png(32, colour, from + i).toString("base64"));
  const add = (classIndex, b64s) => page.evaluate(({ classIndex, b64s }) => window.vanillanet.own.addFiles(classIndex,
    b64s.map((b64, i) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], `${i}.png`, { type: "image/png" }))), { classIndex, b64s });
  try {
    await add(0, files(5, [200, 30, 30], 1));
    await add(1, files(5, [30, 30, 200], 10));
    await page.evaluate(() => window.vanillanet.own.dataset());
    for (let i = 0; i < 2; i++) await page.evaluate(() => window.vanillanet.step({ preset: "small_32", batchSize: 4, epochs: 2, decayEpochs: 1 }));
    await add(0, files(3, [220, 40, 40], 20));
    await page.locator(".class-card .class-name").nth(1).fill("blue things");
    await page.locator(".class-card .class-name").nth(1).dispatchEvent("change");
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.reload();
    await ready(page);
    assert.doesNotMatch(await page.textContent("#messages"), /set aside/);
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 2, "the training is back");
    assert.deepEqual(await page.evaluate(() => window.vanillanet.own.classes().map((c) => [c.name, c.images])), [["class A", 8], ["blue things", 5]]);
    assert.match(await page.textContent("#data-summary"), /own images: 8 training and 2 test images/, "the data it was trained on");
    assert.equal((await page.evaluate(() => window.vanillanet.step())).globalStep, 3, "and it trains on");
    // Made again, the data has the new images.
    await page.evaluate(() => window.vanillanet.own.dataset());
    assert.match(await page.textContent("#data-summary"), /own images: 11 training and 2 test images/);
  } finally {
    await close();
  }
});

test("an image size the select does not offer (set by a script) is not taken; the images stay saved", { timeout: 120_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    // Were it taken, the page would ask first (the images go with the size): yes.
    page.on("dialog", (d) => d.accept());
    await page.evaluate(async (b64) => {
      await window.vanillanet.own.addFiles(0, [new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "a.png", { type: "image/png" })]);
      const select = document.getElementById("own-size");
      select.value = "bogus";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }, png(32, [200, 30, 30], 1).toString("base64"));
    assert.equal(await page.inputValue("#own-size"), "32x3");
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.reload();
    await ready(page);
    assert.doesNotMatch(await page.textContent("#messages"), /set aside/);
    assert.equal(await page.evaluate(() => window.vanillanet.own.classes()[0].images), 1);
  } finally {
    await close();
  }
});
