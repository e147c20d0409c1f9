// Shared by the browser tests: the page served on 127.0.0.1, Debian's Chromium through
// playwright-core, and console errors collected.
import { chromium } from "playwright-core";
import { after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "../../scripts/serve.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const outDir = join(root, "tests", "out");

const AXE = readFileSync(join(root, "node_modules", "axe-core", "axe.min.js"), "utf8");
/** axe-core on the page as it is: no serious or critical violation. */
export async function axe(page, state) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`));
  assert.deepEqual(violations, [], `axe in state "${state}"`);
}
mkdirSync(outDir, { recursive: true });

const BASE_ARGS = [
  "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic",
];

/** The WebGPU adapter the browser tests run on: SwiftShader, Chromium's own software device,
 * also where Mesa's lavapipe (a Vulkan driver the native tests use) is installed. */
export const WEBGPU_ADAPTER = process.env.WEBGPU_ADAPTER ?? "swiftshader";

// One Chromium for the tests of a file that launch it with the same flags, each test in a
// context of its own: launching costs about 2 CPU-seconds, and a file opens the page up to 8
// times. A browser that has gone (crashed) is launched again.
const browsers = new Map();
async function launch(args) {
  const key = args.join(" ");
  let browser = await browsers.get(key)?.catch(() => null);
  if (!browser?.isConnected()) {
    const launched = chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args });
    browsers.set(key, launched);
    browser = await launched;
  }
  return browser;
}
after(async () => {
  for (const browser of browsers.values()) await (await browser.catch(() => null))?.close();
});

/** Opens the page; `webgpu` false launches Chromium with WebGPU off. `at`: a URL served by
 * the test itself (then `path` and `query` are ignored); `args`: more Chromium flags.
 * `serviceWorker`: let the page install its service worker, which caches the whole build (some
 * 150 MB) on the first visit; only the tests of offline use and updates need it, and the others
 * would spend a CPU-second or two each time a page opens. */
export async function open({ webgpu, query = "", path = "", at, args = [], viewport = { width: 1400, height: 1300 }, locale = "en-US", serviceWorker = false }) {
  const server = at ? null : await serve(0);
  const url = at ?? `http://127.0.0.1:${server.address().port}/${path}${query}`;
  const browser = await launch([...BASE_ARGS, ...(webgpu ? ["--enable-unsafe-webgpu", `--use-webgpu-adapter=${WEBGPU_ADAPTER}`] : ["--disable-webgpu", "--disable-features=WebGPU"]), ...args]);
  // A context of its own (storage, caches and service workers apart from every other test's),
  // so a test can also open a second tab of the page in it.
  const context = await browser.newContext({ viewport, locale, serviceWorkers: serviceWorker ? "allow" : "block" });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  if (!path || at) {
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
  }
  return {
    page, context, errors, url, server,
    async close() {
      await context.close();
      server?.close();
    },
  };
}

/** Waits until `fn(arg)` (a function or an expression, evaluated in the page) is truthy; polls
 * with `page.evaluate`, since Playwright's own `waitForFunction` evaluates its predicate with
 * `eval`, which the page's Content-Security-Policy refuses. */
export async function waitFor(page, fn, arg, { timeout = 30_000, polling = 100 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(fn, arg);
    if (value) return value;
    if (Date.now() > end) throw new Error(`waitFor: timed out after ${timeout} ms waiting for ${String(fn).slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, polling));
  }
}

/** Waits until `status()` satisfies `predicate` (a function source evaluated in the page). */
export async function waitStatus(page, predicate, timeout = 240_000) {
  await waitFor(page, `(${predicate})(window.vanillanet.status())`, undefined, { timeout, polling: 200 });
  return page.evaluate(() => window.vanillanet.status());
}

const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
export { mean };

/** A PNG that declares `w`x`h` pixels in a valid header and holds no pixel data. */
export function pngHeader(w, h) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", Buffer.alloc(0)), chunk("IEND", Buffer.alloc(0))]);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc(body));
  return Buffer.concat([len, body, sum]);
}

/** A solid-colour RGB PNG of `size`x`size` with a little noise, encoded by hand (zlib only). */
export function png(size, [r, g, b], seed = 1) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc(size * (size * 3 + 1));
  let s = seed;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 3 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = (s >> 16) % 40;
      raw.set([r, g, b].map((v) => Math.min(255, v + n)), y * (size * 3 + 1) + 1 + x * 3);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0)),
  ]);
}
