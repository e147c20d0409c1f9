// Inside the net while it trains: the leaky activations' decay (recorded by the training loop
// in the worker, every few steps, on a fixed probe batch), the feature maps after each block
// for one image, and the fusion of one block as matrices. `vanillanet.inside` is this module's
// API; views/inside.js draws it. Every answer is computed in Rust and read back once.
import { call, limits } from "./client.js";
import { num, t } from "./i18n.js";
import { EMPTY_DECAY, get, update } from "./state.js";

export { EMPTY_DECAY };
// The engine's bounds and defaults (tiles asked for, steps between probes) are Rust's `Limits`
// (client.js's `limits()`).

/** What a part of the net is called on the page: `stem`, `stages.i`, `head`. */
export function partName(name) {
  if (name === "stem") return t("lambda.stem");
  if (name === "head") return t("inside.head");
  const i = /^stages\.(\d+)$/.exec(name ?? "");
  return i ? t("lambda.block", { n: Number(i[1]) + 1 }) : String(name);
}

/** The latest decay values as words, for the charts' sentence (null before the first probe). */
export function decaySentence(decay) {
  if (!decay?.steps.length) return null;
  const last = decay.steps.length - 1;
  const v = decay.blocks.map((b) => `${partName(b.name)} ${num(b.distance[last], 3)}`).join(", ");
  return t("summary.decay", { v });
}

// ---- the decay series, kept in the app state (`insideDecay`) ---------------------------------
let refreshing = 0;
/** The whole series again from the worker (a new, restored or dropped model). */
export async function refreshDecay() {
  const mine = ++refreshing;
  const decay = get().model ? await call("insideDecay").catch(() => null) : null;
  if (mine === refreshing) update({ insideDecay: decay ?? EMPTY_DECAY });
}

// A probe the training loop made rides on a step's report: events.js adds it to the series.

// ---- arguments -------------------------------------------------------------------------------
const isWhole = (v) => typeof v === "number" && Number.isInteger(v) && v >= 0;
const describe = (v) => (typeof v === "string" ? JSON.stringify(v.slice(0, 40)) : v instanceof Blob ? "a Blob" : String(v).slice(0, 40));

function blocksOf(extra = 0) {
  const m = get().model;
  if (!m) throw new Error(t("inside.noModel"));
  return m.config.strides.length + extra;
}

function checkOptions(options, keys) {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) throw new TypeError(t("inside.badOptions", { keys: keys.join(", "), got: describe(options) }));
  const unknown = Object.keys(options).filter((k) => !keys.includes(k));
  if (unknown.length) throw new TypeError(t("inside.badOptions", { keys: keys.join(", "), got: unknown.join(", ") }));
  return options;
}

const floats = (values) => Float32Array.from(values);
const matrix = (m) => m && { ...m, values: floats(m.values) };
const folded = (f) => f && { ...f, weight: matrix(f.weight), folded: matrix(f.folded), bias: floats(f.bias), scale: floats(f.scale), foldedBias: floats(f.foldedBias) };

/** The feature maps after part `block` (0 the stem, i the i-th block) of a test image (an
 * index) or of an image file (a Blob), of the trained net or, with `{fused: true}`, its fused
 * form: `{block, name, fused, channels, height, width, tiles: [{channel, activity, values:
 * Float32Array}], maxDiff}`. */
export async function featureMaps(imageOrTestIndex, block, options) {
  const { defaultTiles, maxTiles } = await limits();
  const { fused = false, tiles = defaultTiles } = checkOptions(options, ["fused", "tiles"]);
  const blocks = blocksOf();
  const isBlob = imageOrTestIndex instanceof Blob;
  if (!isBlob && !isWhole(imageOrTestIndex)) throw new TypeError(t("inside.badImage", { got: describe(imageOrTestIndex) }));
  if (!isWhole(block) || block > blocks) throw new RangeError(t("inside.badBlock", { max: blocks, got: describe(block) }));
  if (typeof fused !== "boolean") throw new TypeError(t("inside.badFused", { got: describe(fused) }));
  if (!isWhole(tiles) || tiles < 1 || tiles > maxTiles) throw new RangeError(t("inside.badTiles", { max: maxTiles, got: describe(tiles) }));
  const maps = await call("featureMaps", isBlob ? { file: imageOrTestIndex, block, fused, tiles } : { index: imageOrTestIndex, block, fused, tiles });
  return { ...maps, tiles: maps.tiles.map((tile) => ({ ...tile, values: floats(tile.values) })) };
}

/** The fusion of part `block` (0 the stem, 1..n the blocks, n + 1 the head) as matrices (rows:
 * output channels): `{part, name, lambda, exact, fusedKey, actKey, conv1, conv2, fused,
 * fusedBias, act, paramsBefore, paramsAfter, macsBefore, macsAfter}`, each conv `{weight,
 * bias, batchNorm, scale, folded, foldedBias}`, matrices `{shape, rows, cols, values:
 * Float32Array}`. */
export async function fusion(block) {
  const parts = blocksOf(1);
  if (!isWhole(block) || block > parts) throw new RangeError(t("inside.badPart", { max: parts, got: describe(block) }));
  const v = await call("fusion", { part: block });
  return { ...v, conv1: folded(v.conv1), conv2: folded(v.conv2), act: folded(v.act), fused: matrix(v.fused), fusedBias: floats(v.fusedBias) };
}

/** `{steps, lambda, blocks: [{name, negativeShare, distance}], every}`: one value per probe,
 * aligned with `steps` (empty without a model or deep training). */
async function decay() {
  if (!get().model) return { ...EMPTY_DECAY };
  return call("insideDecay");
}

/** Probes the decay every `every` steps from now on (0: not at all; the default is the
 * engine's, `defaults.limits.probeEvery`). */
async function setProbeEvery(every) {
  const most = (await limits()).maxProbeEvery;
  if (!isWhole(every) || every > most) throw new RangeError(t("inside.badEvery", { max: num(most), got: describe(every) }));
  return call("setProbeEvery", { every });
}

let chartReader = () => null;
/** The decay charts register what they draw (views/inside.js). */
export const setChartReader = (read) => { chartReader = read; };

export const insideApi = {
  decay, featureMaps, fusion, setProbeEvery,
  /** The series the decay charts draw now: `{steps, distance: [[...]], negativeShare: [[...]]}`,
   * a row per block (for tests). */
  chart: () => chartReader(),
};
