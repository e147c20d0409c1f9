// Writes pkg/precache.js for the service worker (www/sw.js): the files the page needs to work
// offline, each with its SHA-256, and a version (a hash of them all). The service worker
// installs a build only when every file it fetched has its listed hash, so one cache is one
// build: the page, the glue, the wasm and the data of the same deploy, never a mix.
// Run by scripts/build-web.sh after everything is built (www/ and pkg/ of the checkout), or
// `node scripts/build-precache.mjs --site DIR` for a published site (dist/: the page's files
// at its root, pkg/ inside), which it writes DIR/pkg/precache.js for.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// The benchmark page and onnxruntime-web (tens of MB) are not part of the app: they are
// cached when fetched, not ahead.
const SKIP = [/^bench\.(html|js)$/, /^vendor\/ort\//, /^sw\.js$/, /(^|\/)\./, /^pkg\/precache\.js$/, /^pkg\/package\.json$/];

function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
const rel = (from, p) => relative(from, p).split("\\").join("/");

/** The app's files as `[url path, file on disk]`: the page's (`pageDir`) and both builds of
 * the engine with the threaded one's worker helpers (`pkgDir`, under snippets/). */
export function appFiles(pageDir, pkgDir) {
  const page = walk(pageDir).map((p) => [rel(pageDir, p), p]).filter(([f]) => !f.startsWith("pkg/"));
  const pkg = walk(pkgDir).map((p) => [`pkg/${rel(pkgDir, p)}`, p]).filter(([f]) => /\.(js|wasm)$/.test(f));
  return [...page, ...pkg].filter(([f]) => !SKIP.some((re) => re.test(f))).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Writes `precache.js` into `pkgDir` for these files; answers the version. */
export function writePrecache(files, pkgDir) {
  const all = createHash("sha256");
  const hashes = {};
  for (const [f, path] of files) {
    const bytes = readFileSync(path);
    hashes[`./${f}`] = createHash("sha256").update(bytes).digest("hex");
    all.update(f);
    all.update(bytes);
  }
  const version = all.digest("hex").slice(0, 16);
  // "./" is how the page is opened (the same bytes as index.html); the rest as the page and
  // the worker ask for them.
  const urls = ["./", ...files.map(([f]) => `./${f}`)];
  if (hashes["./index.html"]) hashes["./"] = hashes["./index.html"];
  writeFileSync(join(pkgDir, "precache.js"),
    `// Written by scripts/build-precache.mjs: what the service worker caches for offline use.\n` +
    `self.PRECACHE = ${JSON.stringify({ version, urls, hashes }, null, 1)};\n`);
  return { version, count: urls.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const site = process.argv[2] === "--site" ? process.argv[3] : null;
  const [pageDir, pkgDir] = site ? [site, join(site, "pkg")] : [join(root, "www"), join(root, "pkg")];
  const { version, count } = writePrecache(appFiles(pageDir, pkgDir), pkgDir);
  console.log(`${join(pkgDir, "precache.js")}: version ${version}, ${count} files`);
}
