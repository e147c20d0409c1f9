//! What must hold after every action of the soak: the page answers (status() and a round trip
//! to the worker) within a bound, no call is left unanswered, no error is logged that the action
//! does not explain, the visible text shows no NaN, undefined or [object Object], no markup
//! became code; and across reloads, the state the page shows and the records it saved agree.

/** A refusal must say what was wrong in words: no "undefined", no panic text, not empty, short. */
export function unclear(message) {
  if (!message || !message.trim()) return "an empty message";
  if (message.length > 600) return `a message of ${message.length} characters`;
  // The value refused may be echoed ("got NaN", "받은 값: undefined"): only the words before it count.
  const words = message.replace(/(got|받은 값:?) .*$/s, "");
  if (/\bundefined\b|\[object Object\]|\bNaN\b|panicked at|RuntimeError|unreachable/.test(words)) return "a message with undefined, [object Object], NaN or a panic in it";
  return null;
}

/** What the page shows of the user's work, read through the API (cheap: no worker). */
export const snapshot = (page) => page.evaluate(() => {
  const v = window.vanillanet;
  const s = v.status();
  const c = v.classifier();
  const st = v.study.status();
  return {
    status: { step: s.step, epoch: s.epoch, lambda: s.lambda, state: s.state === "running" ? "paused" : s.state },
    history: v.history(),
    classes: v.own.classes().map((k) => ({ name: k.name, images: k.images, rejected: k.rejected.length })),
    classifier: c && { name: c.card?.name ?? null, origin: c.origin ?? null, classes: c.card?.classes ?? null },
    study: st && { runs: st.runs ?? null },
  };
});

/** The invariants that need no history: they run after every action. `bounds`: ms for the
 * page's answer, the worker's, and a call's. */
export async function everyAction(page, { answer = 5_000, worker = 120_000, call = 300_000 } = {}) {
  const problems = [];
  const t0 = Date.now();
  const local = await Promise.race([
    page.evaluate(() => {
      const s = window.vanillanet.status();
      const text = document.body.innerText;
      const bad = text.match(/.{0,60}(\bNaN\b|\bundefined\b|\[object Object\]).{0,60}/);
      return { engine: s.engine, bad: bad?.[0] ?? null, pwned: window.__pwned ?? null, overdue: window.__soak.overdue(0).length };
    }),
    new Promise((r) => setTimeout(() => r(null), answer)),
  ]);
  if (!local) return { problems: [`the page did not answer status() within ${answer} ms`], checked: ["answers"], ms: Date.now() - t0, engine: null };
  const checked = ["answers"];
  if (local.bad) problems.push(`the page shows "${local.bad}"`);
  if (local.pwned !== null) problems.push(`markup ran as code (__pwned = ${local.pwned})`);
  checked.push("text", "markup");
  // A round trip to the worker: answered (or refused at once while the engine restarts).
  const trip = await page.evaluate((bound) => window.__soak.call("testImage", [0], bound), worker);
  if (trip.timeout) problems.push(`the worker did not answer testImage(0) within ${worker} ms`);
  // A call pending when the engine crashes is given the crash (in the page's language).
  else if (!trip.ok && unclear(trip.message) && !/^(The engine crashed|엔진이 멈췄습니다) \(panicked at/.test(trip.message)) problems.push(`testImage(0) refused unclearly: ${trip.message.slice(0, 200)}`);
  checked.push("worker");
  const overdue = await page.evaluate((bound) => window.__soak.overdue(bound), call);
  if (overdue.length) problems.push(`calls unanswered after ${call / 1000} s: ${overdue.join(", ")}`);
  checked.push("pending");
  return { problems, checked, ms: Date.now() - t0, engine: local.engine };
}

/** What was saved before is still there after `after` (a reload mid-save, a crash), unless an
 * action since discarded it; `discarded` a Set of "training", "classifier", "study", "own", "ownNames". */
export function nothingLost(before, after, discarded) {
  const lost = [];
  if (!discarded.has("training")) {
    if (after.status.step < before.status.step) lost.push(`training: step ${before.status.step} saved, ${after.status.step} back`);
    const n = Math.min(before.history.loss.length, after.history.loss.length);
    if (JSON.stringify(after.history.loss.slice(0, n)) !== JSON.stringify(before.history.loss.slice(0, n))) lost.push("training: the loss curve changed");
  }
  // A classifier fused from the trainer goes with the trainer's weights (the session drops it
  // when they change): discarding the training discards it too.
  const fusedFromTraining = before.classifier?.origin === "trainer";
  const classifierMayGo = discarded.has("classifier") || (fusedFromTraining && discarded.has("training"));
  if (!classifierMayGo && before.classifier && !after.classifier) lost.push(`the classifier ${before.classifier.name} is gone`);
  if (!discarded.has("own")) {
    before.classes.forEach((c, i) => {
      const a = after.classes[i];
      if (!a) lost.push(`own class ${i} (${c.name}) is gone`);
      else if (a.images < c.images) lost.push(`own class ${i} had ${c.images} images, now ${a.images}`);
      else if (!discarded.has("ownNames") && a.name !== c.name) lost.push(`own class ${i} was "${c.name}", now "${a.name}"`);
    });
  }
  if (!discarded.has("study") && (before.study?.runs ?? 0) > (after.study?.runs ?? 0)) lost.push(`study runs: ${before.study.runs} saved, ${after.study?.runs ?? 0} back`);
  return lost;
}

/** Two snapshots that must be equal (before and after a settled reload): the differences. */
export function differences(before, after) {
  const out = [];
  for (const key of Object.keys(before)) {
    const a = JSON.stringify(before[key]);
    const b = JSON.stringify(after[key]);
    if (a !== b) out.push(`${key}: before ${a.slice(0, 300)}, after ${b.slice(0, 300)}`);
  }
  return out;
}
