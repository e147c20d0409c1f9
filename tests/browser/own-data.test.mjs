// Own images: two classes dropped onto the page (one by file picker, one by drag and drop), a
// non-image rejected with its reason, then training on them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { open, waitStatus, mean, png, outDir, waitFor } from "./harness.mjs";

test("trains on images dropped into two classes", { timeout: 600_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    await page.check('input[name="dataset"][value="own"]');
    // Class A through the file picker: reddish images and one text file.
    const red = Array.from({ length: 20 }, (_, i) => ({ name: `red-${i}.png`, mimeType: "image/png", buffer: png(40, [200, 30, 30], i + 1) }));
    const notImage = { name: "notes.png", mimeType: "image/png", buffer: Buffer.from("these are notes, not pixels") };
    await page.locator(".class-card").nth(0).locator('input[type="file"][multiple]').setInputFiles([...red, notImage]);
    // Class B by dropping files (a DataTransfer made in the page from real PNG bytes).
    const blue = Array.from({ length: 20 }, (_, i) => png(48, [30, 30, 200], 100 + i).toString("base64"));
    await page.evaluate(async (images) => {
      const dt = new DataTransfer();
      images.forEach((b64, i) => dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], `blue-${i}.png`, { type: "image/png" })));
      const card = document.querySelectorAll(".class-card")[1];
      card.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, blue);
    await waitFor(page, () => window.vanillanet.own.classes()[1].images === 20 && window.vanillanet.own.classes()[0].rejected.length === 1);
    const classes = await page.evaluate(() => window.vanillanet.own.classes());
    assert.equal(classes[0].images, 20);
    assert.deepEqual(classes[0].rejected.map((r) => r.file), ["notes.png"]);
    assert.match(classes[0].rejected[0].reason, /decoded|image/);
    assert.match(await page.textContent(".rejected"), /notes\.png/);

    await page.click("#use-own");
    await waitFor(page, () => document.querySelector("#data-summary").textContent.startsWith("own images"));
    assert.match(await page.textContent("#data-summary"), /32 training and 8 test images, 32×32×3, 2 classes/);
    // The recipe off, as in the native test of the same loop: in 32 steps a decaying learning
    // rate leaves the loss where the answer can go either way.
    const recipeOff = { warmupEpochs: 0, lrSchedule: "constant", emaDecay: 0, cropPadding: 0, mirror: false, erasing: 0 };
    await page.evaluate((recipeOff) => window.vanillanet.train({ preset: "small_32", batchSize: 8, epochs: 8, decayEpochs: 3, learningRate: 0.01, evalEvery: 4, evalLimit: 8, ...recipeOff }), recipeOff);
    const done = await waitStatus(page, "(s) => s.state === 'finished'");
    await page.screenshot({ path: join(outDir, "own-images.png"), fullPage: true });
    const h = await page.evaluate(() => window.vanillanet.history());
    assert.equal(h.loss.length, 32);
    assert.ok(mean(h.loss.slice(-4)) < mean(h.loss.slice(0, 4)), `loss falls: ${h.loss}`);
    assert.equal(done.lambda, 1, "annealed to the identity by the end");
    assert.ok(done.testAccuracy >= 0.75, `test accuracy ${done.testAccuracy}, losses ${h.loss}`);

    // Fuse: the same predictions with one conv per block.
    assert.equal(await page.isDisabled("#fuse"), false);
    await page.click("#fuse");
    await page.waitForSelector("#fuse-table:not([hidden])");
    const report = await page.evaluate(() => window.vanillanet.fuse());
    assert.equal(report.images, 8);
    assert.equal(report.accuracyDeploy, report.accuracy);
    assert.ok(report.maxLogitDiff < 1e-3, `fused logits differ by ${report.maxLogitDiff}`);
    assert.ok(report.paramsDeploy < report.params && report.convsDeploy < report.convs);
    // Classify images dropped on the page, and a file that is no image.
    const drop = [png(64, [210, 40, 40], 999).toString("base64"), Buffer.from("GIF89a broken").toString("base64")];
    await page.evaluate(async (files) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(files[0]), (c) => c.charCodeAt(0))], "new-red.png", { type: "image/png" }));
      dt.items.add(new File([Uint8Array.from(atob(files[1]), (c) => c.charCodeAt(0))], "broken.gif", { type: "image/gif" }));
      document.querySelector("#deploy-panel").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, drop);
    await waitFor(page, () => document.querySelectorAll(".prediction").length === 2);
    const text = await page.textContent("#predictions");
    assert.match(text, /new-red\.png\s*class A/);
    assert.match(text, /broken\.gif\s*invalid input: damaged Gif header/);
    await page.screenshot({ path: join(outDir, "fused-classify.png"), fullPage: true });
    const errs = errors.filter((e) => !e.includes("broken.gif"));
    assert.deepEqual(errs, []);

    // Reload: the images, the trained model, its charts and the fused classifier are back.
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready);
    await page.evaluate(() => window.vanillanet.ready);
    const back = await page.evaluate(() => ({ status: window.vanillanet.status(), history: window.vanillanet.history(), classes: window.vanillanet.own.classes(), classifier: window.vanillanet.classifier() }));
    assert.deepEqual(back.classes.map((c) => [c.name, c.images]), [["class A", 20], ["class B", 20]]);
    assert.equal(back.classes[0].rejected[0].file, "notes.png", "rejects are remembered too");
    assert.equal(back.status.state, "finished");
    assert.equal(back.status.step, 32);
    assert.deepEqual(back.history.loss, h.loss);
    assert.equal(back.classifier.fromTrainer, true);
    await page.waitForSelector("#fuse-table:not([hidden])");
    assert.equal(await page.locator(".prediction").count(), 2, "predictions are back");
    assert.match(await page.textContent("#data-summary"), /own images: 32 training/);
    await page.screenshot({ path: join(outDir, "reloaded.png"), fullPage: true });
    // Reset asks first; declining keeps everything.
    page.once("dialog", (d) => d.dismiss());
    await page.click("#reset");
    assert.equal((await page.evaluate(() => window.vanillanet.status())).step, 32);
    page.once("dialog", (d) => d.accept());
    await page.click("#reset");
    await waitFor(page, () => window.vanillanet.status().step === 0);
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready);
    await page.evaluate(() => window.vanillanet.ready);
    const cleared = await page.evaluate(() => ({ status: window.vanillanet.status(), classes: window.vanillanet.own.classes() }));
    assert.equal(cleared.status.step, 0, "a reset model stays reset");
    assert.equal(cleared.classes[1].images, 20, "the images stay");
  } finally {
    await close();
  }
});
