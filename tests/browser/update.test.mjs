// One deploy is one consistent set: a published site (scripts/build-dist.mjs) is visited, then
// a new build is deployed (its glue and its wasm changed, the precache list rewritten). The
// open page and the first visit after the deploy keep getting the old build's glue AND wasm
// from the service worker, never a mix; the new build, once installed, is said ("a new version
// is ready"), waits while another tab is open, and is taken on the user's word: the page then
// reloads into the new glue and the new wasm together.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, createReadStream, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { open, root, waitFor } from "./harness.mjs";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };

/** A static host of `dir` under /site/; `slow()` true delays the datasets by 4 s (a new
 * build's install then takes a while, as a real download would). */
function host(dir, slow) {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      const rest = path.startsWith("/site/") ? path.slice("/site/".length) || "index.html" : null;
      const file = rest && normalize(join(dir, rest));
      if (!file || !file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
      const send = () => {
        res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
        createReadStream(file).pipe(res);
      };
      if (slow() && file.endsWith(".vnds")) setTimeout(send, 4000);
      else send();
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** Which build the page is given: the glue's marker and the wasm's size, through its service worker. */
const served = (page) => page.evaluate(async () => ({
  glue: (await (await fetch("./pkg/vanillanet.js")).text()).includes("// build 2") ? 2 : 1,
  wasm: (await (await fetch("./pkg/vanillanet_bg.wasm")).arrayBuffer()).byteLength,
  worker: (await (await fetch("./worker.js")).text()).includes("// build 2") ? 2 : 1,
}));

/** A wasm custom section (id 0) named `name`: valid wasm, a different file. */
function customSection(name, payload) {
  const body = Buffer.concat([Buffer.from([name.length]), Buffer.from(name), payload]);
  const size = [];
  let n = body.length;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    size.push(byte);
  } while (n);
  return Buffer.concat([Buffer.from([0, ...size]), body]);
}

const ready = async (page) => {
  await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 90_000 });
  await page.evaluate(() => window.vanillanet.ready);
};

test("an update is one set, said when ready and taken on the user's word", { timeout: 400_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "vanillanet-update-"));
  execFileSync("node", [join(root, "scripts", "build-dist.mjs"), dir]);
  let slow = false;
  const server = await host(dir, () => slow);
  const url = `http://127.0.0.1:${server.address().port}/site/?backend=cpu`;
  const { page, context, errors, close } = await open({ webgpu: false, serviceWorker: true, at: url });
  try {
    // Installed: the whole build in one cache.
    await waitFor(page, async () => Boolean(navigator.serviceWorker.controller) && (await caches.keys()).length === 1, null, { timeout: 120_000 });
    const v1 = await served(page);
    assert.deepEqual([v1.glue, v1.worker], [1, 1]);

    // Deploy build 2: new glue, new worker, new wasm, a new precache list.
    slow = true;
    appendFileSync(join(dir, "pkg", "vanillanet.js"), "\n// build 2\n");
    appendFileSync(join(dir, "worker.js"), "\n// build 2\n");
    const wasm = join(dir, "pkg", "vanillanet_bg.wasm");
    writeFileSync(wasm, Buffer.concat([readFileSync(wasm), customSection("build", Buffer.from("2"))]));
    execFileSync("node", [join(root, "scripts", "build-precache.mjs"), "--site", dir]);

    // The first visit after the deploy: the old build, whole, while the new one installs.
    await page.reload();
    await ready(page);
    assert.deepEqual(await served(page), v1, "the glue, the worker and the wasm of build 1");
    // Served from the cache, a link keeps its query (and the worker its build).
    assert.equal(await page.evaluate(() => location.search), "?backend=cpu");
    assert.equal((await page.evaluate(() => window.vanillanet.step({ preset: "nano_28", batchSize: 16 }))).globalStep, 1);
    // Installed meanwhile: said, not taken; the page still runs build 1.
    await waitFor(page, () => !document.querySelector("#update-ready").hidden, null, { timeout: 120_000 });
    assert.match(await page.textContent("#update-ready"), /A new version of the page is ready/);
    assert.deepEqual(await served(page), v1, "nothing changed under the running session");

    // Another tab of the page is open: the update waits for it.
    const second = await context.newPage();
    await second.goto(url);
    await ready(second);
    assert.deepEqual(await served(second), v1, "a new tab joins the running build");
    await page.click("#update-reload");
    await waitFor(page, () => /the page is open in 2 tabs: close the others/.test(document.querySelector("#messages").textContent));
    await second.close();

    // Taken on the user's word: the page reloads into build 2, glue and wasm together.
    await Promise.all([page.waitForEvent("load", { timeout: 60_000 }), page.click("#update-reload")]);
    await ready(page);
    const v2 = await served(page);
    assert.deepEqual([v2.glue, v2.worker, v2.wasm], [2, 2, v1.wasm + 9], "build 2, whole");
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 1, "the session came along");
    assert.equal((await page.evaluate(() => window.vanillanet.step({ preset: "nano_28", batchSize: 16 }))).globalStep, 2);
    assert.equal((await page.evaluate(() => caches.keys())).length, 1, "the old build's cache is gone");
    assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  } finally {
    await close();
    server.close();
  }
});
