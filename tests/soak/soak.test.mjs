//! CI's run of the monkey soak (tests/soak/soak.mjs): a fixed seed for about two minutes of
//! wall time; every failure is printed with its action, and the whole log written for `--replay`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { main } from "./soak.mjs";

const SEED = Number(process.env.SOAK_SEED ?? 1);
const MINUTES = Number(process.env.SOAK_MINUTES ?? 2);

test(`the monkey soak holds (seed ${SEED}, ${MINUTES} min)`, { timeout: (MINUTES * 60 + 600) * 1000 }, async () => {
  const summary = await main(["--seed", String(SEED), "--minutes", String(MINUTES), "--quiet"]);
  console.log(`soak: ${summary.actionsRun} actions, ${Object.values(summary.invariants).reduce((a, b) => a + b, 0)} invariant checks`);
  assert.deepEqual(summary.failures.map((f) => `#${f.i} ${f.kind}: ${f.failures.join("; ")}`), []);
});
