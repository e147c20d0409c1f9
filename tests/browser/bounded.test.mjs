// Bounded work everywhere: recorded camera frames are scaled before they are encoded (as live
// ones are), the bench page refuses parameters out of bounds by name, and the saved language
// is an own key of the table ("__proto__" and "toString" are no languages).
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, waitFor } from "./harness.mjs";

const ready = async (page) => {
  await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
  await page.evaluate(() => window.vanillanet.ready);
};

test("a saved language of __proto__ or toString: the page starts, in English", { timeout: 120_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    for (const saved of ["__proto__", "toString", "constructor"]) {
      await page.evaluate((v) => localStorage.setItem("vanillanet.language", v), saved);
      await page.reload();
      await ready(page);
      assert.equal(await page.evaluate(() => document.documentElement.lang), "en", saved);
      assert.match(await page.textContent("#data-summary"), /^fashion-mnist/, saved);
    }
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("recorded camera frames are scaled before encoding", { timeout: 120_000 }, async () => {
  const { page, close } = await open({ webgpu: false, args: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
  try {
    // Every canvas the page encodes, by size.
    await page.evaluate(() => {
      window.encoded = [];
      const convert = OffscreenCanvas.prototype.convertToBlob;
      OffscreenCanvas.prototype.convertToBlob = function (...args) {
        window.encoded.push([this.width, this.height]);
        return convert.apply(this, args);
      };
    });
    await page.evaluate(() => window.vanillanet.camera.start());
    const { videoWidth, videoHeight } = await waitFor(page, () => {
      const v = document.querySelector("#camera-video");
      return v.videoWidth > 0 && { videoWidth: v.videoWidth, videoHeight: v.videoHeight };
    });
    await page.evaluate(() => { window.encoded = []; });
    const t0 = Date.now();
    const summary = await page.evaluate(() => window.vanillanet.camera.capture(0, 3));
    const ms = Date.now() - t0;
    assert.equal(summary.images, 3);
    const frames = (await page.evaluate(() => window.encoded)).filter(([w, h]) => w > 64 || h > 64);
    assert.equal(frames.length, 3, `three frames encoded: ${JSON.stringify(frames)}`);
    for (const [w, h] of frames) assert.ok(Math.min(w, h) <= 256, `a ${w}x${h} frame from a ${videoWidth}x${videoHeight} camera`);
    console.log(`camera ${videoWidth}x${videoHeight}: frames encoded at ${frames[0].join("x")}, ${(3000 / ms).toFixed(1)} frames/s recorded`);
  } finally {
    await close();
  }
});

test("the bench page refuses parameters out of bounds, by name", { timeout: 180_000 }, async () => {
  const cases = Array.from({ length: 40 }, () => "nano_28@28:1").join(",");
  const { page, close } = await open({ webgpu: false, path: "bench.html", query: "?run=1&threads=100000" });
  try {
    const refused = async (query, pattern) => {
      await page.goto(`${page.url().split("?")[0]}${query}`);
      const error = await waitFor(page, () => window.benchError || (window.benchResult && "ran"), null, { timeout: 60_000 });
      assert.match(error, pattern, query);
      assert.match(await page.textContent("#bench-status"), pattern);
    };
    await refused("?run=1&threads=100000", /threads must be a whole number from 1 to \d+, got "100000"/);
    await refused(`?run=1&cases=${cases}`, /at most 32 cases, got 40/);
    await refused("?run=1&cases=nano_28@100000:1", /a case's size must be a whole number from 1 to 1024/);
    await refused("?run=1&cases=nano_28@28:100000", /a case's batch must be a whole number from 1 to 256/);
    await refused("?run=1&runs=1e9", /runs must be a whole number from 1 to 1000/);
    await refused("?run=1&backends=cpu,quantum", /unknown backend "quantum"/);
    await refused("?run=1&breakdown=7", /breakdown must be a whole number from 0 to 1, got "7"/);
  } finally {
    await close();
  }
});

// From the session property test's report: decoding an image with a channel count of 2 ** 32 - 1
// (the page never asks it; a usize from JS is 32 bits in wasm) made the normalization's one value
// a channel, 32 GB, before the count was checked: the engine crashed instead of refusing it.
test("an image decoded with a channel count past any image's is refused before anything is allocated", { timeout: 120_000 }, async () => {
  const { page, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    const answer = await page.evaluate(async () => {
      const { call } = await import("/client.js");
      const file = new File([new Uint8Array(16)], "x.png", { type: "image/png" });
      return call("decodeImage", { file, channels: 2 ** 32 - 1, side: 28 }).then(() => "decoded", (e) => e.message);
    });
    assert.match(answer, /4294967295 channels; images give 1 \(grey\) or 3 \(RGB\)/);
    assert.equal(await page.evaluate(() => window.vanillanet.status().engine), "up");
  } finally {
    await close();
  }
});
