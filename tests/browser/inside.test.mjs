// needs: the native CLI (scripts/test.sh runs this file once the native build is done)
// Inside the net, in the page: the decay series of a nano_28 trained through lambda 0 -> 1, its
// feature maps against the CLI's (`vanillanet inspect`) for the trained and the fused net, the
// fusion view's fused weights against the exported deploy file, axe, the phone width (the same
// calls on WebGPU are checked on train.test.mjs's WebGPU page); and (INSIDE_OVERHEAD=1) training with the views open against closed, written
// to results/inside-overhead.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { axe, open, outDir, root, waitFor, waitStatus } from "./harness.mjs";

/** The CLI, as `cargo test` builds it (or VANILLANET_BIN); built here if missing. */
function cli() {
  if (process.env.VANILLANET_BIN) return process.env.VANILLANET_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "vanillanet", "target");
  const bin = join(target, "debug", "vanillanet");
  if (!existsSync(bin)) execFileSync("cargo", ["build", "--bin", "vanillanet"], { cwd: root, stdio: "inherit" });
  return bin;
}

/** The tensors of a safetensors file (F32 only), by name. */
function safetensors(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === "__metadata__" || t.dtype !== "F32") continue;
    const [s, e] = t.data_offsets;
    const data = bytes.subarray(8 + n + s, 8 + n + e);
    out[name] = { shape: t.shape, values: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)) };
  }
  return out;
}

/** The trained net in training form, or the classifier's deploy file, as bytes. */
const exported = (page, what) => page.evaluate(async (what) => {
  const v = window.vanillanet;
  const blob = what === "training" ? await v.exportTraining() : (await v.exportModel()).safetensors;
  return [...new Uint8Array(await blob.arrayBuffer())];
}, what);

// MNIST: 8,500 training images, 7,790 once the validation share is held out, 31 steps an epoch at
// batch 256; lambda anneals over the first.
const OPTIONS = { preset: "nano_28", batchSize: 256, learningRate: 0.01, epochs: 2, decayEpochs: 1, schedule: "cosine", perStep: true, evalEvery: 1000, evalLimit: 64 };
const IMAGE = 7;

function compareMaps(page, cliMaps, what) {
  assert.equal(page.channels, cliMaps.channels, what);
  assert.deepEqual([page.height, page.width, page.fused], [cliMaps.height, cliMaps.width, cliMaps.fused], what);
  assert.deepEqual(page.tiles.map((t) => t.channel), cliMaps.tiles.map((t) => t.channel), `${what}: the same channels, most active first`);
  let worst = 0;
  page.tiles.forEach((t, i) => t.values.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - cliMaps.tiles[i].values[j])); }));
  assert.ok(worst <= 1e-5, `${what}: the page's maps differ from the CLI's by ${worst}`);
  return worst;
}

