// Writes pkg/precache.js for the service worker (www/sw.js): the files the page needs to work
// offline, and a version (a hash of them all), so that a new build replaces the cached copy.
// Run by scripts/build-web.sh after everything is built.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// The benchmark page and onnxruntime-web (tens of MB) are not part of the app: they are
// cached when fetched, not ahead.
const SKIP = [/^bench\.(html|js)$/, /^vendor\/ort\//, /^sw\.js$/, /(^|\/)\./];

function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const www = walk(join(root, "www")).map((p) => relative(join(root, "www"), p).split("\\").join("/"));
// Both builds of the engine, with the threaded one's worker helpers (under snippets/).
const pkg = walk(join(root, "pkg")).map((p) => relative(root, p).split("\\").join("/"))
  .filter((f) => /\.(js|wasm)$/.test(f) && f !== "pkg/precache.js");
const files = [...www.filter((f) => !SKIP.some((re) => re.test(f))), ...pkg].sort();
const hash = createHash("sha256");
for (const f of files) {
  hash.update(f);
  hash.update(readFileSync(join(root, f.startsWith("pkg/") ? "" : "www", f)));
}
const version = hash.digest("hex").slice(0, 16);
// "./" is how the page is opened; the rest as the page and the worker ask for them.
const urls = ["./", ...files.map((f) => `./${f}`)];
writeFileSync(join(root, "pkg", "precache.js"),
  `// Written by scripts/build-precache.mjs: what the service worker caches for offline use.\n` +
  `self.PRECACHE = ${JSON.stringify({ version, urls }, null, 1)};\n`);
console.log(`pkg/precache.js: version ${version}, ${urls.length} files`);
