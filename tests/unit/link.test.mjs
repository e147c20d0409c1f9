// A shared link read before anything uses it (www/link.js): its length bounded, the backend and
// dataset among the known names, unknown keys named, options read as people write them and
// then through Rust's check (here a stand-in for it), a refused value named and never used.
import { test } from "node:test";
import assert from "node:assert/strict";
import { linkAsks, linkOptions, MAX_LINK, readLink } from "../../www/link.js";
import { BACKENDS, DATASETS } from "../../www/names.js";
import * as opts from "../../www/options.js";
import { TABLES } from "./tables.mjs";

opts.useTables(TABLES);
const BASE = opts.defaults(opts.TRAIN);
const PRESETS = ["fine_wide_28", "nano_28"];

test("the backend: one of the known names, else auto and the value refused", () => {
  assert.equal(readLink("?backend=cpu", BACKENDS).backend, "cpu");
  assert.equal(readLink("", BACKENDS).backend, "auto");
  for (const bad of ["quantum", "__proto__", "CPU", "", "cpu "]) {
    const link = readLink(`?backend=${encodeURIComponent(bad)}`, BACKENDS);
    assert.equal(link.backend, "auto", bad);
    assert.deepEqual(link.refused.map((r) => [r.name, r.value]), [["backend", bad]]);
  }
});

test("a link over the bound is not read at all", () => {
  const huge = `?epochs=5&backend=cpu&junk=${"A".repeat(MAX_LINK)}`;
  const link = readLink(huge, BACKENDS);
  assert.equal(link.tooLong, huge.length);
  assert.equal([...link.params.keys()].length, 0, "no parameter read");
  assert.equal(link.backend, "auto");
  assert.equal(readLink(`?x=${"A".repeat(MAX_LINK - 3)}`, BACKENDS).tooLong, 0, "at the bound it is read");
});

test("what a link asks: the dataset among the known ones, keys that mean nothing named", () => {
  const asks = linkAsks(readLink("?dataset=mnist&epochs=3&__proto__=1&constructor=x&toString=y&backend=cpu", BACKENDS), DATASETS);
  assert.equal(asks.dataset, "mnist");
  assert.equal(asks.given, true);
  assert.deepEqual(asks.unknown, ["__proto__", "constructor", "toString"]);
  assert.deepEqual(asks.refused, []);
  const typo = linkAsks(readLink("?dataset=typo", BACKENDS), DATASETS);
  assert.equal(typo.dataset, null);
  assert.equal(typo.given, false);
  assert.deepEqual(typo.refused.map((r) => [r.name, r.value]), [["dataset", "typo"]]);
  assert.match(typo.refused[0].reason, /fashion-mnist, mnist/);
  // A refused backend stays refused.
  assert.deepEqual(linkAsks(readLink("?backend=x", BACKENDS), DATASETS).refused.map((r) => r.name), ["backend"]);
});

/** Rust's check as a stand-in: epochs at most 100, decayEpochs at most epochs. */
async function rustCheck(o) {
  if (o.epochs > 100) return { field: "epochs", message: `epochs ${o.epochs} is out of range: 1 to 100` };
  if (o.decayEpochs > o.epochs) return { field: "decayEpochs", message: "decay epochs past the last epoch" };
  return null;
}

test("options that pass both checks are applied", async () => {
  const r = await linkOptions(new URLSearchParams("epochs=10&learningRate=1e-3"), BASE, PRESETS, rustCheck);
  assert.deepEqual(r.refused, []);
  assert.deepEqual(r.names, ["epochs", "learningRate"]);
  assert.equal(r.options.epochs, 10);
  assert.equal(r.options.learningRate, 0.001);
});

test("a value Rust refuses is named with Rust's reason and the base's kept; the others apply", async () => {
  const r = await linkOptions(new URLSearchParams("epochs=100000000&learningRate=0.5&seed=1e400"), BASE, PRESETS, rustCheck);
  assert.deepEqual(r.names, ["learningRate"]);
  assert.equal(r.options.epochs, BASE.epochs);
  assert.equal(r.options.seed, BASE.seed);
  assert.equal(r.options.learningRate, 0.5);
  const byName = Object.fromEntries(r.refused.map((x) => [x.name, x]));
  assert.match(byName.epochs.reason, /out of range: 1 to 100/);
  assert.equal(byName.epochs.value, "100000000");
  assert.match(byName.seed.reason, /./, "the page's own reason for 1e400");
});

test("Rust naming an option that depends on the link's value refuses the link's value", async () => {
  // The form's decay over 3 of 5 epochs; the link's epochs=2 makes Rust name decayEpochs,
  // which depends on the epochs: the link's epochs is the value refused.
  const base = { ...BASE, decayEpochs: 3, epochs: 5 };
  const r = await linkOptions(new URLSearchParams("epochs=2"), base, PRESETS, rustCheck);
  assert.deepEqual(r.names, []);
  assert.deepEqual(r.refused.map((x) => x.name), ["epochs"]);
  assert.equal(r.options.epochs, 5);
});

test("a failure that names none of the link's values refuses them all; a check that throws too", async () => {
  const never = async () => ({ field: "momentum", message: "momentum is off" });
  const r = await linkOptions(new URLSearchParams("epochs=3&learningRate=0.1"), BASE, PRESETS, never);
  assert.deepEqual(r.names, []);
  assert.deepEqual(r.refused.map((x) => x.name).sort(), ["epochs", "learningRate"]);
  assert.deepEqual(r.options, BASE);
  const throws = async () => { throw new Error("engine gone"); };
  const t = await linkOptions(new URLSearchParams("epochs=3"), BASE, PRESETS, throws);
  assert.deepEqual(t.names, []);
  assert.equal(t.refused[0].reason, "engine gone");
});

test("the check is asked a bounded number of times", async () => {
  let asked = 0;
  const stubborn = async () => { asked++; return { field: "epochs", message: "no" }; };
  await linkOptions(new URLSearchParams("epochs=3&seed=1&learningRate=0.1"), BASE, PRESETS, stubborn);
  assert.ok(asked <= opts.TRAIN.length + 1, `asked ${asked} times`);
});
