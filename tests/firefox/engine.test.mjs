// The page in Firefox (no WebGPU on Linux): cross-origin isolated, the CPU backend on the
// threaded build; it trains, fuses and classifies, refuses a hostile checkpoint with a message,
// and a reload brings the session and the classifier back from IndexedDB. No console errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { open, drop, png, ready, root, outDir, waitFor, waitStatus } from "./harness.mjs";

const classify = (page, bytes) => page.evaluate(
  (bytes) => window.vanillanet.classify(new File([new Uint8Array(bytes)], "grey.png", { type: "image/png" })), [...bytes]);

test("Firefox: threaded CPU backend, train, fuse, classify, a hostile file, reload", { timeout: 240_000 }, async () => {
  const { page, errors, close } = await open();
  try {
    const [isolated, cores, status] = await page.evaluate(() => [crossOriginIsolated, navigator.hardwareConcurrency, window.vanillanet.status()]);
    assert.equal(isolated, true, "the page is cross-origin isolated");
    assert.equal(status.crossOriginIsolated, true);
    assert.equal(status.backend, "cpu", "no WebGPU here: the CPU backend");
    assert.equal(status.threads, cores, `a worker thread a core (${cores})`);
    if (cores > 1) assert.ok(status.threads > 1, "the threaded build");

    // A few steps without deep training, so that the net fuses at once.
    await page.evaluate(() => window.vanillanet.train({ preset: "nano_28", batchSize: 64, epochs: 1, decayEpochs: 1, deepTraining: false, evalEvery: 1000 }));
    await waitStatus(page, "(s) => s.step >= 5", 120_000);
    await page.evaluate(() => window.vanillanet.pause());
    const paused = await waitStatus(page, "(s) => s.state === 'paused'", 60_000);
    assert.ok(Number.isFinite(paused.loss), `a finite loss: ${paused.loss}`);
    const report = await page.evaluate(() => window.vanillanet.fuse());
    assert.ok(report.maxLogitDiff < 1e-3, `fused equals trained: ${report.maxLogitDiff}`);
    const image = png(28, [200, 200, 200]);
    const before = await classify(page, image);
    assert.equal(before.top.length, 5);
    assert.ok(before.top.every((p) => p.probability >= 0 && p.probability <= 1));
    const card = (await page.evaluate(() => window.vanillanet.classifier())).card;

    // A checkpoint whose unpickling would run a shell command: refused in words, nothing run,
    // the classifier kept.
    await drop(page, "main", [{ name: "payload-pickle.pth", buffer: readFileSync(join(root, "tests", "fixtures", "hostile", "payload-pickle.pth")) }]);
    await waitFor(page, () => document.querySelectorAll("#checkpoint-log li.error").length === 1, null, { timeout: 60_000 });
    assert.match(await page.$eval("#checkpoint-log li.error", (e) => e.textContent), /^payload-pickle\.pth:.*never run/s);
    assert.deepEqual((await page.evaluate(() => window.vanillanet.classifier())).card, card);
    assert.equal((await page.evaluate(() => window.vanillanet.status())).engine, "up");

    // Saved, then reloaded: the steps and the classifier come back and answer alike.
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.reload();
    await ready(page);
    await waitFor(page, () => window.vanillanet.classifier(), null, { timeout: 60_000 });
    const restored = await page.evaluate(() => window.vanillanet.status());
    assert.equal(restored.step, paused.step, "the training state restored");
    assert.equal(restored.threads, cores);
    assert.deepEqual((await page.evaluate(() => window.vanillanet.classifier())).card, card);
    assert.deepEqual((await classify(page, image)).top, before.top, "the restored classifier answers the same");
    await page.screenshot({ path: join(outDir, "firefox.png") });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
