// The dev server: malformed URLs get 400 and the server lives on; paths stay inside the folder
// they are served from (a sibling folder whose name starts the same included); every response
// carries the Content-Security-Policy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { root } from "./harness.mjs";
import { CSP, serve } from "../../scripts/serve.mjs";

/** A raw GET (no client-side URL clean-up): status and headers. */
function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, csp: res.headers["content-security-policy"] }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("the dev server refuses bad paths and keeps serving", async () => {
  const server = await serve(0);
  const { port } = server.address();
  const sibling = join(root, "www-sibling-test");
  mkdirSync(sibling, { recursive: true });
  writeFileSync(join(sibling, "secret.txt"), "not for the web");
  try {
    for (const path of ["/%", "//", "/%E0%A4%A", "/a%00b"]) {
      assert.equal((await get(port, path)).status, 400, path);
    }
    for (const path of ["/..%2fCargo.toml", "/..%2f..%2fetc%2fpasswd", "/..%2fwww-sibling-test%2fsecret.txt", "/pkg/..%2f..%2fCargo.toml"]) {
      assert.equal((await get(port, path)).status, 403, path);
    }
    assert.equal((await get(port, "/no-such-file.js")).status, 404);
    const page = await get(port, "/");
    assert.equal(page.status, 200, "still serving after the bad requests");
    assert.equal(page.csp, CSP);
    assert.match(CSP, /script-src 'self' 'wasm-unsafe-eval'/);
    assert.match(CSP, /object-src 'none'/);
    assert.equal((await get(port, "/worker.js")).csp, CSP, "the worker gets the policy too");
  } finally {
    rmSync(sibling, { recursive: true, force: true });
    server.close();
  }
});
