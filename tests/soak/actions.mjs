//! What the monkey does: UI actions (clicks, form values, selects, drops of real and corrupt
//! files, renames, tab and visibility switches, the keyboard, reloads), `window.vanillanet`
//! calls (calls.mjs) and injected faults (faults.mjs). Each kind draws its arguments from the
//! PRNG up front (`make`), so that the log alone replays it; `run` does it and answers what it
//! may legitimately cause: console errors it allows (`allow`), what it discards of the user's work.
import { CALLS, drawCall } from "./calls.mjs";
import { FAULTS } from "./faults.mjs";
import { fileToken } from "./values.mjs";
import { waitFor } from "../browser/harness.mjs";

const BUTTONS = [
  "train", "pause", "resume", "step", "step", "reset", "add-class", "use-own", "evaluate", "fuse", "finish-annealing", "export-training",
  "export-model", "export-onnx", "study-run", "study-pause", "study-resume", "study-discard", "study-csv", "study-json", "maps-use-test",
  "eval-back", "copy-link", "start-fresh", "take-over", "update-reload",
];
// Buttons that may discard something of the user's (after a confirmation the soak accepts or not).
const BUTTON_DISCARDS = { reset: ["training", "classifier"], "use-own": ["training", "classifier"], "study-run": ["study"], "study-discard": ["study"], train: ["training"], "start-fresh": ["training"] };
const SELECTS = {
  "own-size": ["28x1", "32x3", "64x3", "bogus"], "eval-norm": ["counts", "rows", "bogus"], "fuse-weights": ["ema", "trained", "bogus"],
  "fusion-part": ["0", "1", "2", "9", "bogus"], "activation-layer": ["0", "1", "2", "bogus"],
};
const FORM_VALUES = (rng) => rng.weighted([
  [4, String(rng.pick([1, 2, 4, 8, 16, 32]))], [2, String(rng.pick([0, -1, 0.5, 1e-9, 1e9, 1e400, -1e400]))],
  [2, rng.pick(["", "abc", "1e", "--1", "0x10", " 7 ", "Infinity", "<b>x</b>", "9".repeat(400)])],
]);
// Inputs of a form whose values the soak sets (the number fields; selects through SELECTS-like draws).
const NUMBER_FIELDS = ["batchSize", "epochs", "decayEpochs", "learningRate", "warmupEpochs", "weightDecay", "labelSmoothing", "dropRate", "emaDecay", "cropPadding", "erasing", "momentum", "seed", "actNum", "seeds", "trainImages", "testImages"];
const NAMES = ["cats", "", " ", "日本語の名前", "<script>window.__pwned=2</script>", "x".repeat(300), "class A", "__proto__", "toString"];

const pause = (ms) => new Promise((r) => setTimeout(r, ms));
/** After a UI action the page's own promises run on unseen: a moment for them to show errors. */
const settleUi = (ctx) => pause(ctx.fast ? 100 : 400);

/** Dispatches a drop of `files` (tokens) on the element `selector` (nth `n`). */
async function drop(page, selector, n, files) {
  return page.evaluate(({ selector, n, files }) => {
    const target = document.querySelectorAll(selector)[n];
    if (!target) return "no such target";
    const dt = new DataTransfer();
    for (const f of window.__soak.decode(files)) dt.items.add(f);
    target.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    return "dropped";
  }, { selector, n, files });
}

