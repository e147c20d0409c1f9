// Names the page and Rust both say: the built-in datasets (www/names.js against src/data/mod.rs's
// BUILTIN_DATASETS). Backends and weights are kept by tsc (records over Rust's generated types).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BACKENDS, DATASETS, RUNNING_BACKENDS, WEIGHTS } from "../../www/names.js";

test("the page's built-in datasets are Rust's", () => {
  const rust = readFileSync(new URL("../../src/data/mod.rs", import.meta.url), "utf8");
  const list = /BUILTIN_DATASETS\s*:\s*\[&str;\s*\d+\]\s*=\s*\[([^\]]*)\]/.exec(rust);
  assert.ok(list, "src/data/mod.rs says BUILTIN_DATASETS");
  const names = [...list[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual([...DATASETS].sort(), names.sort());
});

test("backends and weights: each name once", () => {
  assert.deepEqual(BACKENDS, ["auto", "webgpu", "cpu"]);
  assert.deepEqual(RUNNING_BACKENDS, ["cpu", "webgpu"]);
  assert.deepEqual(WEIGHTS, ["ema", "trained"]);
});
