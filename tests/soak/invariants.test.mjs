//! The soak's own judgement of "nothing lost": what a discard allows to go, and what it does not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nothingLost } from "./invariants.mjs";

const snap = (classifier) => ({ status: { step: 0 }, history: { loss: [] }, classes: [], classifier, study: null });
const fused = { name: "nano5_28", origin: "trainer", classes: null };
const loaded = { name: "vanillanet_5", origin: "checkpoint", classes: null };

test("a classifier fused from the trainer may go with the training, a loaded one may not", () => {
  assert.deepEqual(nothingLost(snap(fused), snap(null), new Set(["training"])), []);
  assert.deepEqual(nothingLost(snap(fused), snap(null), new Set()), ["the classifier nano5_28 is gone"]);
  assert.deepEqual(nothingLost(snap(loaded), snap(null), new Set(["training"])), ["the classifier vanillanet_5 is gone"]);
  assert.deepEqual(nothingLost(snap(loaded), snap(null), new Set(["classifier"])), []);
});
