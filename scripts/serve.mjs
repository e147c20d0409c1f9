// Serves the page: / from www/, /pkg/ from the wasm-bindgen output. Prints the URL.
// Usage: node scripts/serve.mjs [port]   (port 0 picks a free one)
import { createServer } from "node:http";
import { createReadStream, statSync } from "node:fs";
import { extname, join, normalize, dirname, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".vnds": "application/octet-stream",
  ".webmanifest": "application/manifest+json",
};

/** Only this origin: scripts, workers, wasm compilation, fetches; images also from blob: and
 * data: URLs (thumbnails); workers also from blob: URLs (the threaded engine's pool starts its
 * threads from a copy of its helper script, made by our own code); no plugins, no remote
 * connections. The pages carry the same policy as
 * a meta tag for static hosting; this header also covers the worker, which has no page of its own. */
export const CSP = [
  "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self' blob:", "connect-src 'self'",
  "img-src 'self' blob: data:", "style-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

function reply(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-security-policy": CSP }).end(text);
}

/** The file a request path names, or null when it would leave the folder it is served from. */
function resolve(path) {
  const [base, rest] = path.startsWith("/pkg/") ? ["pkg", path.slice(5)] : ["www", path === "/" ? "index.html" : path.slice(1)];
  const dir = join(root, base);
  const file = normalize(join(dir, rest));
  return file.startsWith(dir + sep) ? file : null;
}

/** Longest request head the server reads: a shared link as long as a browser sends (Chromium's
 * limit is 2 MB) reaches the page, which refuses what it holds itself and says so. */
export const MAX_HEADER_BYTES = 3 * 1024 * 1024;

export function serve(port = 8080, host = "127.0.0.1") {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    let path;
    try {
      // A malformed URL ("/%", "//", bad escapes) is the client's error, not the server's end.
      path = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
      if (path.includes("\0")) throw new Error("NUL in path");
    } catch {
      reply(res, 400, "bad request: malformed URL");
      return;
    }
    const file = resolve(path);
    if (!file) {
      reply(res, 403, "forbidden");
      return;
    }
    let size;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error("not a file");
      size = st.size;
    } catch {
      reply(res, 404, `not found: ${path}`);
      return;
    }
    res.writeHead(200, {
      "content-type": types[extname(file)] ?? "application/octet-stream",
      "content-length": size,
      "cache-control": "no-cache",
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      // Cross-origin isolation: shared memory for the threaded engine (and onnxruntime's threads).
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    });
    createReadStream(file).on("error", () => res.destroy()).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve(Number(process.argv[2] ?? process.env.PORT ?? 8080));
  const { port } = server.address();
  console.log(`VanillaNet is served at http://127.0.0.1:${port}/`);
}
