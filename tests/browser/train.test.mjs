// Training in a real browser: on WebGPU (SwiftShader on a GPU-less machine) and on the CPU
// backend with WebGPU disabled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { open, waitStatus, mean, outDir, waitFor, WEBGPU_ADAPTER } from "./harness.mjs";

const STEPS = 8;
// No learning-rate warm-up: these runs check the loop over its first 8 steps, which a warm-up
// of a fifth of an epoch (375 steps) would spend at a rate near 0.
const OPTIONS = { preset: "nano_28", batchSize: 32, learningRate: 0.01, warmupEpochs: 0, epochs: 1, decayEpochs: 1, schedule: "cosine", perStep: true, evalEvery: 4, evalLimit: 64 };

async function trainFewSteps(page, screenshot) {
  await page.evaluate((o) => window.vanillanet.train(o), OPTIONS);
  if (screenshot) {
    await waitStatus(page, `(s) => s.step >= ${STEPS / 2}`);
    await page.screenshot({ path: join(outDir, screenshot), fullPage: true });
  }
  await waitStatus(page, `(s) => s.step >= ${STEPS}`);
  await page.evaluate(() => window.vanillanet.pause());
  await waitStatus(page, "(s) => s.state === 'paused'");
  return page.evaluate(() => ({ status: window.vanillanet.status(), history: window.vanillanet.history(), charts: window.vanillanet.charts() }));
}

function checkRun({ status, history, charts }) {
  assert.ok(history.loss.length >= STEPS);
  assert.ok(history.loss.every(Number.isFinite), `finite losses: ${history.loss}`);
  const [first, last] = [mean(history.loss.slice(0, 4)), mean(history.loss.slice(-4))];
  assert.ok(last < first, `loss falls: ${first} -> ${last}`);
  // Per-step cosine over one epoch of ceil(55000 / 32) steps (5,000 of the 60,000 held out for
  // validation).
  const spe = Math.ceil(55000 / OPTIONS.batchSize);
  history.lambda.forEach((l, i) => assert.ok(Math.abs(l - (1 - Math.cos((Math.PI * i) / spe)) / 2) < 1e-9, `lambda at step ${i}: ${l}`));
  assert.equal(status.lambda, history.lambda.at(-1));
  assert.ok(charts.loss >= STEPS && charts.acc >= STEPS && charts.lambda > 40, `charts have points: ${JSON.stringify(charts)}`);
  assert.ok(history.testAccuracy.length >= 2, "test accuracy measured");
  assert.ok(status.testAccuracy >= 0 && status.testAccuracy <= 1);
  assert.ok(Number.isFinite(status.trainAccuracy));
}

