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

// A cache that no longer matches itself (the two builds' wasm swapped, as a damaged disk or an
// interrupted write could leave it) fails the engine's start on every visit: the page notices,
// drops the cache and loads once from the network, saying so; the service worker then caches
// the build afresh, and the next visit starts from it.
test("a damaged offline copy is dropped and the page loads from the network once", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, serviceWorker: true });
  const WASM = ["./pkg/vanillanet_bg.wasm", "./pkg/threads/vanillanet_bg.wasm"];
  const installed = () => waitFor(page, async () => {
    if (!navigator.serviceWorker.controller) return false;
    const names = await caches.keys();
    return names.length === 1 && (await (await caches.open(names[0])).keys()).length >= 30;
  }, null, { timeout: 120_000 });
  /** The cached wasm files' sizes, each under its own name. */
  const sizes = (urls) => page.evaluate(async (urls) => {
    const cache = await caches.open((await caches.keys())[0]);
    return Promise.all(urls.map(async (u) => (await (await cache.match(new URL(u, location.href).href)).arrayBuffer()).byteLength));
  }, urls);
  try {
    await installed();
    const right = await sizes(WASM);
    assert.notEqual(right[0], right[1]);
    await page.evaluate(async (urls) => {
      const cache = await caches.open((await caches.keys())[0]);
      const [a, b] = urls.map((u) => new URL(u, location.href).href);
      const [ra, rb] = await Promise.all([cache.match(a), cache.match(b)]);
      const copy = async (r) => new Response(await r.arrayBuffer(), { headers: r.headers });
      const [ca, cb] = await Promise.all([copy(ra), copy(rb)]);
      await cache.put(a, cb);
      await cache.put(b, ca);
    }, WASM);
    assert.deepEqual(await sizes(WASM), [right[1], right[0]], "the two builds' wasm swapped in the cache");

    // The page reloads itself on the way: a poll during the navigation is tried again.
    await page.reload();
    const end = Date.now() + 120_000;
    while (!(await page.evaluate(() => /offline copy of the page was damaged/.test(document.querySelector("#messages")?.textContent)).catch(() => false))) {
      if (Date.now() > end) throw new Error(`never said: ${await page.textContent("#messages").catch((e) => e.message)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
    assert.match(await page.textContent("#data-summary"), /60,000 training and 10,000 test images/);
    assert.equal((await page.evaluate(() => window.vanillanet.step({ preset: "nano_28", batchSize: 16 }))).globalStep, 1);

    // Cached afresh, each file under its own name; the next visit starts from the cache.
    await installed();
    assert.deepEqual(await sizes(WASM), right);
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
    assert.ok(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)));
    assert.doesNotMatch(await page.textContent("#messages"), /damaged/, "said once");
  } finally {
    await close();
  }
  // The failed start's own errors aside (the wasm that did not link).
  assert.deepEqual(errors.filter((e) => !/Failed to load resource|do not go together|LinkError|WebAssembly/.test(e)), []);
});
