// The docs' measured tables, made from results/*.json so that they cannot drift from the runs
// they report. A table sits in a docs file between `<!-- table:NAME -->` and
// `<!-- /table:NAME -->`; this script rewrites what is between the markers.
// Usage: node scripts/docs-tables.mjs          rewrites the tables in docs/*.md
//        node scripts/docs-tables.mjs --check  exits 1 when a committed table differs
// tests/unit/docs.test.mjs runs the check.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const result = (name) => JSON.parse(readFileSync(join(root, "results", name), "utf8"));

/** Milliseconds as the tables print them: three significant figures or so. */
function ms(v) {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
const perSec = (v) => Math.round(v).toLocaleString("en-US");
const ratio = (v) => v.toFixed(2);
const row = (cells) => `| ${cells.join(" | ")} |`;
const table = (head, rows) => [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");

/** Ours against the authors' PyTorch code (scripts/bench-pytorch.sh): latency a row per model
 * and batch, both forms, median ms (p90); then training throughput. */
function againstPytorch(file) {
  const r = result(file);
  const p90 = (runs, model, size, batch, fused, median) => runs.find((l) => l.model === model && l.size === size
    && l.batch === batch && l.fused === fused && l.medianMs === median)?.p90Ms;
  const ours = r.ours.flatMap((o) => o.latency);
  const cases = new Map();
  const training = [];
  for (const c of r.rows) {
    const latency = c.case.match(/^(\S+) (\d+)px batch (\d+) (unfused|fused)$/);
    const train = c.case.match(/^training (\S+) batch (\d+) \(img\/s\)$/);
    if (latency) {
      const [, model, size, batch, form] = latency;
      const key = `${model}, ${size}x${size} | ${batch}`;
      if (!cases.has(key)) cases.set(key, {});
      const fused = form === "fused";
      cases.get(key)[form] = { ...c, oursP90: p90(ours, model, +size, +batch, fused, c.oursMs), pytorchP90: p90(r.pytorch.latency, model, +size, +batch, fused, c.pytorchMs) };
    } else if (train) {
      training.push([`training ${train[1]}, img/s`, train[2], perSec(c.oursImagesPerSec), "", "", perSec(c.pytorchImagesPerSec), "", `${ratio(c.ratio)} (ours / PyTorch)`, c.verdict]);
    } else {
      throw new Error(`${file}: a row of an unknown kind: ${c.case}`);
    }
  }
  const timed = (v, p) => (p === undefined ? ms(v) : `${ms(v)} (${ms(p)})`);
  const rows = [...cases].map(([key, { unfused: u, fused: f }]) => [
    ...key.split(" | "), timed(u.oursMs, u.oursP90), timed(f.oursMs, f.oursP90), `${(u.oursMs / f.oursMs).toFixed(2)}x`,
    timed(u.pytorchMs, u.pytorchP90), timed(f.pytorchMs, f.pytorchP90), `${ratio(u.ratio)}, ${ratio(f.ratio)}`,
    u.verdict === f.verdict ? u.verdict : `${u.verdict} (unfused), ${f.verdict} (fused)`,
  ]);
  return table(
    ["model", "batch", "ours unfused", "ours fused", "fused speed-up", "PyTorch unfused", "PyTorch fused", "PyTorch time / ours (unfused, fused)", "verdict"],
    [...rows, ...training],
  );
}

/** The bench page (scripts/bench-web.mjs): ours unfused and fused against onnxruntime-web
 * on the same fused weights, a row per backend, threads, model and batch. */
function browser() {
  const runs = [
    ["bench-web-cpu-1-thread.json", "CPU (wasm)", "1"],
    ["bench-web-cpu-2-threads.json", "CPU (wasm)", "2"],
    ["bench-web-webgpu-fusion.json", "WebGPU (SwiftShader), fusion", "–"],
    ["bench-web-webgpu-without-fusion.json", "WebGPU (SwiftShader), no fusion", "–"],
  ];
  const rows = [];
  for (const [file, backend, threads] of runs) {
    const r = result(file);
    const cases = new Map();
    for (const c of r.rows) {
      const key = `${c.model}, ${c.size} | ${c.batch}`;
      if (!cases.has(key)) cases.set(key, {});
      const entry = cases.get(key);
      if (c.runtime === "ours, unfused") entry.unfused = c.medianMs;
      else if (c.runtime === "ours, fused (the exported weights)") entry.fused = c.medianMs;
      else if (c.runtime.startsWith("onnxruntime")) entry.onnx = c;
    }
    for (const [key, e] of cases) {
      const [model, batch] = key.split(" | ");
      rows.push([backend, threads, model, batch, ms(e.unfused), ms(e.fused), `${(e.unfused / e.fused).toFixed(2)}x`, ms(e.onnx.medianMs), ratio(e.onnx.ratio), r.date.slice(0, 10)]);
    }
  }
  return table(["backend", "threads", "model", "batch", "ours unfused", "ours fused", "fused speed-up", "onnxruntime-web", "onnxruntime / ours", "measured"], rows);
}

/** The speed goals (scripts/goals.mjs writes results/goals.json), but for those against
 * PyTorch, which are the native table's ratios. */
function goals() {
  const g = result("goals.json");
  return table(
    ["goal", "measured", "bound", "verdict"],
    g.goals.filter((x) => x.from !== "bench-pytorch.json").map((x) => [x.goal, x.value.toFixed(2), x.atMost !== undefined ? `<= ${x.atMost}` : `>= ${x.atLeast}`, x.verdict]),
  );
}

/** The whole test command from cold (results/ci-cold.json). */
function ciCold() {
  const c = result("ci-cold.json");
  const min = (s) => (s === undefined ? "–" : `${(s / 60).toFixed(1)} min`);
  return table(
    ["commit", "date", "web build", "native build (alongside)", "browser tests", "native tests", "in all", "CPU"],
    c.runs.map((r) => [`\`${r.commit}\``, r.date ?? c.date, min(r.web_build_s), min(r.native_build_s), min(r.browser_tests_s), `${r.native_tests_s} s`, `**${min(r.wall_s)}**`, min(r.cpu_s)]),
  );
}

export const TABLES = {
  "native-cpu": () => againstPytorch("bench-pytorch.json"),
  "native-gpu": () => againstPytorch("bench-pytorch-gpu.json"),
  browser,
  goals,
  "ci-cold": ciCold,
};

/** `text` with every marked table replaced by the one made from the results now. */
export function render(text) {
  return text.replace(/<!-- table:([\w-]+) -->[\s\S]*?<!-- \/table:\1 -->/g, (_, name) => {
    if (!TABLES[name]) throw new Error(`no table named ${name} (scripts/docs-tables.mjs)`);
    return `<!-- table:${name} -->\n\n${TABLES[name]()}\n\n<!-- /table:${name} -->`;
  });
}

/** The docs files that hold marked tables. */
export function docsWithTables() {
  return readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(root, "docs", f))
    .filter((f) => readFileSync(f, "utf8").includes("<!-- table:"));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const file of docsWithTables()) {
    const text = readFileSync(file, "utf8");
    const fresh = render(text);
    if (fresh === text) continue;
    if (check) {
      console.error(`${file}: its tables differ from results/*.json (run node scripts/docs-tables.mjs)`);
      stale++;
    } else {
      writeFileSync(file, fresh);
      console.log(`rewrote ${file}`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
