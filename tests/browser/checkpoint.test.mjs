// Checkpoints in the page: the authors' .pth read in wasm and fused, photos classified with it,
// export then import, the bad-input corpus, and a reload that brings it all back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { open, png, pngHeader, outDir, root, waitFor } from "./harness.mjs";

const fixture = (...p) => readFileSync(join(root, "tests", "fixtures", ...p));

/** Drops `files` ({name, buffer}) onto `selector` as a real DragEvent with a DataTransfer. */
async function drop(page, selector, files) {
  await page.evaluate(async ({ selector, files }) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    document.querySelector(selector).dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { selector, files: files.map((f) => ({ name: f.name, b64: Buffer.from(f.buffer).toString("base64") })) });
}

const predictions = (page) => page.$$eval(".prediction", (els) => els.map((e) => e.textContent.replace(/\s+/g, " ").trim()));

test("official .pth: detect, fuse, classify, export/import, bad input, reload", { timeout: 600_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    // The official tiny checkpoint (model_ema inside): its widths match no released variant, so
    // the page asks for the strides.
    await page.setInputFiles("#checkpoint-file", { name: "checkpoint.pth", mimeType: "application/octet-stream", buffer: fixture("official-tiny", "checkpoint.pth") });
    await page.waitForSelector("#checkpoint-choice:not([hidden])");
    assert.match(await page.textContent("#checkpoint-status"), /training form, widths 16-32-64-128, act_num 3, 3 channels in, 10 classes/);
    await page.fill("#checkpoint-strides", "2,2,2");
    await page.click('#checkpoint-choice button[type="submit"]');
    await waitFor(page, () => window.vanillanet.classifier());
    const info = await page.evaluate(() => window.vanillanet.classifier());
    assert.deepEqual(info.card.architecture.dims, [16, 32, 64, 128]);
    assert.equal(info.card.preprocess.height, 224);
    assert.match(await page.textContent("#classifier-info"), /official evaluation/);

    // A photo dropped anywhere: classified with the official preprocessing.
    await drop(page, "main", [{ name: "photo.png", buffer: png(300, [180, 120, 40]) }]);
    await waitFor(page, () => document.querySelectorAll(".prediction").length === 1);
    assert.match((await predictions(page))[0], /photo\.png class \d.*fused [\d.]+ ms/);

    // Export: the button downloads both files; importing the safetensors gives the same outputs.
    const downloads = [];
    page.on("download", (d) => downloads.push(d.suggestedFilename()));
    await page.click("#export-model");
    await waitFor(page, () => true);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(downloads.sort(), ["VanillaNet_16_32_64_128_.json", "VanillaNet_16_32_64_128_.safetensors"]);
    const photo = png(120, [30, 160, 90], 7).toString("base64");
    const same = await page.evaluate(async (b64) => {
      const api = window.vanillanet;
      const image = () => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "green.png");
      const before = await api.classify(image());
      const { safetensors, json } = await api.exportModel();
      const card = JSON.parse(await json.text());
      await api.loadCheckpoint(new File([safetensors], "exported.safetensors"));
      const after = await api.classify(image());
      return { before, after, card, size: safetensors.size };
    }, photo);
    assert.deepEqual(same.after.top, same.before.top, "export then import: identical probabilities");

    // ONNX: the exported file, run by onnxruntime-web (its wasm build), gives our fused logits.
    const onnx = await page.evaluate(async () => {
      const api = window.vanillanet;
      const bytes = new Uint8Array(await (await api.exportOnnx()).arrayBuffer());
      const ort = await import("/vendor/ort/ort.all.min.mjs");
      ort.env.wasm.wasmPaths = "/vendor/ort/";
      ort.env.wasm.numThreads = 1;
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
      const shape = [2, 3, 224, 224];
      const values = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 0.37));
      const ours = await api.logits(values, 2);
      const out = await session.run({ input: new ort.Tensor("float32", values, shape) });
      const theirs = out.logits.data;
      let diff = 0;
      let scale = 0;
      ours.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - theirs[i])); scale = Math.max(scale, Math.abs(v)); });
      return { diff, scale, dims: out.logits.dims, inputs: session.inputNames, outputs: session.outputNames, size: bytes.length };
    });
    assert.deepEqual([onnx.dims, onnx.inputs, onnx.outputs], [[2, 10], ["input"], ["logits"]]);
    assert.ok(onnx.scale > 0 && onnx.diff <= 1e-4 * onnx.scale, `ONNX logits differ by ${onnx.diff} (scale ${onnx.scale})`);
    assert.equal(same.card.format, "vanillanet-classifier/1");
    assert.equal(same.card.classes.length, 10);

    // The bad-input corpus: each gets a message beside it; nothing runs; the classifier stays.
    const exported = Buffer.from(await page.evaluate(async () => {
      const { safetensors } = await window.vanillanet.exportModel();
      const bytes = new Uint8Array(await safetensors.arrayBuffer());
      let text = "";
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(text);
    }), "base64");
    const good = fixture("official-tiny", "checkpoint.pth");
    const badCheckpoints = [
      { name: "empty.pth", buffer: Buffer.alloc(0) },
      { name: "truncated.pth", buffer: good.subarray(0, good.length >> 1) },
      { name: "payload-zip.pth", buffer: fixture("hostile", "payload-zip.pth") },
      { name: "payload-pickle.pth", buffer: fixture("hostile", "payload-pickle.pth") },
      { name: "foreign.safetensors", buffer: fixture("official-tiny", "io.safetensors") },
      { name: "wrong-shape.safetensors", buffer: wrongShape(exported) },
    ];
    await drop(page, "main", badCheckpoints);
    await waitFor(page, () => document.querySelectorAll("#checkpoint-log li.error").length === 6, null, { timeout: 60_000 });
    const log = await page.$$eval("#checkpoint-log li.error", (els) => els.map((e) => e.textContent));
    const reason = (name) => log.find((l) => l.startsWith(`${name}:`));
    assert.match(reason("empty.pth"), /empty/);
    assert.match(reason("truncated.pth"), /PyTorch/);
    assert.match(reason("payload-zip.pth"), /never run/);
    assert.match(reason("payload-pickle.pth"), /never run/);
    assert.match(reason("foreign.safetensors"), /not a VanillaNet/);
    assert.match(reason("wrong-shape.safetensors"), /shape|widths|strides/);
    const badImages = [
      { name: "zero.png", buffer: Buffer.alloc(0) },
      { name: "truncated.png", buffer: png(64, [1, 2, 3]).subarray(0, 200) },
      { name: "notes.jpg", buffer: Buffer.from("not a jpeg at all") },
      { name: "huge.png", buffer: pngHeader(100000, 100000) },
      { name: "scan.tiff", buffer: Buffer.from("II*\0\x08\0\0\0 a tiff header", "binary") },
    ];
    await drop(page, "main", badImages);
    await waitFor(page, () => document.querySelectorAll(".prediction .error").length === 5, null, { timeout: 60_000 });
    const texts = await predictions(page);
    const said = (name) => texts.find((t) => t.startsWith(name));
    assert.match(said("zero.png"), /empty/);
    assert.match(said("truncated.png"), /truncated or damaged/);
    assert.match(said("notes.jpg"), /not an image/);
    assert.match(said("huge.png"), /100000x100000|too large to decode/);
    assert.match(said("scan.tiff"), /not supported/);
    // Still working, with the same classifier.
    assert.equal((await page.evaluate(() => window.vanillanet.classifier())).card.name, info.card.name);
    await drop(page, "main", [{ name: "after.png", buffer: png(90, [200, 200, 200]) }]);
    await waitFor(page, () => document.querySelector(".prediction b")?.textContent === "after.png");
    await page.screenshot({ path: join(outDir, "checkpoint.png"), fullPage: true });

    // A reload brings back the classifier and the predictions.
    const shown = (await predictions(page)).length;
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready);
    await page.evaluate(() => window.vanillanet.ready);
    await waitFor(page, () => window.vanillanet.classifier());
    assert.deepEqual((await page.evaluate(() => window.vanillanet.classifier())).card, same.card);
    assert.equal((await predictions(page)).length, shown);
    const again = await page.evaluate(async (b64) => window.vanillanet.classify(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "green.png")), photo);
    assert.deepEqual(again.top, same.before.top, "the reloaded classifier answers the same");
    assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  } finally {
    await close();
  }
});

/** An exported model with one tensor's shape edited in the header (as many elements): its card
 * says one architecture, its tensors another. */
function wrongShape(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
  const key = Object.keys(header).find((k) => k.endsWith("conv.weight"));
  const [o, i, kh, kw] = header[key].shape;
  header[key].shape = [i, o, kh, kw];
  const text = Buffer.from(JSON.stringify(header).padEnd(n, " "));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([len, text, bytes.subarray(8 + n)]);
}
