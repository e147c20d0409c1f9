// The scripting API checks its arguments before the worker sees them: every `window.vanillanet`
// call that takes arguments is called with hostile values (NaN, -1, 2**32, 2**32 + 1, 1e300,
// "__proto__", {}, null, a 1 MB string, ...) in each position, and must reject with an error
// that names the argument (and never echoes a megabyte back) or, where the value is a fine
// one, answer correctly. Afterwards the page still trains, fuses and classifies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open } from "./harness.mjs";

// Each row: the call, its valid arguments, and per position the argument's name in the error
// (null: a position not varied). `strings`: a string there is handed on to Rust, which may refuse
// it in words of its own (the call must still reject). `fine`: per position, the hostile values
// that are valid there (answered, not refused); `skip`: values not tried in that row.
const ROWS = [
  { call: "evaluationCell", args: [0, 0], names: ["label", "predicted"] },
  { call: "evaluationCell", args: [0, 0, { fused: false }], names: [null, null, "options"], skip: ["{}"] },
  { call: "testImage", args: [0], names: ["index"] },
  { call: "own.addFiles", args: [0, []], names: ["classIndex", "files"], fine: { 1: ["[]"] } },
  { call: "own.addClass", args: ["a class"], names: ["name"], fine: { 0: ['"__proto__"', '"1"'] } },
  { call: "camera.capture", args: [0, 1], names: ["classIndex", "frames"] },
  { call: "camera.startRecording", args: [0], names: ["classIndex"] },
  { call: "camera.live", args: [true], names: ["on"], skip: ["true"] },
  { call: "camera.start", args: ["user"], names: ["deviceId"], strings: true, skip: ["null"] },
  { call: "loadDataset", args: ["mnist"], names: ["name"] },
  { call: "setBackend", args: ["cpu"], names: ["backend"] },
  { call: "classify", args: ["BLOB"], names: ["image"] },
  { call: "loadCheckpoint", args: ["BLOB"], names: ["file"] },
  { call: "loadCheckpoint", args: ["BLOB", { variant: "vanillanet_5" }], names: [null, "choice"], skip: ["{}"] },
  { call: "useCheckpoint", args: [{ variant: "vanillanet_5" }], names: ["choice"], skip: ["{}"] },
  { call: "evaluation", args: [{ fused: false }], names: ["options"], skip: ["{}"] },
  { call: "train", args: [{ epochs: 1 }], names: ["options"], skip: ["{}"] },
  { call: "train", args: [{ epochs: "VALUE" }], names: ["options.epochs"], inside: true },
  { call: "step", args: [{ seed: "VALUE" }], names: ["options.seed"], inside: true, fine: { 0: ["2**32", "2**32+1"] } },
  { call: "step", args: [{ learningRate: "VALUE" }], names: ["learningRate"], inside: true },
  { call: "step", args: [{ preset: "VALUE" }], names: ["options.preset"], inside: true, strings: true },
  { call: "step", args: [{}], names: ["options"], skip: ["{}"] },
  { call: "logits", args: ["F32", 1], names: ["values", "batch"] },
  { call: "bench.latency", args: ["nano_28", 28, 1, true, 1, 0], names: ["model", "size", "batch", "fused", "runs", "warmup"], strings: true, fine: { 3: ["true"] } },
  { call: "bench.training", args: ["nano_28", 8, 1], names: ["preset", "batch", "steps"], strings: true },
  { call: "bench.breakdown", args: ["nano_28", 28, 1, 1, 0], names: ["model", "size", "batch", "runs", "warmup"], strings: true },
  { call: "study.run", args: [{ seeds: 1 }], names: ["options"], skip: ["{}"] },
  { call: "study.run", args: [{ seeds: "VALUE" }], names: ["options.seeds"], inside: true },
  // Which weights (the average or the trained ones): only "ema" or "trained" get past the check.
  { call: "fuse", args: [{ weights: "VALUE" }], names: ["options.weights"], inside: true },
  { call: "exportTraining", args: [{ weights: "VALUE" }], names: ["options.weights"], inside: true },
];
// Calls without arguments: given hostile ones, they answer as they do without.
const NO_ARGS = ["status", "history", "charts", "classifier", "shareLink", "own.classes", "camera.status", "study.status", "study.report",
  "inside.decay", "inside.chart"];
// Calls that change or end things, checked by other tests; here only listed, so that a new API
// call must be added to one of the lists.
const OTHERS = ["pause", "resume", "reset", "finishAnnealing", "fuse", "exportModel", "exportTraining", "exportOnnx", "study.pause",
  "study.resume", "study.discard", "study.csv", "study.json", "whenSaved", "debug.loseDevice", "debug.panic", "own.dataset",
  "camera.devices", "camera.stop", "camera.stopRecording",
  // Their bad arguments are checked in inside.test.mjs.
  "inside.featureMaps", "inside.fusion", "inside.setProbeEvery"];
const HOSTILE = ["NaN", "-1", "2**32", "2**32+1", "1e300", "-0.5", "Infinity", '"__proto__"', '"1"', "{}", "[]", "null", "true", "1MB"];

