// The two builds of the engine: served with COOP/COEP (the dev server), the page is cross-origin
// isolated and the CPU backend runs the threaded build, one worker thread a core; WebGPU moves
// the session to the single-threaded build and back. (dist.test.mjs: without the headers, the
// single-threaded build serves the CPU.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, png, waitStatus } from "./harness.mjs";

test("cross-origin isolated: the CPU backend runs on the threaded build", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false });
  try {
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const status = await page.evaluate(() => window.vanillanet.status());
    assert.equal(status.crossOriginIsolated, true);
    assert.equal(status.backend, "cpu");
    assert.equal(status.threads, cores, `a worker thread a core (${cores})`);
    if (cores > 1) assert.match(await page.textContent("#backend-name"), new RegExp(`${cores} threads`));
    // It trains, fuses and classifies.
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    await page.evaluate(() => window.vanillanet.train({ preset: "nano_28", batchSize: 64, epochs: 1, decayEpochs: 1, deepTraining: false, evalEvery: 1000 }));
    await waitStatus(page, "(s) => s.step >= 5");
    await page.evaluate(() => window.vanillanet.pause());
    await waitStatus(page, "(s) => s.state === 'paused'");
    const report = await page.evaluate(() => window.vanillanet.fuse());
    assert.ok(report.maxLogitDiff < 1e-3, `fused equals trained: ${report.maxLogitDiff}`);
    const top = await page.evaluate((bytes) => window.vanillanet.classify(new Blob([new Uint8Array(bytes)], { type: "image/png" })), [...png(28, [200, 200, 200])]);
    assert.equal(top.top.length, 5);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("switching to WebGPU moves the session to the single-threaded build, and back", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: true, query: "?backend=cpu" });
  try {
    assert.equal((await page.evaluate(() => window.vanillanet.status())).threads > 1 || (await page.evaluate(() => navigator.hardwareConcurrency)) === 1, true);
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    for (let i = 0; i < 3; i++) await page.evaluate(() => window.vanillanet.step({ preset: "nano_28", batchSize: 32 }));
    const before = await page.evaluate(() => window.vanillanet.history());
    const answer = await page.evaluate(() => window.vanillanet.setBackend("webgpu"));
    assert.equal(answer.backend, "webgpu");
    let s = await page.evaluate(() => window.vanillanet.status());
    assert.deepEqual([s.backend, s.threads, s.step, s.state], ["webgpu", 1, 3, "paused"]);
    assert.deepEqual((await page.evaluate(() => window.vanillanet.history())).loss, before.loss, "the charts came along");
    await page.evaluate(() => window.vanillanet.step());
    await page.evaluate(() => window.vanillanet.setBackend("cpu"));
    s = await page.evaluate(() => window.vanillanet.status());
    assert.deepEqual([s.backend, s.step], ["cpu", 4]);
    assert.ok(s.threads > 1 || (await page.evaluate(() => navigator.hardwareConcurrency)) === 1);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
