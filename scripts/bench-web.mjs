// Runs the benchmark page headless in Debian's Chromium (WebGPU enabled) and prints its table;
// the figures go to a JSON file as well.
// Usage: node scripts/bench-web.mjs [out.json] [page query, e.g. "cases=small_28@28:1&runs=10"]
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
import { serve } from "./serve.mjs";

const out = process.argv[2] ?? "bench-web.json";
const query = process.argv[3] ?? "";
const server = await serve(0);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic", "--enable-unsafe-webgpu"],
});
try {
  const page = await browser.newPage();
  page.on("console", (m) => m.type() === "error" && console.error(`page: ${m.text()}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/bench.html?run=1&${query}`);
  let last = "";
  for (;;) {
    const s = await page.evaluate(() => ({ done: Boolean(window.benchResult), error: window.benchError, status: document.querySelector("#bench-status").textContent }));
    if (s.error) throw new Error(s.error);
    if (s.done) break;
    if (s.status !== last) console.error(s.status);
    last = s.status;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const result = await page.evaluate(() => window.benchResult);
  result.browser = `Chromium ${browser.version()}`;
  writeFileSync(out, JSON.stringify(result, null, 2));
  const f = (v) => (typeof v === "number" ? v.toFixed(2) : "");
  console.log(`${result.browser}; adapter ${JSON.stringify(result.adapter ?? null)}; ${result.runs} runs after ${result.warmup} warm-up`);
  console.log(`cross-origin isolated ${result.crossOriginIsolated}; CPU threads: ours ${result.cpuThreads.ours}, onnxruntime ${result.cpuThreads.onnxruntime} (of ${result.hardwareConcurrency} cores)`);
  if (result.gpuWork) console.log(`GPU work: fused small_28 forward ${JSON.stringify(result.gpuWork.forward)}; training step ${JSON.stringify(result.gpuWork.trainingStep)}`);
  console.log(`wasm ${(result.wasmBytes / 1e6).toFixed(1)} MB raw, ${(result.wasmGzipBytes / 1e6).toFixed(2)} MB gzip; first fused inference ${(result.firstFusedInferenceMs / 1e3).toFixed(2)} s after page load`);
  console.log("| backend | model | batch | runtime | cold ms | median ms | p90 ms | ratio |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of result.rows) {
    console.log(`| ${r.backend} | ${r.model}@${r.size} | ${r.batch} | ${r.runtime} | ${f(r.coldMs)} | ${f(r.medianMs)} | ${f(r.p90Ms)} | ${r.ratio ? `${r.ratio.toFixed(2)}x ${r.ratioOf}` : r.note ?? ""} |`);
  }
  for (const b of result.breakdown ?? []) {
    console.log(`where the time goes, ${b.backend} ${b.model}@${b.size} batch ${b.batch} fused: ${b.totalMs.toFixed(2)} ms; round trip ${b.roundTripMs.toFixed(2)}, hand-over ${b.enqueueMs.toFixed(2)}`);
    console.log(`  own ms: ${b.parts.map((p) => `${p.name} ${p.ownMs.toFixed(2)}`).join(", ")}`);
  }
  for (const t of result.training) console.log(`training ${t.preset} batch ${t.batch} on ${t.backend}: ${t.imagesPerSec.toFixed(0)} images/s`);
  console.log(`written: ${out}`);
} finally {
  await browser.close();
  server.close();
}
