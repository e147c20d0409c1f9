// Publish anywhere: scripts/build-dist.mjs writes a static site that a plain file server (no
// special headers) serves from a sub-folder as it is; the page loads, trains and fuses there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { open, root } from "./harness.mjs";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };

/** The dumbest static host: files under `/site/sub/`, content types, nothing else. */
function staticHost(dir) {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      const rest = path.startsWith("/site/sub/") ? path.slice("/site/sub/".length) || "index.html" : null;
      const file = rest && normalize(join(dir, rest));
      if (!file || !file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      createReadStream(file).pipe(res);
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

test("the static site works from a sub-folder of any host", { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "vanillanet-dist-"));
  execFileSync("node", [join(root, "scripts", "build-dist.mjs"), dir]);
  assert.match(readFileSync(join(dir, "index.html"), "utf8"), /<meta http-equiv="Content-Security-Policy" content="default-src 'self'/);
  for (const f of ["worker.js", "pkg/vanillanet_bg.wasm", "pkg/threads/vanillanet_bg.wasm", "data/mnist.vnds", "vendor/uPlot.iife.min.js"]) assert.ok(existsSync(join(dir, f)), f);
  const host = await staticHost(dir);
  const { page, errors, close } = await open({ webgpu: false, serviceWorker: true, at: `http://127.0.0.1:${host.address().port}/site/sub/?backend=cpu` });
  try {
    assert.match(await page.textContent("#data-summary"), /^fashion-mnist/);
    // No COOP/COEP headers here: not cross-origin isolated, so the single-threaded build.
    const status = await page.evaluate(() => window.vanillanet.status());
    assert.deepEqual([status.crossOriginIsolated, status.threads], [false, 1]);
    const options = { preset: "nano_28", batchSize: 32, epochs: 1, decayEpochs: 0 };
    await page.evaluate((o) => window.vanillanet.step(o), options);
    const report = await page.evaluate(() => window.vanillanet.fuse());
    assert.ok(report.maxLogitDiff < 1e-4);
    assert.deepEqual(errors, []);
  } finally {
    await close();
    host.close();
  }
});
