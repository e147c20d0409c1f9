// needs: the native CLI (scripts/test.sh runs this file once the native build is done)
// One model file for the page and the CLI: a 28x28 grey net trained and fused in the page,
// exported, and given to `vanillanet classify` with a colour photo gives the page's top-5 (the
// card carries the size, channels, normalisation and class names). The training-form export
// carries the authors' key names and the same card.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { open, png, outDir } from "./harness.mjs";

// The CLI built by `cargo test` (scripts/test.sh runs it before the browser tests).
const cli = join(process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "vanillanet", "target"), "debug", "vanillanet");

async function blobBytes(page, expression) {
  return Buffer.from(await page.evaluate(async (expr) => {
    const blob = await (0, eval)(expr)();
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }, expression), "base64");
}

test("a page export classifies in the CLI as in the page", { timeout: 300_000 }, async () => {
  assert.ok(existsSync(cli), `${cli} is built by cargo test`);
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    const options = { preset: "nano_28", decayEpochs: 0, epochs: 1, batchSize: 32 };
    for (let i = 0; i < 3; i++) await page.evaluate((o) => window.vanillanet.step(o), options);
    await page.evaluate(() => window.vanillanet.fuse());
    const photo = png(96, [200, 40, 90], 3);
    const top = await page.evaluate(async (b64) => {
      const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "colour.png");
      return (await window.vanillanet.classify(file)).top;
    }, photo.toString("base64"));
    assert.equal(top.length, 5);
    const card = await page.evaluate(() => window.vanillanet.classifier().card);
    assert.deepEqual([card.preprocess.channels, card.preprocess.height, card.form], [1, 28, "deploy"]);
    assert.equal(card.classes[0], "T-shirt/top", "Fashion-MNIST's names, not numbers");

    const model = join(outDir, "page-export.safetensors");
    const photoPath = join(outDir, "colour.png");
    writeFileSync(model, await blobBytes(page, "async () => (await window.vanillanet.exportModel()).safetensors"));
    writeFileSync(photoPath, photo);
    const printed = execFileSync(cli, ["classify", "--checkpoint", model, photoPath], { encoding: "utf8" })
      .trim().split("\n").slice(1).map((l) => {
        const [, pct, label] = /^\s*([\d.]+)%\s+(.*)$/.exec(l);
        return { label, pct: Number(pct) };
      });
    assert.deepEqual(printed.map((p) => p.label), top.map((t) => t.label), "the same classes in the same order");
    for (const [i, p] of printed.entries()) assert.ok(Math.abs(p.pct - 100 * top[i].probability) < 0.011, `${p.label}: ${p.pct} vs ${100 * top[i].probability}`);

    // The training form, for the authors' code: their names, the step counters, the same card.
    const training = join(outDir, "page-training.safetensors");
    const header = await blobBytes(page, "() => window.vanillanet.exportTraining()");
    writeFileSync(training, header);
    const meta = JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString("utf8"));
    assert.equal(meta["stem1.1.num_batches_tracked"].dtype, "I64");
    assert.ok(meta["stages.0.conv1.0.weight"] && meta["cls2.0.weight"]);
    const trainingCard = JSON.parse(meta.__metadata__.vanillanet);
    assert.equal(trainingCard.form, "training");
    assert.deepEqual(trainingCard.classes, card.classes);
    // Fused here by the CLI, it classifies the photo the same way.
    const again = execFileSync(cli, ["classify", "--checkpoint", training, photoPath], { encoding: "utf8" });
    assert.equal(again.trim().split("\n")[1].trim().split(/%\s+/)[1], top[0].label);
    // A backend switch that fails (this browser has no WebGPU) keeps the classifier and the
    // trainer where they work.
    const switched = await page.evaluate(() => window.vanillanet.setBackend("webgpu").then(() => "switched", (e) => e.message));
    assert.match(switched, /WebGPU unavailable/);
    const after = await page.evaluate(async (b64) => {
      const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "colour.png");
      return (await window.vanillanet.classify(file)).top[0].label;
    }, photo.toString("base64"));
    assert.equal(after, top[0].label);
    assert.equal(await page.evaluate((o) => window.vanillanet.step(o).then((r) => r.globalStep), options), 4);
    assert.equal(await page.evaluate(() => window.vanillanet.status().backend), "cpu");
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