test("decay from ReLU to linear, feature maps as the CLI computes them, the fusion drawn", { timeout: 900_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false });
  try {
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    await page.evaluate((o) => window.vanillanet.train(o), OPTIONS);
    await waitStatus(page, "(s) => s.step >= 12");
    await page.screenshot({ path: join(outDir, "inside-decay-training.png"), clip: await page.locator("#lambda-panel").boundingBox() });
    await waitStatus(page, "(s) => s.state === 'finished'", 600_000);

    // The decay series: every block's distance from linear > 0 at lambda 0, < 1e-6 at lambda 1.
    const decay = await page.evaluate(() => window.vanillanet.inside.decay());
    assert.deepEqual(decay.blocks.map((b) => b.name), ["stem", "stages.0", "stages.1", "head"]);
    assert.equal(decay.steps[0], 1);
    assert.equal(decay.lambda[0], 0);
    assert.ok(decay.lambda.filter((l) => l === 1).length >= 3, `lambda reached 1: ${decay.lambda}`);
    for (const b of decay.blocks) {
      assert.equal(b.distance.length, decay.steps.length);
      assert.equal(b.negativeShare.length, decay.steps.length);
      assert.ok(b.distance[0] > 0, `${b.name} at lambda 0: ${b.distance[0]}`);
      decay.lambda.forEach((l, i) => {
        if (l === 1) assert.ok(b.distance[i] < 1e-6, `${b.name} at step ${decay.steps[i]}: ${b.distance[i]}`);
        assert.ok(b.negativeShare[i] >= 0 && b.negativeShare[i] <= 1);
      });
    }
    // The chart draws those series, a line per block, and its sentence says the latest values.
    const chart = await page.evaluate(() => window.vanillanet.inside.chart());
    assert.deepEqual(chart.steps, decay.steps);
    assert.deepEqual(chart.distance, decay.blocks.map((b) => b.distance));
    assert.deepEqual(chart.negativeShare, decay.blocks.map((b) => b.negativeShare));
    assert.match(await page.textContent("#chart-summary"), /distance from linear stem 0\.000, block 1 0\.000, block 2 0\.000, head 0\.000/);
    await page.screenshot({ path: join(outDir, "inside-decay.png"), clip: await page.locator("#lambda-panel").boundingBox() });

    // Feature maps of test image 7 after each block, trained net (lambda 1), against the CLI.
    const bin = cli();
    const data = join(root, "www", "data", "mnist.vnds");
    const training = join(outDir, "inside-trained.safetensors");
    writeFileSync(training, Buffer.from(await exported(page, "training")));
    const inspect = (checkpoint, block, fused) => {
      const json = join(outDir, `inside-maps-${block}${fused ? "-fused" : ""}.json`);
      execFileSync(bin, ["inspect", "--checkpoint", checkpoint, "--data", data, "--index", String(IMAGE), "--block", String(block), "--tiles", "8", ...(fused ? ["--fused"] : []), "--json", json]);
      return JSON.parse(readFileSync(json, "utf8"));
    };
    const pageMaps = (block, fused) => page.evaluate(async ([i, b, f]) => {
      const m = await window.vanillanet.inside.featureMaps(i, b, { fused: f, tiles: 8 });
      return { ...m, tiles: m.tiles.map((t) => ({ ...t, isFloat32: t.values instanceof Float32Array, values: [...t.values] })) };
    }, [IMAGE, block, fused]);
    const worst = { trained: 0, fused: 0 };
    for (const block of [0, 1, 2]) {
      const m = await pageMaps(block, false);
      assert.ok(m.tiles.every((t) => t.isFloat32 && t.values.length === m.height * m.width));
      worst.trained = Math.max(worst.trained, compareMaps(m, inspect(training, block, false), `trained, block ${block}`));
    }

    // Fused: the page fuses; its maps against the CLI's on the exported deploy file.
    await page.evaluate(() => window.vanillanet.fuse());
    const deployBytes = Buffer.from(await exported(page, "model"));
    const deploy = join(outDir, "inside-fused.safetensors");
    writeFileSync(deploy, deployBytes);
    for (const block of [0, 1, 2]) {
      const m = await pageMaps(block, true);
      assert.ok(m.maxDiff < 1e-4, `fused maps against the trained net's at lambda 1: ${m.maxDiff}`);
      worst.fused = Math.max(worst.fused, compareMaps(m, inspect(deploy, block, true), `fused, block ${block}`));
    }
    console.log(`largest difference page/CLI: trained ${worst.trained}, fused ${worst.fused}`);

    // The fusion view's fused weights are the deploy file's tensors, exactly.
    const tensors = safetensors(deployBytes);
    for (const part of [0, 1, 2, 3]) {
      const v = await page.evaluate(async (p) => {
        const f = await window.vanillanet.inside.fusion(p);
        return { key: f.fusedKey, actKey: f.actKey, exact: f.exact, shape: f.fused.shape, fused: [...f.fused.values], bias: [...f.fusedBias], act: f.act && [...f.act.folded.values], isFloat32: f.fused.values instanceof Float32Array, paramsBefore: f.paramsBefore, paramsAfter: f.paramsAfter };
      }, part);
      assert.ok(v.exact && v.isFloat32);
      const w = tensors[`${v.key}.weight`];
      assert.deepEqual(v.shape, w.shape, v.key);
      assert.deepEqual(v.fused, [...w.values], `${v.key}.weight`);
      assert.deepEqual(v.bias, [...tensors[`${v.key}.bias`].values], `${v.key}.bias`);
      if (v.actKey) assert.deepEqual(v.act, [...tensors[`${v.actKey}.weight`].values], `${v.actKey}.weight`);
      assert.ok(v.paramsAfter < v.paramsBefore);
    }

    // Arguments are checked, with the reason.
    for (const [call, reason] of [
      [() => window.vanillanet.inside.featureMaps(-1, 0), /imageOrTestIndex/],
      [() => window.vanillanet.inside.featureMaps(0, 3), /from 0 \(the stem\) to 2/],
      [() => window.vanillanet.inside.featureMaps(0, 0, { tiles: 65 }), /tiles/],
      [() => window.vanillanet.inside.featureMaps(0, 0, { fuse: true }), /options must be an object with fused, tiles/],
      [() => window.vanillanet.inside.featureMaps(99999, 0), /no test image 99999/],
      // Past a 32-bit usize (wasm's): refused as past the test set, not wrapped onto image 0 or 7.
      [() => window.vanillanet.inside.featureMaps(2 ** 53, 0), /no test image 9007199254740992: the test set has/],
      [() => window.vanillanet.inside.featureMaps(2 ** 32 + 7, 0), /no test image 4294967303: the test set has/],
      [() => window.vanillanet.inside.fusion(4), /to 3 \(the head\)/],
      [() => window.vanillanet.inside.setProbeEvery(-2), /steps must be/],
    ]) {
      const said = await page.evaluate(call).then(() => "resolved", (e) => e.message);
      assert.match(said, reason, String(call));
    }

    // The views: drawn, axe-clean, by keyboard, on a phone; screenshots.
    await page.fill("#maps-index", String(IMAGE));
    await page.dispatchEvent("#maps-index", "change");
    await page.focus("#maps-block");
    await page.keyboard.press("ArrowRight");
    await waitFor(page, () => document.querySelectorAll("#maps-tiles canvas").length === 16 && /block 1/.test(document.querySelector("#maps-summary").textContent));
    assert.match(await page.textContent("#maps-summary"), /Largest difference to the trained net's maps/);
    await page.selectOption("#fusion-part", "2");
    await waitFor(page, () => /block 2/.test(document.querySelector("#fusion-summary").textContent) && document.querySelectorAll("#fusion-body canvas").length >= 4);
    assert.match(await page.textContent("#fusion-summary"), /exactly what the two convs do/);
    await axe(page, "inside views open");
    await page.locator("#inside-panel").screenshot({ path: join(outDir, "inside-views.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await waitFor(page, () => document.documentElement.scrollWidth <= 390);
    await page.locator("#inside-panel").screenshot({ path: join(outDir, "inside-phone.png") });
    await axe(page, "inside views on a phone");
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

/** Training time of `steps` steps from now (wall clock, the views' work in between included). */
async function timeSteps(page, steps) {
  const start = (await page.evaluate(() => window.vanillanet.status())).step;
  await page.evaluate(() => window.vanillanet.resume());
  const t0 = Date.now();
  await waitStatus(page, `(s) => s.step >= ${start + steps}`, 600_000);
  const ms = Date.now() - t0;
  await page.evaluate(() => window.vanillanet.pause());
  const end = (await page.evaluate(() => window.vanillanet.status())).step;
  return { steps: end - start, ms };
}

test("overhead of the views: training with them open against closed", { skip: !process.env.INSIDE_OVERHEAD, timeout: 3_600_000 }, async () => {
  const results = [];
  for (const [backend, webgpu, preset, steps, rounds] of [["cpu", false, "small_28", 30, 6], ["webgpu", true, "nano_28", 12, 2]]) {
    const { page, close } = await open({ webgpu, query: `?backend=${backend}` });
    try {
      const status = await page.evaluate(() => window.vanillanet.status());
      await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
      await page.evaluate((p) => window.vanillanet.step({ preset: p, batchSize: 64, epochs: 20, decayEpochs: 10 }), preset);
      await page.evaluate(() => window.vanillanet.pause());
      const set = async (open) => {
        await page.evaluate((o) => {
          for (const id of ["maps-view", "fusion-view"]) document.getElementById(id).open = o;
          return window.vanillanet.inside.setProbeEvery(o ? 10 : 0);
        }, open);
      };
      const runs = { open: [], closed: [] };
      // Alternating, each first in every other round, so that the machine's drift is shared.
      for (let r = 0; r < rounds; r++) {
        for (const mode of r % 2 ? ["open", "closed"] : ["closed", "open"]) {
          await set(mode === "open");
          runs[mode].push(await timeSteps(page, steps));
        }
      }
      // What each piece costs, apart: a step without and with a probe, one feature-map and one
      // fusion answer (ms, the mean of 5, the worker's round trip included).
      const costs = await page.evaluate(async () => {
        const v = window.vanillanet;
        const time = async (f, n = 5) => { const t0 = performance.now(); for (let i = 0; i < n; i++) await f(); return (performance.now() - t0) / n; };
        await v.inside.setProbeEvery(0);
        const step = await time(() => v.step());
        await v.inside.setProbeEvery(1);
        const stepWithProbe = await time(() => v.step());
        return { step, stepWithProbe, featureMaps: await time(() => v.inside.featureMaps(0, 1)), fusion: await time(() => v.inside.fusion(1)) };
      });
      const rate = (rs) => rs.reduce((n, r) => n + r.steps, 0) * 64 / (rs.reduce((n, r) => n + r.ms, 0) / 1000);
      const [open, closed] = [rate(runs.open), rate(runs.closed)];
      results.push({ backend, adapter: status.adapter, threads: status.threads, preset, batchSize: 64, stepsPerRun: steps, rounds, imagesPerSecClosed: closed, imagesPerSecOpen: open, slowdown: closed / open - 1, msPerCall: costs, runs });
      console.log(`${backend}: closed ${closed.toFixed(1)} images/s, open ${open.toFixed(1)}: ${(100 * (closed / open - 1)).toFixed(1)}% slower`);
    } finally {
      await close();
    }
  }
  const out = {
    what: "training images/s with the inside views open (decay probed every 10 steps on 32 test images, feature maps of one image refreshed every 25 steps, the fusion every 50) against closed (no probes); alternating runs, MNIST, Chromium headless on this machine (2 vCPUs, shared with other builds while measured: see the spread of runs); msPerCall: each piece apart",
    measured: new Date().toISOString(), results,
  };
  writeFileSync(join(root, "results", "inside-overhead.json"), `${JSON.stringify(out, null, 2)}\n`);
  for (const r of results) assert.ok(r.slowdown <= 0.10, `${r.backend}: ${(100 * r.slowdown).toFixed(1)}% slower with the views open`);
});