export const ACTIONS = [
  {
    kind: "api", weight: 45,
    make(rng) {
      const row = rng.weighted(CALLS.map((c) => [c.weight, c]));
      return drawCall(rng, row);
    },
    async run(ctx, a) {
      const row = CALLS.find((c) => c.path === a.path);
      const answer = await ctx.call(a.path, a.args, row.bound, { detached: row.detached });
      ctx.checkAnswer(a, answer, row);
      const discards = row.discards ?? [];
      return { discards: a.garbageAt === null || answer.ok ? discards : [], allow: row.path.startsWith("camera") ? [/camera|device/i] : [] };
    },
  },
  {
    kind: "click", weight: 12,
    make: (rng) => ({ id: rng.pick(BUTTONS), dialog: rng.chance(0.6) ? "accept" : "dismiss" }),
    async run(ctx, a) {
      ctx.dialog = a.dialog;
      const clicked = await ctx.page.evaluate((id) => {
        const b = document.getElementById(id);
        if (!b || b.disabled || b.closest("[hidden]")) return false;
        b.click();
        return true;
      }, a.id);
      await settleUi(ctx);
      return { discards: clicked ? BUTTON_DISCARDS[a.id] ?? [] : [], allow: a.id === "copy-link" ? [/clipboard|Write permission/i] : [] };
    },
  },
  {
    kind: "form", weight: 8,
    make: (rng) => ({ form: rng.pick(["options", "study-options"]), field: rng.pick(NUMBER_FIELDS), value: FORM_VALUES(rng), then: rng.pick([null, null, "step", "train"]), dialog: rng.chance(0.5) ? "accept" : "dismiss" }),
    async run(ctx, a) {
      ctx.dialog = a.dialog;
      await ctx.page.evaluate(({ form, field, value }) => {
        const input = document.querySelector(`#${form} [name="${field}"]`);
        if (!input) return;
        input.value = value;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }, a);
      if (a.then) await ctx.page.evaluate((id) => document.getElementById(id)?.click(), a.then);
      await settleUi(ctx);
      return { discards: a.then === "train" ? ["training"] : [] };
    },
  },
  {
    kind: "select", weight: 4,
    make: (rng) => {
      const id = rng.pick(Object.keys(SELECTS));
      return { id, value: rng.pick(SELECTS[id]), dialog: rng.chance(0.5) ? "accept" : "dismiss" };
    },
    async run(ctx, a) {
      ctx.dialog = a.dialog;
      await ctx.page.evaluate(({ id, value }) => {
        const s = document.getElementById(id);
        if (!s) return;
        s.value = value;
        s.dispatchEvent(new Event("change", { bubbles: true }));
      }, a);
      await settleUi(ctx);
      return { discards: a.id === "own-size" && a.dialog === "accept" ? ["own"] : [] };
    },
  },
  {
    kind: "backend", weight: 1.5,
    make: (rng) => ({ value: rng.weighted([[3, "cpu"], [1, "webgpu"], [1, "auto"]]) }),
    async run(ctx, a) {
      await ctx.page.evaluate((value) => {
        const s = document.getElementById("backend-select");
        s.value = value;
        s.dispatchEvent(new Event("change", { bubbles: true }));
      }, a.value);
      // The switch moves the weights: up to minutes when it compiles WebGPU's kernels.
      await ctx.waitQuiet(180_000);
      return {};
    },
  },
  {
    kind: "language", weight: 1.5,
    make: (rng) => ({ value: rng.pick(["en", "ko", "en"]) }),
    async run(ctx, a) {
      // A switch saves, then reloads the page in the other language.
      const before = await ctx.page.evaluate(() => document.documentElement.lang);
      await ctx.page.selectOption("#language-select", a.value);
      if (before !== a.value) await waitFor(ctx.page, "!window.__soak || window.__soak.token !== " + "TOKEN".replace("TOKEN", String(ctx.token)), null, { timeout: 120_000 }).catch(() => {});
      await settleUi(ctx);
      // The default class names are the page's words, in its language.
      return { discards: ["ownNames"] };
    },
  },
  {
    kind: "dataset", weight: 2,
    make: (rng) => ({ value: rng.pick(["fashion-mnist", "mnist", "own", "own"]), eval: rng.pick([null, "trained", "ema", "fused"]), dialog: rng.chance(0.5) ? "accept" : "dismiss" }),
    async run(ctx, a) {
      ctx.dialog = a.dialog;
      await ctx.page.evaluate(({ value, eval: e }) => {
        document.querySelector(`input[name="dataset"][value="${value}"]`)?.click();
        if (e) document.querySelector(`input[name="eval-model"][value="${e}"]`)?.click();
      }, a);
      await settleUi(ctx);
      return { discards: a.value !== "own" ? ["training", "classifier"] : [] };
    },
  },
  {
    kind: "drop", weight: 8,
    make: (rng) => {
      const target = rng.weighted([[4, "class"], [3, "classify"], [1, "checkpoint"]]);
      const n = target === "class" ? rng.int(0, 2) : 0;
      const files = Array.from({ length: rng.int(1, target === "class" ? 6 : 2) }, () => fileToken(rng, target === "checkpoint" && rng.chance(0.5) ? { kind: "pth" } : {}));
      return { target, n, files };
    },
    async run(ctx, a) {
      const selector = { class: ".class-card", classify: "#deploy-panel", checkpoint: "#checkpoint-drop" }[a.target];
      await drop(ctx.page, selector, a.n, a.files);
      await settleUi(ctx);
      // The page logs nothing for a bad file; a file the browser cannot decode may log its URL.
      return { allow: [/Failed to load resource|blob:/i] };
    },
  },
  {
    kind: "rename", weight: 2,
    make: (rng) => ({ n: rng.int(0, 2), name: rng.pick(NAMES) }),
    async run(ctx, a) {
      await ctx.page.evaluate(({ n, name }) => {
        const input = document.querySelectorAll(".class-card .class-name")[n];
        if (!input) return;
        input.value = name;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }, a);
      await settleUi(ctx);
      return { discards: ["ownNames"] };
    },
  },
  {
    kind: "deleteClass", weight: 0.5,
    make: (rng) => ({ n: rng.int(0, 3), dialog: rng.chance(0.5) ? "accept" : "dismiss" }),
    async run(ctx, a) {
      ctx.dialog = a.dialog;
      await ctx.page.evaluate((n) => document.querySelectorAll(".class-card .delete")[n]?.click(), a.n);
      await settleUi(ctx);
      return { discards: ["own", "ownNames"] };
    },
  },
  {
    kind: "visibility", weight: 2,
    make: (rng) => ({ ms: rng.int(0, 1500), pagehide: rng.chance(0.3) }),
    async run(ctx, a) {
      // The tab goes to the background (another tab in front) and comes back.
      await ctx.page.evaluate(async ({ ms, pagehide }) => {
        const set = (v) => Object.defineProperty(document, "visibilityState", { configurable: true, get: () => v });
        set("hidden");
        document.dispatchEvent(new Event("visibilitychange"));
        if (pagehide) dispatchEvent(new Event("pagehide"));
        await new Promise((r) => setTimeout(r, ms));
        delete document.visibilityState;
        document.dispatchEvent(new Event("visibilitychange"));
      }, a);
      return {};
    },
  },
  {
    kind: "keys", weight: 2,
    make: (rng) => ({ keys: Array.from({ length: rng.int(1, 8) }, () => rng.weighted([[6, "Tab"], [1, "Shift+Tab"], [1, "Enter"], [1, "Space"], [1, "ArrowDown"], [1, "Escape"]])), dialog: rng.chance(0.5) ? "accept" : "dismiss" }),
    async run(ctx, a) {
      ctx.dialog = a.dialog;
      for (const k of a.keys) await ctx.page.keyboard.press(k);
      await settleUi(ctx);
      // Enter or Space on a focused button can be any click.
      return { discards: a.keys.some((k) => k === "Enter" || k === "Space" || k === "ArrowDown") ? ["training", "classifier", "study", "own", "ownNames"] : [], allow: [/clipboard|Write permission|Failed to load resource/i] };
    },
  },
  {
    kind: "reload", weight: 2,
    make: () => ({}),
    run: (ctx) => ctx.settledReload(),
  },
  ...FAULTS,
];

/** Draws the next action: a kind by weight, then its arguments. */
export function drawAction(rng) {
  const action = rng.weighted(ACTIONS.map((a) => [a.weight, a]));
  return { kind: action.kind, args: action.make(rng) };
}
