//! Faults the soak injects: a panic in the engine, a lost GPU device, a reload in the middle
//! of a save, IndexedDB writes failing as a full disk makes them, and a second tab of the page.
//! Each checks what must hold after it (the page recovers, nothing saved is lost).
import { fileToken } from "./values.mjs";

const CRASH = [/panic|unreachable|RuntimeError|engine crashed/i];

export const FAULTS = [
  {
    kind: "fault.panic", weight: 1,
    make: () => ({}),
    async run(ctx) {
      // Queued behind whatever the worker is doing (a step on SwiftShader takes seconds).
      const answer = await ctx.call("debug.panic", [], 60_000);
      if (answer.timeout) ctx.fail("debug.panic() did not settle within 60 s");
      else if (answer.ok) ctx.fail("debug.panic() answered instead of rejecting");
      else if (!answer.message.trim()) ctx.fail("debug.panic() rejected with an empty message");
      const engine = await ctx.waitEngine(120_000);
      // A crash loop (three within a minute) stops the engine until the user starts fresh.
      if (engine === "stopped") {
        await ctx.startFresh();
        return { allow: CRASH, discards: ["training"] };
      }
      return { allow: CRASH };
    },
  },
  {
    kind: "fault.loseDevice", weight: 1,
    make: () => ({}),
    async run(ctx) {
      const answer = await ctx.call("debug.loseDevice", [], 30_000);
      if (answer.timeout) ctx.fail("debug.loseDevice() did not settle within 30 s");
      else if (!answer.ok) ctx.checkMessage("debug.loseDevice", answer.message);
      await ctx.waitEngine(180_000);
      await ctx.waitQuiet(180_000);
      return { allow: [/device|lost|GPU|WebGPU/i, ...CRASH] };
    },
  },
  {
    kind: "fault.reloadMidSave", weight: 1.5,
    make: (rng) => ({ what: rng.pick(["step", "files", "classify"]), delay: rng.int(0, 150), files: Array.from({ length: 3 }, () => fileToken(rng, { kind: "png" })), n: rng.int(0, 1) }),
    run: (ctx, a) => ctx.reloadMidSave(a),
  },
  {
    kind: "fault.quota", weight: 1,
    make: (rng) => ({ files: [fileToken(rng, { kind: "png" })], n: rng.int(0, 1) }),
    async run(ctx, a) {
      // While the disk is full: a change that saves, said as not saved; the page goes on.
      await ctx.page.evaluate(() => { window.__soak.quota = true; });
      try {
        const added = await ctx.call("own.addFiles", [a.n, a.files], 60_000);
        if (added.timeout) ctx.fail("own.addFiles did not settle while the disk was full");
        const saved = await ctx.call("whenSaved", [], 30_000);
        if (saved.timeout) ctx.fail("whenSaved() did not settle while the disk was full");
        else if (!saved.ok) ctx.checkMessage("whenSaved", saved.message);
        const said = await ctx.page.evaluate(() => document.querySelector("#messages").textContent);
        if (added.ok && !/full|space|저장/i.test(said)) ctx.fail(`a write refused for quota was not said: messages "${said.slice(-300)}"`);
      } finally {
        await ctx.page.evaluate(() => { window.__soak.quota = false; });
      }
      // Once there is room again, it saves.
      const again = await ctx.call("whenSaved", [], 30_000);
      if (again.timeout) ctx.fail("whenSaved() did not settle after the disk had room again");
      else if (!again.ok) ctx.fail(`whenSaved() still refuses once the disk has room again: ${again.message.slice(0, 300)}`);
      return { allow: [/quota/i] };
    },
  },
  {
    kind: "fault.secondTab", weight: 1,
    make: (rng) => ({ takeOver: rng.chance(0.5), actions: rng.int(0, 2) }),
    run: (ctx, a) => ctx.secondTab(a),
  },
];
