// Offline and installable: after one visit the service worker has the page, the wasm and the
// data; with the server gone, a reload still loads, trains, fuses and classifies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, waitFor, waitStatus } from "./harness.mjs";

test("works offline after one visit, and is installable", { timeout: 300_000 }, async () => {
  const { page, errors, server, close } = await open({ webgpu: false, serviceWorker: true });
  try {
    // Installed and every listed file cached.
    await waitFor(page, async () => {
      if (!navigator.serviceWorker.controller) return false;
      const names = await caches.keys();
      if (names.length !== 1) return false;
      const cache = await caches.open(names[0]);
      return (await cache.keys()).length >= 30;
    }, null, { timeout: 120_000 });
    const cdp = await page.context().newCDPSession(page);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    // A test context is incognito, where nothing installs; that is the only objection.
    assert.deepEqual(installabilityErrors.map((e) => e.errorId).filter((id) => id !== "in-incognito"), [], "the browser can install the page");
    const manifest = await cdp.send("Page.getAppManifest");
    assert.deepEqual(manifest.errors, []);
    assert.match(manifest.data, /"name": "VanillaNet in the browser"/);

    // The server goes away: nothing reaches the network any more.
    server.close();
    server.closeAllConnections();
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
    await assert.rejects(page.evaluate(() => fetch("/not-cached").then((r) => r.text())), /Failed to fetch/);
    assert.match(await page.textContent("#data-summary"), /60,000 training and 10,000 test images/);

    // Train a few steps (without deep training, so the net fuses at once), fuse, classify.
    await page.evaluate(() => window.vanillanet.train({ preset: "nano_28", batchSize: 32, epochs: 1, decayEpochs: 1, deepTraining: false, evalEvery: 1000 }));
    await waitStatus(page, "(s) => s.step >= 5");
    await page.evaluate(() => window.vanillanet.pause());
    await waitStatus(page, "(s) => s.state === 'paused'");
    await page.evaluate(() => window.vanillanet.fuse());
    const top = await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(28, 28);
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(8, 4, 12, 20);
      const blob = await canvas.convertToBlob({ type: "image/png" });
      return window.vanillanet.classify(blob);
    });
    assert.equal(top.top.length, 5);
    assert.ok(top.top.every((p) => p.probability >= 0 && p.probability <= 1));
    assert.deepEqual(errors.filter((e) => !/Failed to load resource|not-cached/.test(e)), []);
  } finally {
    await close();
  }
});
