// The authors' recipe in the page: the learning rate's warm-up followed step by step and drawn
// beside lambda, the weight average's accuracy on the accuracy chart beside the trained net's,
// and the average evaluated, fused and exported, the card saying which weights it holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, waitStatus, waitFor } from "./harness.mjs";

// MNIST: 8,500 training images, 266 steps an epoch at batch 32; a warm-up of 0.2 epochs is 53
// steps. Lambda is 1 from the start (no annealing), so the net fuses after any step.
const OPTIONS = { preset: "nano_28", batchSize: 32, learningRate: 0.01, epochs: 1, decayEpochs: 0, warmupEpochs: 0.2, evalEvery: 4, evalLimit: 64 };
const STEPS = 8;

test("the learning rate and the weight average are drawn, evaluated and fused", { timeout: 600_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    await page.evaluate((o) => window.vanillanet.train(o), OPTIONS);
    await waitStatus(page, `(s) => s.step >= ${STEPS}`);
    await page.evaluate(() => window.vanillanet.pause());
    await waitStatus(page, "(s) => s.state === 'paused'");
    const { status, history } = await page.evaluate(() => ({ status: window.vanillanet.status(), history: window.vanillanet.history() }));

    // The warm-up, step by step: step i of 53 takes 0.01 * (i + 1) / 53.
    assert.ok(Math.abs(status.learningRate - (0.01 * status.step) / 53) < 1e-12, `learning rate ${status.learningRate} at step ${status.step}`);
    assert.equal(await page.textContent("#lr-now"), status.learningRate.toExponential(2));
    // Both schedules on the lambda chart, the learning rate with its own legend entry.
    assert.match(await page.textContent("#lambda-chart"), /learning rate/);
    assert.ok((await page.evaluate(() => window.vanillanet.charts())).lambda > 40);

    // Each quick look at the test set measures the trained net and the average.
    assert.ok(history.testAccuracy.length >= 2, JSON.stringify(history.testAccuracy));
    for (const [step, trained, average] of history.testAccuracy) {
      assert.ok(step % 4 === 0 && trained >= 0 && trained <= 1 && average >= 0 && average <= 1, JSON.stringify(history.testAccuracy));
    }
    assert.equal(status.emaAccuracy, history.testAccuracy.at(-1)[2]);
    assert.match(await page.textContent("#acc-chart"), /test \(EMA\)/);
    await waitFor(page, () => /weight average/.test(document.querySelector("#chart-summary").textContent));

    // The average on the whole test set, in the evaluation view beside the trained net's.
    const average = await page.evaluate(() => window.vanillanet.evaluation({ ema: true }));
    assert.equal(average.model, "ema");
    assert.equal(average.confusion.flat().reduce((a, b) => a + b, 0), 1500);
    await page.evaluate(() => window.vanillanet.evaluation());
    await page.check('input[name="eval-model"][value="ema"]');
    await waitFor(page, () => /^Weight average \(EMA\) at step/.test(document.querySelector("#eval-summary").textContent));
    assert.match(await page.textContent("#eval-summary"), /; trained net \d+\.\d%, weight average \d+\.\d%/);

    // Fused: the average by default, the trained weights when asked; the card says which.
    assert.equal(await page.isHidden("#fuse-weights-label"), false);
    const fused = await page.evaluate(() => window.vanillanet.fuse());
    assert.equal(fused.weights, "ema");
    assert.ok(fused.maxLogitDiff < 1e-4, `fused equals unfused: ${fused.maxLogitDiff}`);
    assert.equal(await page.evaluate(() => window.vanillanet.classifier().card.weights), "ema");
    assert.match(await page.textContent("#fuse-table"), /the weight average \(EMA\)/);
    await page.selectOption("#fuse-weights", "trained");
    await page.click("#fuse");
    await waitFor(page, () => window.vanillanet.classifier()?.card.weights === "trained");
    await assert.rejects(page.evaluate(() => window.vanillanet.fuse({ weights: "best" })), /options\.weights/);
    const exported = await page.evaluate(async () => new Uint8Array(await (await window.vanillanet.exportTraining({ weights: "ema" })).arrayBuffer()).length);
    assert.ok(exported > 10_000);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
