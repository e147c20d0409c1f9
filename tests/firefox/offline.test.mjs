// The service worker in Firefox: after one visit it has cached the build; with the server gone,
// a reload still loads from that cache, cross-origin isolated on the threaded build, and trains,
// fuses and classifies. No console errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, png, ready, waitStatus } from "./harness.mjs";

/** Waits until the service worker is installed, controls the page and has cached every listed
 * file; an install that failed (a worker gone redundant: a file that does not match
 * pkg/precache.js's hash, as when www/ changed since the list was made) fails at once, saying so. */
async function installed(page) {
  const end = Date.now() + 120_000;
  for (;;) {
    const state = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      const names = await caches.keys();
      const cached = names.length === 1 ? (await (await caches.open(names[0])).keys()).length : 0;
      return {
        controlled: Boolean(navigator.serviceWorker.controller), caches: names.length, cached,
        workers: reg ? ["installing", "waiting", "active"].map((k) => `${k}: ${reg[k]?.state ?? "none"}`).join(", ") : "not registered",
      };
    });
    if (state.controlled && state.caches === 1 && state.cached >= 30) return;
    const failed = /^not registered$| none, waiting: none, active: none/.test(state.workers) && Date.now() > end - 90_000;
    if (failed || Date.now() > end) {
      throw new Error(`the service worker did not install (${JSON.stringify(state)}); if www/ changed, run node scripts/build-precache.mjs`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("Firefox: works offline after one visit", { timeout: 240_000 }, async () => {
  const { page, errors, server, close } = await open({ serviceWorker: true });
  try {
    await installed(page);

    // The server goes away: nothing reaches the network any more.
    server.close();
    server.closeAllConnections();
    await page.reload();
    await ready(page);
    await assert.rejects(page.evaluate(() => fetch("/not-cached").then((r) => r.text())), /NetworkError|Failed to fetch/);
    const status = await page.evaluate(() => window.vanillanet.status());
    assert.equal(status.crossOriginIsolated, true, "the cached responses keep the isolation headers");
    assert.ok(status.threads > 1 || (await page.evaluate(() => navigator.hardwareConcurrency)) === 1, "the threaded build, from the cache");
    assert.match(await page.$eval("#data-summary", (e) => e.textContent), /60,000 training and 10,000 test images/);

    for (let i = 0; i < 3; i++) await page.evaluate(() => window.vanillanet.step({ preset: "nano_28", batchSize: 32, deepTraining: false }));
    assert.equal((await waitStatus(page, "(s) => s.state === 'paused' && s.step === 3", 30_000)).step, 3);
    await page.evaluate(() => window.vanillanet.fuse());
    const top = await page.evaluate((bytes) => window.vanillanet.classify(new File([new Uint8Array(bytes)], "grey.png", { type: "image/png" })), [...png(28, [200, 200, 200])]);
    assert.equal(top.top.length, 5);
    assert.ok(top.top.every((p) => p.probability >= 0 && p.probability <= 1));
    // The failed fetch of a file never cached is the one error expected.
    assert.deepEqual(errors.filter((e) => !/not-cached|NetworkError/.test(e)), []);
  } finally {
    await close();
  }
});