test("trains on WebGPU (not a silent CPU fallback)", { timeout: 600_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: true, query: "?backend=webgpu" });
  try {
    const status = await page.evaluate(() => window.vanillanet.status());
    assert.equal(status.backend, "webgpu");
    assert.equal(status.adapter?.architecture, WEBGPU_ADAPTER, `adapter reported: ${JSON.stringify(status.adapter)}`);
    console.log(`adapter: ${JSON.stringify(status.adapter)}`);
    assert.match(await page.textContent("#backend-name"), /WebGPU/);
    checkRun(await trainFewSteps(page, "training-webgpu.png"));
    // lambda is still near 0: fusing is refused, with the reason.
    await assert.rejects(page.evaluate(() => window.vanillanet.fuse()), /lambda/);
    assert.equal(await page.isDisabled("#fuse"), true);
    assert.match(await page.textContent("#fuse-why"), /merge into one only when/);
    // Single step while paused, probed (the inside views' calls, on WebGPU: async reads only).
    // Here rather than on a page of their own: a WebGPU page compiles its kernels anew, which on
    // SwiftShader is most of a test's time.
    const before = (await page.evaluate(() => window.vanillanet.status())).step;
    await page.evaluate(() => window.vanillanet.inside.setProbeEvery(1));
    await page.click("#step");
    await waitStatus(page, `(s) => s.step === ${before + 1} && s.state === 'paused'`);
    const decay = await page.evaluate(() => window.vanillanet.inside.decay());
    assert.equal(decay.steps.at(-1), before + 1);
    assert.ok(decay.blocks.every((b) => b.distance.at(-1) > 0), JSON.stringify(decay.blocks));
    const maps = await page.evaluate(async () => {
      const m = await window.vanillanet.inside.featureMaps(3, 1, { tiles: 4 });
      return { channels: m.channels, tiles: m.tiles.length, finite: m.tiles.every((t) => t.values.every(Number.isFinite)) };
    });
    assert.deepEqual(maps, { channels: 32, tiles: 4, finite: true });
    const fusion = await page.evaluate(async () => {
      const f = await window.vanillanet.inside.fusion(0);
      return { exact: f.exact, shape: f.fused.shape, finite: f.fused.values.every(Number.isFinite) };
    });
    assert.deepEqual(fusion, { exact: false, shape: [16, 1, 4, 4], finite: true });
    // A lost GPU device: a fresh worker on the CPU continues from the state saved at the pause.
    await page.evaluate(() => window.vanillanet.whenSaved());
    assert.equal(await page.evaluate(() => window.vanillanet.debug.loseDevice()), 1);
    await waitFor(page, () => /recovered on the CPU/.test(document.querySelector("#messages").textContent), null, { timeout: 60_000 });
    const recovered = await page.evaluate(() => window.vanillanet.status());
    assert.deepEqual([recovered.backend, recovered.state, recovered.step], ["cpu", "paused", before + 1]);
    assert.match(await page.textContent("#messages"), /device was lost/);
    assert.equal((await page.evaluate(() => window.vanillanet.history())).loss.length, before + 1, "charts restored");
    // Back to WebGPU (a new device), then switching to the CPU mid-training moves the weights
    // and goes on from the same step.
    assert.equal((await page.evaluate(() => window.vanillanet.setBackend("webgpu"))).backend, "webgpu");
    const loss = (await page.evaluate(() => window.vanillanet.history())).loss;
    assert.equal((await page.evaluate(() => window.vanillanet.setBackend("cpu"))).backend, "cpu");
    await page.evaluate(() => window.vanillanet.step());
    const after = await page.evaluate(() => window.vanillanet.status());
    assert.equal(after.backend, "cpu");
    assert.equal(after.step, before + 2);
    assert.ok(after.loss < loss[0], `the moved model keeps what it learned: ${after.loss} vs ${loss[0]} at step 1`);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("trains on the CPU backend when WebGPU is disabled", { timeout: 600_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false });
  try {
    const status = await page.evaluate(() => window.vanillanet.status());
    assert.equal(status.backend, "cpu");
    checkRun(await trainFewSteps(page, "training-cpu.png"));
    // Changing the learning rate mid-training keeps going from the same step.
    await page.selectOption('select[name="schedule"]', "linear");
    await page.evaluate(() => window.vanillanet.resume());
    const s = await waitStatus(page, `(s) => s.step >= ${STEPS + 3}`);
    await page.evaluate(() => window.vanillanet.pause());
    assert.ok(Number.isFinite(s.loss));
    const h = await page.evaluate(() => window.vanillanet.history());
    assert.equal(h.loss.length, new Set(h.steps).size, "one history entry per step, no restart");
    // Finish annealing on MNIST (8,500 images, 710 of them held out for validation: 244 steps
    // an epoch): lambda reaches 1 with this epoch, then the page fuses by itself and both forms
    // agree; the epoch's end told the validation accuracy.
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    await page.evaluate(() => window.vanillanet.train({ preset: "nano_28", batchSize: 32, epochs: 3, decayEpochs: 3, learningRate: 0.01 }));
    await waitStatus(page, "(s) => s.step >= 5");
    await page.evaluate(() => window.vanillanet.pause());
    assert.equal(await page.isHidden("#finish-annealing"), false);
    await page.click("#finish-annealing");
    await page.waitForSelector("#fuse-table:not([hidden])", { timeout: 240_000 });
    const end = await page.evaluate(() => window.vanillanet.status());
    assert.equal(end.state, "paused");
    assert.equal(end.step, 244, "annealed by the end of the first epoch");
    assert.ok(end.validationAccuracy > 0.5 && end.validationAccuracy <= 1, `validation accuracy ${end.validationAccuracy}`);
    assert.match(await page.textContent("#progress-text"), /validation \d+(\.\d+)?%/);
    const cells = await page.$$eval("#fuse-table tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    const accuracy = cells.find((r) => r[0] === "test accuracy");
    assert.equal(accuracy[1], accuracy[2], "fused and trained test accuracy agree");
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
