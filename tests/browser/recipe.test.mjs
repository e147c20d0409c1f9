// The authors' recipe in the page: the learning rate's warm-up followed step by step and drawn
// beside lambda, the weight average's accuracy on the accuracy chart beside the trained net's,
// and the average evaluated, fused and exported, the card saying which weights it holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { open, root, waitStatus, waitFor } from "./harness.mjs";

// MNIST: 8,500 training images (none held out for validation here), 266 steps an epoch at batch
// 32; a warm-up of 0.2 epochs is 53 steps. Lambda is 1 from the start (no annealing), so the net
// fuses after any step.
const OPTIONS = { preset: "nano_28", batchSize: 32, learningRate: 0.01, epochs: 1, decayEpochs: 0, warmupEpochs: 0.2, evalEvery: 4, evalLimit: 64, validation: 0 };
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

// The page's quick default against the loop as it was before the recipe (no warm-up, a constant
// rate, no label smoothing, no weight average, no augmentation), at a budget a test affords: one
// epoch of MNIST, lambda annealed within it, the same seed, so the two runs differ only by the
// recipe (a paired comparison). Each is measured on the whole test set; `RECIPE_RECORD=1` writes both to
// results/recipe-page.json.
const BUDGET = { epochs: 1, decayEpochs: 1, seed: 42, evalEvery: 50, evalLimit: 100 };
const BEFORE = { warmupEpochs: 0, lrSchedule: "constant", labelSmoothing: 0, emaDecay: 0, cropPadding: 0, mirror: false };

test("the quick default beats the loop before the recipe, paired by seed", { timeout: 900_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    const run = async (options) => {
      const started = Date.now();
      await page.evaluate(() => window.vanillanet.reset());
      await page.evaluate((o) => window.vanillanet.train(o), options);
      const status = await waitStatus(page, "(s) => s.state === 'finished'", 600_000);
      const trained = (await page.evaluate(() => window.vanillanet.evaluation())).accuracy;
      const average = options.emaDecay === 0 ? null : (await page.evaluate(() => window.vanillanet.evaluation({ ema: true }))).accuracy;
      return { steps: status.step, threads: status.threads, trained, average, seconds: (Date.now() - started) / 1000 };
    };
    const recipe = await run(BUDGET);
    const before = await run({ ...BUDGET, ...BEFORE });
    const quick = await page.evaluate(() => Object.fromEntries(["preset", "batchSize"].map((n) => [n, document.querySelector(`#options [name="${n}"]`).value])));
    // The quick default fuses (and exports) the average: that is the net it gives.
    assert.ok(recipe.average > before.trained, `the recipe's average ${recipe.average} against ${before.trained} before it`);
    if (process.env.RECIPE_RECORD) {
      const out = {
        what: `the page's quick default (${quick.preset}, batch ${quick.batchSize}) against the loop before the recipe, one epoch of MNIST (8,500 images), lambda annealed over it, seed 42, CPU in the page; test accuracy on the 1,500 test images`,
        command: "RECIPE_RECORD=1 node --test --test-name-pattern='quick default' tests/browser/recipe.test.mjs",
        date: new Date().toISOString().slice(0, 10),
        before: { flags: BEFORE, ...before },
        recipe: { flags: "the defaults", ...recipe },
        pairedDifference: recipe.average - before.trained,
      };
      writeFileSync(join(root, "results", "recipe-page.json"), `${JSON.stringify(out, null, 2)}\n`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
