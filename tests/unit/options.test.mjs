// The options tables as the page reads them (www/options.js): a shared link's parameters read as
// people write them (or refused with a reason, never replaced), options written back to a link,
// the API's option arguments checked by kind.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as opts from "../../www/options.js";
import { TABLES } from "./tables.mjs";

opts.useTables(TABLES);
const BASE = opts.defaults(opts.TRAIN);

test("the table's defaults, at their paths", () => {
  assert.equal(BASE.epochs, 2);
  assert.equal(BASE.trainLimit, null);
  assert.deepEqual(opts.defaults(opts.STUDY), { study: "lambda", seeds: 2, train: { epochs: 2 } });
});

test("a link's values read as people write them", () => {
  const params = new URLSearchParams("epochs=5&learningRate=1e-3&deepTraining=off&schedule=linear&preset=nano_28&trainLimit=500");
  const { options, names, refused } = opts.fromQuery(opts.TRAIN, params, BASE, ["nano_28", "fine_wide_28"]);
  assert.deepEqual(refused, []);
  assert.deepEqual(names.sort(), ["deepTraining", "epochs", "learningRate", "preset", "schedule", "trainLimit"]);
  assert.equal(options.epochs, 5);
  assert.equal(options.learningRate, 0.001);
  assert.equal(options.deepTraining, false);
  assert.equal(options.schedule, "linear");
  assert.equal(options.preset, "nano_28");
  assert.equal(options.trainLimit, 500);
  assert.equal(options.seed, 42, "what the link does not set stays the base's");
  assert.equal(BASE.epochs, 2, "the base is not changed");
});

test("a value that does not read as its kind is refused by name, never replaced", () => {
  const markup = '"><img src=x onerror=alert(1)>';
  const query = new URLSearchParams({
    epochs: "ten", seed: "1e400", batchSize: "3.5", learningRate: "Infinity", deepTraining: "maybe", schedule: "__proto__",
    preset: markup, decayEpochs: "0x10", trainLimit: "",
  });
  const { options, names, refused } = opts.fromQuery(opts.TRAIN, query, BASE, ["fine_wide_28"]);
  assert.deepEqual(names, []);
  assert.deepEqual(options, BASE);
  assert.deepEqual(refused.map((r) => r.name).sort(), ["batchSize", "decayEpochs", "deepTraining", "epochs", "learningRate", "preset", "schedule", "seed", "trainLimit"]);
  for (const r of refused) {
    assert.equal(r.value, query.get(r.name), "the raw value is kept to be said");
    assert.equal(typeof r.reason, "string");
    assert.ok(r.reason.length > 0);
  }
  // A preset only among the data's.
  assert.deepEqual(opts.fromQuery(opts.TRAIN, new URLSearchParams("preset=nano_28"), BASE, ["fine_wide_28"]).names, []);
});

test("an overlong value is refused before it is read", () => {
  const long = "1".repeat(opts.MAX_VALUE + 1);
  const { names, refused } = opts.fromQuery(opts.TRAIN, new URLSearchParams({ seed: long }), BASE, []);
  assert.deepEqual(names, []);
  assert.equal(refused[0].name, "seed");
});

test("options to a link and back are the same options", () => {
  const options = { ...BASE, epochs: 7, learningRate: 0.05, deepTraining: false, trainLimit: null, schedule: "linear" };
  const params = opts.toQuery(opts.TRAIN, options);
  assert.equal(params.has("trainLimit"), false, "null is left out");
  const back = opts.fromQuery(opts.TRAIN, params, BASE, ["fine_wide_28"]);
  assert.deepEqual(back.refused, []);
  assert.deepEqual(back.options, options);
  assert.deepEqual(opts.changed(opts.TRAIN, BASE, options).sort(), ["deepTraining", "epochs", "learningRate", "schedule"]);
});

test("the API's option arguments: known keys of their kind, bounds left to Rust", () => {
  assert.deepEqual(opts.checkArgs(opts.TRAIN, "options", { epochs: 100000, schedule: "linear", trainLimit: null }), { epochs: 100000, schedule: "linear", trainLimit: null });
  const bad = [
    [{ epochs: 1.5 }, "options.epochs"], [{ epochs: "3" }, "options.epochs"], [{ epochs: NaN }, "options.epochs"], [{ epochs: 2 ** 60 }, "options.epochs"],
    [{ learningRate: Infinity }, "options.learningRate"], [{ deepTraining: 1 }, "options.deepTraining"],
    [{ schedule: "toString" }, "options.schedule"], [{ preset: "x".repeat(opts.MAX_VALUE + 1) }, "options.preset"],
    [{ nonsense: 1 }, "options"], [JSON.parse('{"__proto__": {"epochs": 1}}'), "options"], [[], "options"], [null, "options"],
  ];
  for (const [value, name] of bad) {
    assert.throws(() => opts.checkArgs(opts.TRAIN, "options", value), (e) => e.message.includes(name), `${JSON.stringify(value)} refused, naming ${name}`);
  }
  // A study's training options at their path; extra keys with their own checks.
  assert.deepEqual(opts.checkArgs(opts.STUDY, "options", { seeds: 3 }), { seeds: 3 });
  assert.throws(() => opts.checkArgs(opts.STUDY, "options", { epochs: 3 }), /options/);
  assert.deepEqual(opts.checkArgs(opts.STUDY, "train", { epochs: 3 }, { path: ["train"] }), { epochs: 3 });
  const extra = { evalEvery: (n, v) => { if (v !== 5) throw new Error(`${n} bad`); } };
  assert.deepEqual(opts.checkArgs(opts.TRAIN, "options", { evalEvery: 5 }, { extra }), { evalEvery: 5 });
  assert.throws(() => opts.checkArgs(opts.TRAIN, "options", { evalEvery: 6 }, { extra }), /options\.evalEvery bad/);
});
