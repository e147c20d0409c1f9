//! The soak's loop: opens the page (the CPU backend, WebGPU on SwiftShader for a switch),
//! draws actions from the seed (or takes them from a log), runs each, then checks the
//! invariants; keeps the log, the counts per kind and the failures. `ctx` is what the actions
//! and faults are given: the page, bounded calls, waits, and the reload checks.
import { open, waitFor } from "../browser/harness.mjs";
import { ACTIONS, drawAction } from "./actions.mjs";
import { differences, everyAction, nothingLost, snapshot, unclear } from "./invariants.mjs";
import { PAGE_HELPERS, prng } from "./values.mjs";

// Errors the page may log whatever the action (none so far: each is explained by its action).
const ALWAYS_ALLOWED = [];

export async function soak({ seed, minutes, replay = null, maxActions = Infinity, say = () => {} }) {
  const rng = prng(seed);
  const end = Date.now() + minutes * 60_000;
  const h = await open({ webgpu: true, query: "?backend=cpu" });
  const { page, context } = h;
  await context.addInitScript(PAGE_HELPERS);
  await page.evaluate(PAGE_HELPERS);
  const log = [];
  const summary = { seed, minutes, actions: {}, invariants: {}, failures: [], seconds: 0 };
  const count = (table, key, n = 1) => { table[key] = (table[key] ?? 0) + n; };
  let current = null;
  let failures = [];
  const ctx = {
    page, context, url: h.url, dialog: "dismiss", errors: h.errors,
    fail: (what) => failures.push(what),
    /** Calls `path` in the page, bounded; `detached`: not waited for (the registry sees it). */
    call: (path, args, bound, { detached = false } = {}) => page.evaluate(({ path, args, bound, detached }) => {
      const p = window.__soak.call(path, args, bound);
      return detached ? { detached: true } : p;
    }, { path, args, bound, detached }),
    checkMessage(what, message) {
      const why = unclear(message);
      if (why) failures.push(`${what} refused with ${why}: ${message.slice(0, 300)}`);
    },
    checkAnswer(a, answer, row) {
      count(summary.invariants, "answered");
      if (answer.detached) return;
      if (answer.timeout) return failures.push(`${a.path} did not settle within ${row.bound} ms`);
      if (answer.ok) return;
      ctx.checkMessage(a.path, answer.message);
      // Refused by the garbage's name, or by another argument's (checked first), or as the state has it.
      const names = [a.expect, ...(row.names ?? []).filter(Boolean)];
      if (a.expect && !a.strings && !/restarting|crashed|keeps crashing|엔진/.test(answer.message) && !names.some((n) => answer.message.includes(n)) && !row.state?.test(answer.message)) {
        failures.push(`${a.path} refused garbage as ${a.expect} without naming it: ${answer.message.slice(0, 300)}`);
      }
      count(summary.invariants, "refusal clear");
    },
    /** Waits until the engine is up or stopped (not recovering); answers which. */
    async waitEngine(timeout) {
      await waitFor(page, () => window.vanillanet?.status?.().engine !== "recovering", null, { timeout, polling: 200 });
      return page.evaluate(() => window.vanillanet.status().engine);
    },
    /** Presses Start fresh after a crash loop and waits for the engine. The button may be
     * moving while messages arrive (Playwright then waits for it to be "stable"); a user can
     * still press it, and one that cannot be seen is the bug to catch. */
    async startFresh() {
      const pressed = await page.click("#start-fresh", { timeout: 10_000 }).then(() => true, () => false);
      if (!pressed) {
        const state = await page.evaluate(() => ({ engine: window.vanillanet.status().engine, shown: Boolean(document.getElementById("start-fresh")?.checkVisibility()) }));
        if (state.engine === "stopped" && !state.shown) failures.push("the engine stopped after repeated crashes and Start fresh cannot be seen");
        else if (state.engine === "stopped") await page.evaluate(() => document.getElementById("start-fresh").click());
      }
      return ctx.waitEngine(120_000);
    },
    /** Waits until the backend is not switching (the pill says a backend, not "starting"). */
    async waitQuiet(timeout) {
      const trip = await ctx.call("whenSaved", [], timeout);
      if (trip.timeout) failures.push(`whenSaved() did not settle within ${timeout} ms`);
    },
    async ready(p = page) {
      await waitFor(p, () => window.vanillanet?.ready && window.__soak, null, { timeout: 120_000 });
      const ok = await p.evaluate(() => window.vanillanet.ready.then(() => true, (e) => String(e?.message ?? e)));
      if (ok !== true) failures.push(`the page did not start after a reload: ${ok}`);
      await waitFor(p, () => window.vanillanet.status().engine !== "recovering", null, { timeout: 120_000, polling: 200 });
      // The only tab of the page saves the session.
      if (p === page && !ctx.secondOpen && !(await p.evaluate(() => document.getElementById("tab-owner").hidden))) {
        failures.push(`the only tab of the page does not own the session after a reload: "${await p.textContent("#tab-owner-text")}"`);
      }
      ctx.token = await p.evaluate(() => window.__soak.token);
    },
    /** Whether the page was loaded anew since the soak last looked (a reload it did not make). */
    async navigated() {
      const token = await page.evaluate(() => window.__soak?.token ?? null).catch(() => null);
      return token !== ctx.token;
    },
    /** Pauses what runs (training, a study), waits for it and for the saves: a point where the
     * page and its records must agree. */
    async settle() {
      if ((await ctx.waitEngine(120_000)) === "stopped") {
        await ctx.startFresh();
      }
      for (const p of ["pause", "study.pause"]) await ctx.call(p, [], 60_000);
      await waitFor(page, () => window.vanillanet.status().state !== "running" && window.vanillanet.study.status()?.state !== "running", null, { timeout: 120_000, polling: 200 });
      const saved = await ctx.call("whenSaved", [], 60_000);
      if (saved.timeout) failures.push("whenSaved() did not settle within 60 s of a pause");
      // Pending study calls (a paused run answers when resumed) are no longer the soak's to wait for.
      await page.evaluate(() => window.__soak.pending.clear());
      return snapshot(page);
    },
    /** A reload once everything is saved: the page must come back exactly as it was. */
    async settledReload() {
      const before = await ctx.settle();
      await page.reload();
      await page.evaluate(PAGE_HELPERS).catch(() => {});
      await ctx.ready();
      const after = await snapshot(page);
      for (const d of differences(before, after)) failures.push(`after a reload: ${d}`);
      count(summary.invariants, "reload agrees");
      ctx.saved = after;
      ctx.discarded = new Set();
      return {};
    },
    /** A reload while something is being saved: what was saved before is still there. */
    async reloadMidSave(a) {
      const before = ctx.saved ?? (await ctx.settle());
      const discarded = new Set(ctx.discarded);
      await page.evaluate(({ what, files, n }) => {
        const v = window.vanillanet;
        if (what === "step") v.step().catch(() => {});
        else if (what === "files") v.own.addFiles(n, window.__soak.decode(files)).catch(() => {});
        else v.classify(window.__soak.decode(files)[0]).catch(() => {});
        v.whenSaved();
      }, a);
      await new Promise((r) => setTimeout(r, a.delay));
      await page.reload();
      await ctx.ready();
      const after = await snapshot(page);
      for (const d of nothingLost(before, after, discarded)) failures.push(`lost in a reload during a save: ${d}`);
      count(summary.invariants, "nothing lost");
      ctx.saved = await ctx.settle();
      ctx.discarded = new Set();
      return { allow: [/panic|engine crashed/i] };
    },
    /** A second tab of the page: it starts, says another tab saves the session, answers; when
     * it takes over, this tab says so; after it closes, this tab (reloaded) has all it saved. */
    async secondTab({ takeOver, actions }) {
      const before = await ctx.settle();
      ctx.secondOpen = true;
      const second = await context.newPage();
      const errors = [];
      second.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      second.on("pageerror", (e) => errors.push(String(e)));
      try {
        await second.goto(ctx.url);
        await ctx.ready(second);
        const other = await second.evaluate(() => !document.getElementById("tab-owner").hidden);
        if (!other) failures.push("a second tab does not say that another tab saves the session");
        const seen = await snapshot(second);
        for (const d of differences(before, seen)) failures.push(`the second tab starts from other records: ${d}`);
        for (let i = 0; i < actions; i++) await second.evaluate(() => window.vanillanet.step().catch(() => {}));
        if (takeOver) {
          await second.click("#take-over");
          await waitFor(page, () => /another tab took this session over|다른 탭/.test(document.querySelector("#messages").textContent), null, { timeout: 20_000 });
        }
        count(summary.invariants, "second tab");
      } finally {
        await second.close();
        ctx.secondOpen = false;
      }
      for (const e of errors) failures.push(`the second tab logged an error: ${e.slice(0, 300)}`);
      // This tab saves again after a reload, once the lock is free; what was saved is there.
      if (takeOver) await waitFor(page, async () => !(await navigator.locks.query()).held.length, null, { timeout: 20_000 });
      await page.reload();
      await ctx.ready();
      const after = await snapshot(page);
      const lost = takeOver ? nothingLost(before, after, new Set()) : differences(before, after);
      for (const d of lost) failures.push(`after a second tab (${takeOver ? "took over" : "only looked"}): ${d}`);
      ctx.saved = await ctx.settle();
      ctx.discarded = new Set();
      return {};
    },
    saved: null,
    discarded: new Set(),
  };
  page.on("dialog", (d) => (ctx.dialog === "accept" ? d.accept() : d.dismiss()).catch(() => {}));

  const started = Date.now();
  ctx.token = await page.evaluate(() => window.__soak.token);
  ctx.saved = await ctx.settle();
  let i = 0;
  let allowPrevious = [];
  while (replay ? i < replay.length : Date.now() < end && i < maxActions) {
    current = replay ? replay[i] : drawAction(rng);
    const action = ACTIONS.find((a) => a.kind === current.kind);
    failures = [];
    const errorsBefore = h.errors.length;
    const t0 = Date.now();
    let outcome = {};
    try {
      outcome = (await action.run(ctx, current.args)) ?? {};
    } catch (e) {
      failures.push(`the action threw: ${String(e?.message ?? e).slice(0, 500)}`);
    }
    for (const d of outcome.discards ?? []) ctx.discarded.add(d);
    try {
      // A reload the page made itself (a language switch, an update): it starts, and has all it saved.
      if (await ctx.navigated()) {
        await ctx.ready();
        for (const d of nothingLost(ctx.saved, await snapshot(page), ctx.discarded)) failures.push(`lost in a reload: ${d}`);
        count(summary.invariants, "nothing lost");
      }
    } catch (e) {
      failures.push(`the page did not come back from a reload: ${String(e?.message ?? e).slice(0, 500)}`);
    }
    try {
      const r = await everyAction(page);
      failures.push(...r.problems);
      for (const k of r.checked) count(summary.invariants, k);
      if (r.engine === "stopped") {
        // A crash loop: the user would start fresh; so does the soak.
        await ctx.startFresh();
        ctx.discarded.add("training");
      }
    } catch (e) {
      failures.push(`the invariants could not be checked: ${String(e?.message ?? e).slice(0, 500)}`);
    }
    const allow = [...ALWAYS_ALLOWED, ...(outcome.allow ?? []), ...allowPrevious];
    const newErrors = h.errors.slice(errorsBefore).filter((e) => !allow.some((re) => re.test(e)));
    for (const e of newErrors) failures.push(`logged an error: ${e.slice(0, 400)}`);
    count(summary.invariants, "errors");
    allowPrevious = outcome.allow ?? [];
    count(summary.actions, current.kind === "api" ? `api ${current.args.path}` : current.kind);
    if (process.env.SOAK_TRACE) {
      // What the page shows and what its records hold, after each action (to read a failing log).
      say(`  trace ${JSON.stringify(await page.evaluate(() => new Promise((resolve) => {
        const r = indexedDB.open("vanillanet", 1);
        r.onsuccess = () => {
          const tx = r.result.transaction("records");
          const t = tx.objectStore("records").get("training");
          const sess = tx.objectStore("records").get("session");
          const own = tx.objectStore("records").get("own");
          tx.oncomplete = () => resolve({ step: window.vanillanet.status().step, state: window.vanillanet.status().state, engine: window.vanillanet.status().engine, saved: t.result?.history?.steps.at(-1) ?? null, data: sess.result?.datasetName, own: own.result?.classes?.map((c) => `${c.name}:${c.items.length}`).join(",") ?? null, ownNow: window.vanillanet.own.classes().map((c) => `${c.name}:${c.images + c.rejected.length}`).join(","), owner: document.getElementById("tab-owner").hidden, messages: document.querySelector("#messages").textContent.slice(-400) });
        };
      })).catch((e) => String(e)))}`);
    }
    log.push({ i, kind: current.kind, args: current.args, ms: Date.now() - t0 });
    say(`#${i} ${current.kind}${current.kind === "api" ? ` ${current.args.path}` : ""} ${Date.now() - t0} ms${failures.length ? ` FAILED: ${failures.join(" | ")}` : ""}`);
    if (failures.length) summary.failures.push({ i, kind: current.kind, args: current.args, failures });
    i++;
  }
  summary.seconds = Math.round((Date.now() - started) / 1000);
  summary.actionsRun = i;
  // Closing is bounded: a page busy on SwiftShader may hold the context's close for minutes.
  const bounded = (p) => Promise.race([p.catch(() => {}), new Promise((r) => setTimeout(r, 20_000))]);
  await bounded(h.close());
  await bounded(context.browser()?.close() ?? Promise.resolve());
  return { summary, log };
}
