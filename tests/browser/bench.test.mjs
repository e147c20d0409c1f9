// The benchmark page completes a tiny run: our runtime fused and unfused, onnxruntime-web on
// the exported weights, where the fused time goes, training throughput, wasm size and time to
// the first fused inference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, waitFor } from "./harness.mjs";

test("the bench page measures every case on the CPU backend", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, path: "bench.html", query: "?run=1&cases=nano_28@28:1,nano_28@28:4&runs=3&warmup=1&backends=cpu&breakdown=1" });
  try {
    await waitFor(page, () => window.benchResult || window.benchError, null, { timeout: 240_000, polling: 500 });
    const r = await page.evaluate(() => window.benchResult ?? { error: window.benchError });
    assert.equal(r.error, undefined);
    const runtimes = r.rows.map((x) => `${x.batch} ${x.runtime}`);
    for (const batch of [1, 4]) {
      for (const rt of ["ours, unfused", "ours, fused", "ours, fused (the exported weights)", "onnxruntime-web 1.30.0 (wasm)"]) {
        assert.ok(runtimes.includes(`${batch} ${rt}`), `${batch} ${rt} in ${runtimes}`);
      }
    }
    const timed = r.rows.filter((x) => x.runtime !== "ours, fused: where the time goes");
    assert.ok(timed.every((x) => x.medianMs > 0 && x.p90Ms >= x.medianMs && x.runs === 3), JSON.stringify(r.rows));
    // Where the time goes, per case: every part of nano_28 named, in order, each timed.
    assert.deepEqual(r.breakdown.map((b) => b.batch), [1, 4]);
    for (const b of r.breakdown) {
      assert.deepEqual(b.parts.map((p) => p.name), ["stem", "stages.0", "stages.1", "head"]);
      assert.ok(b.totalMs > 0 && b.roundTripMs >= 0 && b.enqueueMs >= 0 && b.parts.every((p) => p.throughMs > 0), JSON.stringify(b));
    }
    assert.ok(r.wasmGzipBytes > 0 && r.wasmGzipBytes < r.wasmBytes);
    assert.ok(r.firstFusedInferenceMs > 0);
    assert.ok(r.training[0].imagesPerSec > 0);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
