// The camera, with Chromium's fake device: recording frames into own classes (by the API and by
// holding the button), live classification with the fused net, and a camera that is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { open, outDir, waitFor, waitStatus } from "./harness.mjs";

const FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"];

test("records frames into classes and classifies the stream live", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, args: FAKE_CAMERA });
  try {
    const cam = (fn, ...args) => page.evaluate(([f, a]) => window.vanillanet.camera[f](...a), [fn, args]);
    const devices = await cam("devices");
    assert.ok(devices.length >= 1, `a camera: ${JSON.stringify(devices)}`);
    await page.check('input[name="dataset"][value="own"]');
    assert.equal(await page.isDisabled(".record"), true, "recording needs a started camera");
    const started = await cam("start");
    assert.equal(started.running, true);
    assert.ok(started.deviceId, "the device in use is reported");
    await waitFor(page, () => !document.querySelector("#camera-video").hidden && document.querySelector("#camera-video").videoWidth > 0);

    // Frames go the way dropped images go: decoded, cropped and resized to the chosen size.
    const a = await cam("capture", 0, 3);
    assert.equal(a.images, 3);
    assert.equal(await page.locator(".class-card").nth(0).locator(".thumbs img").count(), 3);
    const pixels = await waitFor(page, () => {
      const img = document.querySelector(".class-card .thumbs img");
      return img.complete && img.naturalWidth && [img.naturalWidth, img.naturalHeight];
    });
    assert.deepEqual(pixels, [32, 32], "prepared at the own-images size (32x32 colour)");

    // Holding the button records until it is let go.
    const record = page.locator(".class-card").nth(1).locator(".record");
    await record.hover();
    await page.mouse.down();
    await waitFor(page, () => window.vanillanet.own.classes()[1].images >= 3, null, { timeout: 20_000 });
    assert.equal(await page.evaluate(() => window.vanillanet.camera.status().recording), 1);
    await page.mouse.up();
    await waitFor(page, () => window.vanillanet.camera.status().recording === null);
    const held = await page.evaluate(() => window.vanillanet.own.classes()[1].images);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await page.evaluate(() => window.vanillanet.own.classes()[1].images), held, "no frames after letting go");
    // By keyboard: Space held on the focused button.
    await page.locator(".class-card").nth(0).locator(".record").focus();
    await page.keyboard.down(" ");
    await waitFor(page, () => window.vanillanet.own.classes()[0].images >= 5, null, { timeout: 20_000 });
    await page.keyboard.up(" ");
    await waitFor(page, () => window.vanillanet.camera.status().recording === null);
    await page.screenshot({ path: join(outDir, "camera-record.png"), fullPage: false });

    // Live: a net trained a few steps on MNIST (no deep training, so it fuses at once).
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    await page.evaluate(() => window.vanillanet.train({ preset: "nano_28", batchSize: 32, epochs: 1, decayEpochs: 1, deepTraining: false, evalEvery: 1000 }));
    await waitStatus(page, "(s) => s.step >= 3");
    await page.evaluate(() => window.vanillanet.pause());
    await waitStatus(page, "(s) => s.state === 'paused'");
    await page.evaluate(() => window.vanillanet.fuse());
    await page.click("#live-toggle");
    const live = await waitFor(page, () => {
      const s = window.vanillanet.camera.status();
      return s.live && s.top.length === 3 && s.fps > 0 && s.ms > 0 && s;
    }, null, { timeout: 60_000 });
    assert.ok(live.top.every((t) => /^\d$/.test(t.label) && t.probability >= 0 && t.probability <= 1), JSON.stringify(live.top));
    assert.match(await page.textContent("#live-rate"), /frames\/s · .* ms per frame/);
    assert.equal(await page.locator("#live-top li").count(), 3);
    await page.locator("#deploy-panel").screenshot({ path: join(outDir, "camera-live.png") });
    await cam("live", false);
    assert.equal(await page.getAttribute("#live-toggle", "aria-pressed"), "false");
    const stopped = await cam("stop");
    assert.equal(stopped.running, false);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("a refused camera says why and leaves the page working", { timeout: 120_000 }, async () => {
  // The fake device, but no fake permission prompt: the browser refuses.
  const { page, close } = await open({ webgpu: false, args: ["--use-fake-device-for-media-stream"] });
  try {
    await assert.rejects(page.evaluate(() => window.vanillanet.camera.start()), /camera access was denied/);
    assert.match(await page.textContent("#camera-help"), /camera access was denied/);
    await assert.rejects(page.evaluate(() => window.vanillanet.camera.capture(0, 1)), /start the camera first/);
    await assert.rejects(page.evaluate(() => window.vanillanet.camera.live(true)), /start the camera first/);
    await assert.rejects(page.evaluate(() => window.vanillanet.camera.start("no-such-camera")), /denied|not available/);
    // The rest of the page is unaffected.
    await page.evaluate(() => window.vanillanet.step({ preset: "nano_28", batchSize: 8 }));
    assert.equal((await page.evaluate(() => window.vanillanet.status())).step, 1);
  } finally {
    await close();
  }
});
