// The Experiments view: a tiny study runs arm after arm in the worker on the CPU backend, the
// table fills in with every arm, the CSV downloads, and a paused study survives a reload and
// continues where it stopped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { open, outDir, waitFor } from "./harness.mjs";

const TINY = { seeds: "1", epochs: "1", decayEpochs: "1", trainImages: "128", testImages: "64" };

async function fillStudyForm(page, values) {
  for (const [name, value] of Object.entries(values)) {
    await page.locator(`#study-options [name="${name}"]`).fill(value).catch(() => page.selectOption(`#study-options [name="${name}"]`, value));
  }
}
const studyState = (page) => page.evaluate(() => window.vanillanet.study.status());
const rows = (page) => page.$$eval("#study-table tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));

test("runs a study from the page, downloads it, and continues one after a reload", { timeout: 600_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  page.on("dialog", (d) => d.accept());
  try {
    await page.locator('#options [name="batchSize"]').fill("32");
    await page.selectOption('#study-options [name="study"]', "deep-training");
    await fillStudyForm(page, TINY);
    assert.match(await page.textContent("#study-claim"), /Deep training plus series activation together/);
    // A budget that cannot be fused at the end is refused before anything trains.
    await page.locator('#study-options [name="decayEpochs"]').fill("2");
    await page.click("#study-run");
    await waitFor(page, () => /decay epochs \(2\) must not exceed epochs \(1\)/.test(document.querySelector("#messages").textContent));
    await page.locator('#study-options [name="decayEpochs"]').fill("1");

    await page.click("#study-run");
    await waitFor(page, () => window.vanillanet.study.status()?.state === "finished", null, { timeout: 300_000, polling: 250 });
    const table = await rows(page);
    assert.deepEqual(table.map((r) => r[0]), ["neither", "deep training only", "series activation only", "both (VanillaNet)"]);
    for (const r of table) {
      assert.match(r[1], /^\d+\.\d%$/, `accuracy of ${r[0]}: ${r[1]}`);
      assert.equal(r[2], "1/1");
    }
    const report = await page.evaluate(() => window.vanillanet.study.report());
    assert.equal(report.runs.length, 4);
    assert.equal(report.stepsPerRun, 4, "128 images in batches of 32");
    assert.ok(report.runs.every((r) => r.maxLogitDiff < 1e-3), "every arm fused exactly");
    // Without deep training there is nothing to merge: the arm's training and fused forms
    // differ only by the BNs, with deep training the fused net is much smaller.
    const [neither, , , both] = report.summary;
    assert.ok(both.params > both.paramsDeploy * 1.1 && neither.params < both.params);
    const points = await page.evaluate(() => document.querySelectorAll("#study-chart .u-legend .u-series").length);
    assert.equal(points, 5, "x and one series per arm in the chart legend");
    assert.match(await page.textContent("#study-text"), /all 4 runs done/);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#study-csv")]);
    const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
    assert.equal(csv.length, 5);
    assert.match(csv[0], /^study,arm,runs,accuracy_mean/);
    assert.match(csv[4], /^deep-training,"both \(VanillaNet\)",1,0?\.\d+/);
    await page.screenshot({ path: join(outDir, "study.png"), fullPage: true });

    // A longer study, paused after its first run, then the page reloaded.
    await page.selectOption('#study-options [name="study"]', "shortcut");
    await fillStudyForm(page, { ...TINY, seeds: "2" });
    await page.click("#study-run");
    await waitFor(page, () => (window.vanillanet.study.status()?.runs ?? 0) >= 1, null, { timeout: 120_000, polling: 100 });
    await page.click("#study-pause");
    await waitFor(page, () => window.vanillanet.study.status()?.state === "paused");
    const before = await page.evaluate(() => window.vanillanet.study.report().runs);
    assert.ok(before.length >= 1 && before.length < 6);
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.waitForTimeout(300);
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready);
    await page.evaluate(() => window.vanillanet.ready);
    const restored = await studyState(page);
    assert.equal(restored.state, "paused");
    assert.deepEqual(await page.evaluate(() => window.vanillanet.study.report().runs), before, "finished runs kept");
    assert.equal(await page.inputValue('#study-options [name="seeds"]'), "2");
    await page.click("#study-resume");
    await waitFor(page, () => window.vanillanet.study.status()?.state === "finished", null, { timeout: 300_000, polling: 250 });
    const after = await page.evaluate(() => window.vanillanet.study.report());
    assert.equal(after.runs.length, 6, "3 arms x 2 seeds");
    assert.deepEqual(after.runs.slice(0, before.length), before);
    assert.deepEqual(after.runs.map((r) => r.seed), [42, 42, 42, 43, 43, 43]);
    assert.ok(after.summary.every((a) => a.runs === 2 && a.accuracyStd !== null));
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("the ablation options train, fuse and classify from the main form", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  page.on("dialog", (d) => d.accept());
  try {
    // No deep training: nothing to anneal, so the net fuses after any step.
    await page.selectOption('#options [name="preset"]', "nano_28");
    await page.selectOption('#options [name="deepTraining"]', "false");
    await page.evaluate(() => window.vanillanet.step({ batchSize: 16 }));
    await page.evaluate(() => window.vanillanet.step({ batchSize: 16 }));
    assert.equal(await page.isDisabled("#fuse"), false);
    assert.match(await page.textContent("#fuse-why"), /no deep training/);
    const shallow = await page.evaluate(() => window.vanillanet.fuse());
    assert.ok(shallow.maxLogitDiff < 1e-4, `fused differs by ${shallow.maxLogitDiff}`);
    assert.equal(shallow.convs, shallow.convsDeploy, "one conv per layer before and after");
    assert.ok(shallow.batchNorms > 0 && shallow.paramsDeploy < shallow.params);

    // Shortcuts need a new model; a net with them fuses exactly, and ONNX export says why not.
    await page.selectOption('#options [name="shortcut"]', "after-act");
    await waitFor(page, () => /reset to train a new model/.test(document.querySelector("#messages").textContent));
    await page.click("#reset");
    await page.selectOption('#options [name="deepTraining"]', "true");
    await page.evaluate(() => window.vanillanet.train({ batchSize: 64, epochs: 1, decayEpochs: 0, evalEvery: 1000 }));
    await page.evaluate(() => new Promise((r) => setTimeout(r, 1500)));
    await page.evaluate(() => window.vanillanet.pause());
    const report = await page.evaluate(() => window.vanillanet.fuse());
    assert.ok(report.maxLogitDiff < 1e-3, `fused differs by ${report.maxLogitDiff}`);
    const card = await page.evaluate(() => window.vanillanet.classifier().card.architecture);
    assert.equal(card.shortcut, "after-act");
    const onnx = await page.evaluate(() => window.vanillanet.exportOnnx().then(() => "exported", (e) => e.message));
    assert.match(onnx, /shortcuts around its blocks/);
    // The exported classifier (shortcut branches included) imports back to the same outputs.
    const same = await page.evaluate(async () => {
      const x = new Float32Array(2 * 28 * 28).map((_, i) => Math.sin(i));
      const before = await window.vanillanet.logits(x, 2);
      const { safetensors } = await window.vanillanet.exportModel();
      await window.vanillanet.loadCheckpoint(new File([safetensors], "shortcut.safetensors"));
      const after = await window.vanillanet.logits(x, 2);
      return Math.max(...before.map((v, i) => Math.abs(v - after[i])));
    });
    assert.equal(same, 0);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
