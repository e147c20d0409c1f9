// Writes a self-contained static site to dist/ (after scripts/build-web.sh): the page, the
// worker, the wasm, the datasets and the vendored libraries, all referenced by relative paths,
// the Content-Security-Policy as a meta tag in each page. Any static host serves it as it is,
// from any folder. Usage: node scripts/build-dist.mjs [out-dir]
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = process.argv[2] ?? join(root, "dist");
for (const needed of ["pkg/vanillanet_bg.wasm", "www/data", "www/vendor"]) {
  if (!existsSync(join(root, needed))) {
    console.error(`${needed} is missing: run bash scripts/build-web.sh first`);
    process.exit(1);
  }
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(root, "www"), out, { recursive: true });
cpSync(join(root, "pkg"), join(out, "pkg"), { recursive: true, filter: (src) => !src.endsWith(".gitignore") });
const size = (dir) => readdirSync(dir).reduce((n, f) => {
  const p = join(dir, f);
  return n + (statSync(p).isDirectory() ? size(p) : statSync(p).size);
}, 0);
console.log(`wrote ${out} (${(size(out) / 1e6).toFixed(1)} MB): serve it as static files, from any folder`);