test("every API call refuses hostile arguments by name, and the page works on", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    // Every function of the API is in one of the lists.
    const api = await page.evaluate(() => {
      const out = [];
      const walk = (o, prefix) => {
        for (const [k, v] of Object.entries(o)) {
          if (typeof v === "function") out.push(prefix + k);
          else if (v && typeof v === "object" && !(v instanceof Promise)) walk(v, `${prefix}${k}.`);
        }
      };
      walk(window.vanillanet, "");
      return out;
    });
    const listed = new Set([...ROWS.map((r) => r.call), ...NO_ARGS, ...OTHERS]);
    assert.deepEqual(api.filter((f) => !listed.has(f)), [], "every API function is in the table");
    const formBefore = await page.evaluate(() => JSON.stringify([...new FormData(document.querySelector("#options"))]));

    const results = await page.evaluate(async ({ rows, hostile }) => {
      const make = (name) => ({
        NaN, "-1": -1, "2**32": 2 ** 32, "2**32+1": 2 ** 32 + 1, "1e300": 1e300, "-0.5": -0.5, Infinity,
        '"__proto__"': "__proto__", '"1"': "1", "{}": {}, "[]": [], null: null, true: true, "1MB": "x".repeat(1 << 20),
      })[name];
      const real = (v) => (v === "BLOB" ? new Blob([new Uint8Array(8)]) : v === "F32" ? new Float32Array(784) : v);
      const fn = (path) => path.split(".").reduce((o, k) => o[k], window.vanillanet);
      const out = [];
      for (const row of rows) {
        for (const [pos, name] of row.names.entries()) {
          if (name === null) continue;
          for (const h of hostile) {
            if (row.skip?.includes(h)) continue;
            const value = make(h);
            const args = row.args.map(real);
            if (row.inside) args[pos] = Object.fromEntries(Object.entries(args[pos]).map(([k, v]) => [k, v === "VALUE" ? value : v]));
            else args[pos] = value;
            const f = fn(row.call);
            let settled;
            try {
              const answer = await Promise.race([
                Promise.resolve().then(() => f(...args)),
                new Promise((_, reject) => setTimeout(() => reject(new Error("TIMEOUT")), 20_000)),
              ]);
              settled = { ok: true, answer: JSON.stringify(answer)?.slice(0, 200) };
            } catch (e) {
              settled = { ok: false, message: String(e?.message ?? e) };
            }
            out.push({ call: row.call, pos, name, hostile: h, strings: Boolean(row.strings), fine: row.fine?.[pos]?.includes(h) ?? false, ...settled });
          }
        }
      }
      return out;
    }, { rows: ROWS, hostile: HOSTILE });

    let checked = 0;
    for (const r of results) {
      const what = `${r.call} with ${r.hostile} as ${r.name}: ${r.ok ? `answered ${r.answer}` : r.message.slice(0, 300)}`;
      if (r.fine) {
        assert.ok(r.ok, what);
        continue;
      }
      assert.equal(r.ok, false, `refused: ${what}`);
      assert.notEqual(r.message, "TIMEOUT", what);
      assert.ok(r.message.length < 600, `a short message: ${what}`);
      // A string handed on (a preset, a model name, a camera id) may be refused in Rust's or the
      // browser's words; every other value is refused by name.
      const handedOn = r.strings && (r.hostile === '"__proto__"' || r.hostile === '"1"');
      if (!handedOn) assert.ok(r.message.includes(r.name), `names ${r.name}: ${what}`);
      checked++;
    }
    console.log(`${results.length} hostile calls, ${checked} refused`);

    // The calls without arguments ignore hostile ones.
    const same = await page.evaluate((names) => names.map((path) => {
      const f = path.split(".").reduce((o, k) => o[k], window.vanillanet);
      return [path, JSON.stringify(f()) === JSON.stringify(f(NaN, "__proto__", {}, null, "x".repeat(1 << 20)))];
    }), NO_ARGS);
    assert.deepEqual(same.filter(([, ok]) => !ok), []);

    // Nothing changed: the dataset, the backend, the classes, the form.
    const s = await page.evaluate(() => ({ status: window.vanillanet.status(), classes: window.vanillanet.own.classes().map((c) => c.name) }));
    assert.equal(s.status.backend, "cpu");
    assert.equal(s.status.step, 2, "only the two valid seeds stepped");
    assert.match(await page.textContent("#data-summary"), /^fashion-mnist/);
    assert.deepEqual(s.classes.slice(0, 2), ["class A", "class B"]);
    assert.ok(s.classes.includes("__proto__"), "a class may be called __proto__: it is a name like any other");
    assert.equal(await page.evaluate(() => JSON.stringify([...new FormData(document.querySelector("#options"))])), formBefore);

    // And it trains, fuses and classifies.
    await page.evaluate(() => window.vanillanet.reset());
    await page.evaluate(() => window.vanillanet.train({ preset: "nano_28", batchSize: 32, epochs: 1, decayEpochs: 1, deepTraining: false, evalEvery: 1000 }));
    await page.evaluate(() => new Promise((resolve) => {
      const poll = () => (window.vanillanet.status().step >= 3 ? resolve() : setTimeout(poll, 100));
      poll();
    }));
    await page.evaluate(() => window.vanillanet.pause());
    const report = await page.evaluate(() => window.vanillanet.fuse());
    assert.ok(report.maxLogitDiff < 1e-3);
    const top = await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(28, 28);
      canvas.getContext("2d").fillRect(8, 4, 12, 20);
      return window.vanillanet.classify(await canvas.convertToBlob({ type: "image/png" }));
    });
    assert.equal(top.top.length, 5);
    assert.deepEqual(errors.filter((e) => !/Failed to load resource|camera|Requested device not found/i.test(e)), []);
  } finally {
    await close();
  }
});
