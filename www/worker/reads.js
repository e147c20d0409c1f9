// What the worker reads off the Session and posts to the page as events: the probed activation
// curve, test accuracy (part or whole test set) of the trained net and of the moving average
// of its weights, the whole evaluation; and the classifier's warm-up on WebGPU.

/** @typedef {import("../pkg/vanillanet.js").Session} Session */
/** @typedef {(message: object) => void} Post */

const PROBE_INPUTS = Array.from({ length: 41 }, (_, i) => -2 + i * 0.1);

/**
 * @param {Session} session
 * @param {{layer: number, channel: number}} probe
 * @param {Post} post
 */
export async function sendProbe(session, probe, post) {
  try {
    const r = await session.probe(probe.layer, probe.channel, Float32Array.from(PROBE_INPUTS));
    post({ type: "probe", layer: probe.layer, channel: probe.channel, inputs: PROBE_INPUTS, curve: r.curve, kernel: r.kernel });
  } catch (e) {
    post({ type: "error", key: "probe.failed", message: String(e.message ?? e) });
  }
}

/**
 * @param {Session} session
 * @param {Post} post
 * @param {number} step
 * @param {number} [limit]
 */
export async function evaluate(session, post, step, limit) {
  const accuracy = await session.evaluate(limit);
  // null without a moving average.
  const emaAccuracy = await session.evaluateEma(limit);
  post({ type: "eval", step, testAccuracy: accuracy, emaAccuracy, full: limit === undefined });
  return accuracy;
}

// The whole test set, posted as an `evaluation` event (and the accuracy of the trained net or
// of the average as an `eval` one).
/**
 * @param {Session} session
 * @param {Post} post
 * @param {"trained" | "ema" | "fused"} model
 */
export async function evaluation(session, post, model) {
  const result = await session.evaluation(model === "fused", model === "ema");
  post({ type: "evaluation", evaluation: result });
  if (model === "trained") post({ type: "eval", step: result.step, testAccuracy: result.accuracy, full: true });
  if (model === "ema") post({ type: "eval", step: result.step, emaAccuracy: result.accuracy, full: true });
  return result;
}

// On WebGPU the first run of a net compiles its shaders (most of a second on a slow adapter):
// a new classifier runs once on a blank input right away, so the first image does not wait.
/** @param {Session} session */
export async function warmUp(session) {
  if (session.status().backend !== "webgpu") return;
  const p = session.classifier()?.card.preprocess;
  if (p) await session.logits(new Float32Array(p.channels * p.height * p.width), 1);
}
