// The evaluation view: a net trained for one epoch on MNIST, then fused, evaluated on the whole
// test set through the API and the page (confusion matrix, a cell's images, the mistakes), with
// and without test-time augmentation (the shifts: digits allow no mirror).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { open, outDir, waitFor, waitStatus } from "./harness.mjs";

const TEST_IMAGES = 1500;

function checkEvaluation(e, model) {
  assert.equal(e.model, model);
  assert.equal(e.classes.length, 10);
  assert.equal(e.confusion.length, 10);
  assert.ok(e.confusion.every((row) => row.length === 10));
  assert.equal(e.confusion.flat().reduce((a, b) => a + b, 0), TEST_IMAGES, "every test image counted once");
  const right = e.confusion.reduce((n, row, t) => n + row[t], 0);
  assert.ok(Math.abs(e.accuracy - right / TEST_IMAGES) < 1e-6);
  // Asked for the mirror and the shifts; MNIST's digits allow no mirror, so the shifts alone.
  assert.equal(e.tta, "shifts");
  const rightTta = e.accuracyTta * TEST_IMAGES;
  assert.ok(rightTta >= 0 && rightTta <= TEST_IMAGES && Math.abs(rightTta - Math.round(rightTta)) < 1e-2, `a count of the test images: ${e.accuracyTta}`);
  assert.deepEqual(e.perClass.map((c) => c.count), e.confusion.map((row) => row.reduce((a, b) => a + b, 0)));
  e.perClass.forEach((c, i) => assert.ok(Math.abs(c.accuracy - e.confusion[i][i] / c.count) < 1e-6));
  assert.ok(e.mistakes.length > 0 && e.mistakes.length <= 32);
  for (const [i, m] of e.mistakes.entries()) {
    assert.notEqual(m.label, m.predicted);
    assert.ok(m.confidence > 0 && m.confidence <= 1);
    if (i) assert.ok(m.confidence <= e.mistakes[i - 1].confidence, "most confident first");
  }
}

test("evaluation of the trained and the fused net, in the API and the page", { timeout: 600_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false });
  try {
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    assert.match(await page.textContent("#eval-summary"), /train a model/);
    await page.evaluate(() => window.vanillanet.train({ preset: "nano_28", batchSize: 64, epochs: 1, decayEpochs: 1, learningRate: 0.01, tta: "mirror-shifts" }));
    const status = await waitStatus(page, "(s) => s.state === 'finished'");
    // The epoch's end evaluated the trained net on the whole test set, shown in the page.
    await waitFor(page, () => !document.querySelector("#eval-body").hidden);
    const trained = await page.evaluate(() => window.vanillanet.evaluation());
    checkEvaluation(trained, "trained");
    assert.equal(trained.step, status.step);
    assert.ok(trained.accuracy > 0.5, `learned something: ${trained.accuracy}`);
    assert.ok(Math.abs(trained.accuracy - status.testAccuracy) < 1e-6, "the test accuracy is the whole test set's");
    assert.match(await page.textContent("#eval-summary"), new RegExp(`Trained net at step ${status.step}: .* of 1,500 test images right; with test-time augmentation \\(1-pixel shifts\\) \\d+\\.\\d%`));

    // The weight average, evaluated at the epoch's end too, is said beside the trained net.
    const average = await page.evaluate(() => window.vanillanet.evaluation({ ema: true }));
    checkEvaluation(average, "ema");
    assert.match(await page.textContent("#eval-summary"), /; trained net \d+\.\d%, weight average \d+\.\d%$/);

    // Fused (the weight average, by default): the same answers as the net it was fused from
    // (fusion is exact up to float rounding).
    await page.evaluate(() => window.vanillanet.fuse());
    const fused = await page.evaluate(() => window.vanillanet.evaluation({ fused: true }));
    checkEvaluation(fused, "fused");
    const moved = fused.confusion.flat().reduce((n, c, i) => n + Math.abs(c - average.confusion.flat()[i]), 0);
    assert.ok(moved <= 4, `fused and unfused agree on the test set (${moved} counts differ)`);
    await waitFor(page, () => /^Fused net/.test(document.querySelector("#eval-summary").textContent));

    // A test image as a PNG of the data's size.
    const png = await page.evaluate(async (index) => {
      const blob = await window.vanillanet.testImage(index);
      const bitmap = await createImageBitmap(blob);
      return { type: blob.type, width: bitmap.width, height: bitmap.height };
    }, fused.mistakes[0].index);
    assert.deepEqual(png, { type: "image/png", width: 28, height: 28 });
    await assert.rejects(page.evaluate(() => window.vanillanet.testImage(1500)), /no test image 1500: the test set has 1500/);
    await assert.rejects(page.evaluate(() => window.vanillanet.evaluationCell(10, 0)), /no cell \(10, 0\)/);

    // The page: the matrix as 100 buttons, a cell opens its images, back to the mistakes.
    assert.equal(await page.locator("#confusion .cell").count(), 100);
    assert.equal(await page.locator("#gallery .tile").count(), fused.mistakes.length);
    const worst = fused.mistakes[0];
    const count = fused.confusion[worst.label][worst.predicted];
    await page.click(`#confusion tbody tr:nth-child(${worst.label + 1}) td:nth-child(${worst.predicted + 2}) .cell`);
    await waitFor(page, (n) => document.querySelectorAll("#gallery .tile").length === n, Math.min(count, 48));
    assert.match(await page.textContent("#gallery-title"), new RegExp(`True ${fused.classes[worst.label]}, answered ${fused.classes[worst.predicted]}: ${count} images`));
    const cell = await page.evaluate((w) => window.vanillanet.evaluationCell(w.label, w.predicted, { fused: true }), worst);
    assert.equal(cell[0].index, worst.index, "the most confident of the cell is the worst mistake");
    await waitFor(page, () => [...document.querySelectorAll("#gallery img")].every((i) => i.complete && i.naturalWidth === 28));
    await page.selectOption("#eval-norm", "rows");
    await page.locator("#eval-panel").screenshot({ path: join(outDir, "evaluation.png") });
    await page.click("#eval-back");
    assert.match(await page.textContent("#gallery-title"), /most confidently wrong/);
    // Row-normalised: the diagonal shows each class's accuracy in percent.
    const diagonal = await page.$$eval("#confusion .cell.diagonal", (cells) => cells.map((c) => Number(c.textContent)));
    assert.deepEqual(diagonal, fused.perClass.map((c) => Math.round(c.accuracy * 100)));
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
