// The docs against the tree: every relative link and #anchor in README.md, ARCHITECTURE.md and
// docs/*.md resolves; every CLI subcommand (read from clap's derive under src/bin/) is in
// docs/cli.md; every call of window.vanillanet (read from where www/ defines it) is in
// docs/api.md; the measured tables equal those scripts/docs-tables.mjs makes from results/.
// Plain Node: no browser, no wasm, no build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { render } from "../../scripts/docs-tables.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const read = (f) => readFileSync(f, "utf8");

function walk(dir, keep, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, keep, out);
    else if (keep(path)) out.push(path);
  }
  return out;
}

const docs = () => [join(root, "README.md"), join(root, "ARCHITECTURE.md"), ...walk(join(root, "docs"), (f) => f.endsWith(".md"))];

/** Markdown without fenced code blocks and inline code: links and headings there are text. */
function prose(text) {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "``");
}

/** GitHub's anchors for a file's headings: lower case, punctuation dropped, spaces to
 * hyphens, a repeated one numbered from -1. */
export function anchors(text) {
  const seen = new Map();
  const out = new Set();
  for (const [, heading] of text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const words = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, "");
    const slug = words.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

/** The relative links of a markdown file (`[text](target)`, images too, and `src="..."`). */
export function links(text) {
  const body = prose(text);
  const found = [...body.matchAll(/!?\[(?:[^\]`]|`[^`]*`)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  found.push(...[...body.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]));
  return found.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** What in `file` does not resolve: a missing file, or an anchor no heading gives. */
export function brokenLinks(file) {
  const broken = [];
  for (const target of links(read(file))) {
    const [path, anchor] = target.split("#");
    const to = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
    if (!existsSync(to)) {
      broken.push(`${target}: no file ${relative(root, to)}`);
    } else if (anchor !== undefined) {
      if (!to.endsWith(".md")) broken.push(`${target}: an anchor into a file that is not markdown`);
      else if (!anchors(read(to)).has(decodeURIComponent(anchor))) broken.push(`${target}: no heading gives #${anchor} in ${relative(root, to)}`);
    }
  }
  return broken;
}

test("every relative link and anchor in the docs resolves", () => {
  const files = docs();
  assert.ok(files.length >= 5, `the README, ARCHITECTURE.md and docs/: ${files.map((f) => relative(root, f))}`);
  const broken = files.flatMap((f) => brokenLinks(f).map((b) => `${relative(root, f)}: ${b}`));
  assert.deepEqual(broken, []);
});

test("the link check finds what is broken", () => {
  const text = "# A title\n## Two words, and `code`\n[ok](#two-words-and-code) [gone](#nowhere) [file](no-such-file.md) `[code](#x)`\n```\n[fenced](#y)\n```\n";
  assert.deepEqual([...anchors(text)], ["a-title", "two-words-and-code"]);
  assert.deepEqual(links(text), ["#two-words-and-code", "#nowhere", "no-such-file.md"]);
});

test("the README is a front door: at most 150 lines, the screenshot, every docs file in its index", () => {
  const readme = read(join(root, "README.md"));
  const lines = readme.split("\n").length - (readme.endsWith("\n") ? 1 : 0);
  assert.ok(lines <= 150, `README.md has ${lines} lines`);
  assert.match(readme, /!\[[^\]]*\]\(docs\/screenshot\.png\)/);
  const indexed = new Set(links(readme).map((l) => l.split("#")[0]));
  const unlisted = readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md") && !indexed.has(`docs/${f}`));
  assert.deepEqual(unlisted, [], "docs files the README does not link to");
});

// ---- the CLI's subcommands, from clap's derive -------------------------------------------

/** The text from `open` (an index of `(`, `[` or `{`) to its closing bracket, comments and
 * strings skipped; the index past it. */
function balanced(text, open) {
  const pairs = { "(": ")", "[": "]", "{": "}" };
  const stack = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") i = text.indexOf("\n", i) === -1 ? text.length : text.indexOf("\n", i);
    else if (c === "/" && text[i + 1] === "*") i = text.indexOf("*/", i + 2) + 1;
    else if (c === '"' || c === "'" || c === "`") {
      // A Rust lifetime or char ('a) and JS strings alike: skip to the closing quote on the line.
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      if (text[j] === c || c !== "'") i = j;
    } else if (pairs[c]) stack.push(pairs[c]);
    else if (c === stack.at(-1)) {
      stack.pop();
      if (!stack.length) return { body: text.slice(open + 1, i), end: i + 1 };
    }
  }
  throw new Error(`unbalanced from ${text.slice(open, open + 80)}`);
}

const kebab = (name) => name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

/** Every variant of every `#[derive(Subcommand)]` enum under src/bin/, as clap names it. */
export function subcommands() {
  const names = [];
  for (const file of walk(join(root, "src", "bin"), (f) => f.endsWith(".rs"))) {
    const text = read(file).replace(/^\s*\/\/.*$/gm, "");
    for (const m of text.matchAll(/#\[derive\([^\]]*\bSubcommand\b[^\]]*\)\][\s\S]*?\benum\s+\w+[^{]*\{/g)) {
      const { body } = balanced(text, m.index + m[0].length - 1);
      let i = 0;
      let rename = null;
      while (i < body.length) {
        const rest = body.slice(i);
        const space = rest.match(/^[\s,]+/);
        if (space) {
          i += space[0].length;
          continue;
        }
        if (rest.startsWith("#[")) {
          const attr = balanced(body, i + 1);
          rename = attr.body.match(/^\s*(?:command|clap)\s*\([^)]*\bname\s*=\s*"([^"]+)"/)?.[1] ?? rename;
          i = attr.end;
          continue;
        }
        const ident = rest.match(/^[A-Za-z_]\w*/);
        if (!ident) throw new Error(`cannot read the enum at: ${rest.slice(0, 80)}`);
        names.push(rename ?? kebab(ident[0]));
        rename = null;
        i += ident[0].length;
        const after = body.slice(i).match(/^\s*/)[0].length;
        if ("({".includes(body[i + after])) i = balanced(body, i + after).end;
      }
    }
  }
  return names;
}

test("every CLI subcommand is documented in docs/cli.md", () => {
  const names = subcommands();
  assert.ok(names.length >= 11 && names.includes("train") && names.includes("export-onnx"), `subcommands read from src/bin/: ${names}`);
  const cli = read(join(root, "docs", "cli.md"));
  const missing = names.filter((n) => !new RegExp(`\`vanillanet (?:[a-z-]+ )*${n}\\b`).test(cli));
  assert.deepEqual(missing, [], "subcommands with no `vanillanet NAME ...` in docs/cli.md");
});

// ---- window.vanillanet, from where the page defines it -----------------------------------

const www = join(root, "www");
const pageFiles = () => walk(www, (f) => f.endsWith(".js") && !/[\\/](vendor|pkg|data|i18n)[\\/]/.test(relative(www, f)));

/** The object literal `ident` names in `file`: defined there, or followed through imports
 * and re-exports. Null when it is not an object literal (a function, a value). */
function objectNamed(file, ident, depth = 0) {
  if (depth > 8 || !existsSync(file)) return null;
  const text = read(file);
  const def = new RegExp(`(?:^|[\\s;])(?:export\\s+)?(?:const|let|var)\\s+${ident}\\s*=\\s*\\{`, "m").exec(text);
  if (def) return { file, body: balanced(text, def.index + def[0].length - 1).body };
  for (const m of text.matchAll(/(?:import|export)\s*\{([^}]*)\}\s*from\s*["']([^"']+)["']/g)) {
    for (const spec of m[1].split(",").map((s) => s.trim()).filter(Boolean)) {
      const [imported, local = imported] = spec.split(/\s+as\s+/);
      if (local === ident) return objectNamed(resolve(dirname(file), m[2]), imported, depth + 1);
    }
  }
  return null;
}

/** The calls of an object literal's body, nested objects as `outer.inner`. */
function members(file, body, prefix = "") {
  const out = [];
  let i = 0;
  const entryEnd = (from) => {
    // The end of an entry's value: the next comma at depth 0.
    let j = from;
    while (j < body.length && body[j] !== ",") {
      if ("([{".includes(body[j])) j = balanced(body, j).end;
      else if (body[j] === "/" && body[j + 1] === "/") j = body.indexOf("\n", j);
      else if (body[j] === "/" && body[j + 1] === "*") j = body.indexOf("*/", j) + 2;
      else if (`"'\``.includes(body[j])) j = body.indexOf(body[j], j + 1) + 1;
      else j++;
    }
    return j + 1;
  };
  while (i < body.length) {
    const rest = body.slice(i);
    const skip = rest.match(/^(?:\s+|,|\/\/[^\n]*|\/\*[\s\S]*?\*\/)/);
    if (skip) {
      i += skip[0].length;
      continue;
    }
    const spread = rest.match(/^\.\.\.\s*([A-Za-z_$][\w$]*)/);
    if (spread) {
      const obj = objectNamed(file, spread[1]);
      if (obj) out.push(...members(obj.file, obj.body, prefix));
      i = entryEnd(i + spread[0].length);
      continue;
    }
    const key = rest.match(/^(?:(?:async|get|set)\s+)?\*?\s*(["']?)([A-Za-z_$][\w$]*)\1\s*(:|\(|,|$)/);
    if (!key) throw new Error(`cannot read the object at: ${rest.slice(0, 80)}`);
    const name = key[2];
    let valueAt = i + key[0].length;
    if (key[3] === ":") {
      const value = body.slice(valueAt).match(/^\s*/)[0].length + valueAt;
      const ident = body.slice(value).match(/^([A-Za-z_$][\w$]*)\s*(?:,|$)/);
      if (body[value] === "{") {
        out.push(...members(file, balanced(body, value).body, `${prefix}${name}.`));
      } else if (ident && objectNamed(file, ident[1])) {
        const obj = objectNamed(file, ident[1]);
        out.push(...members(obj.file, obj.body, `${prefix}${name}.`));
      } else {
        out.push(prefix + name);
      }
      i = entryEnd(value);
    } else if (key[3] === "(") {
      out.push(prefix + name);
      valueAt = balanced(body, valueAt - 1).end;
      i = entryEnd(valueAt);
    } else {
      // Shorthand: an object defined elsewhere, or a function.
      const obj = objectNamed(file, name);
      if (obj) out.push(...members(obj.file, obj.body, `${prefix}${name}.`));
      else out.push(prefix + name);
      i = valueAt;
    }
  }
  return out;
}

/** Every call of `window.vanillanet`, read from the object the page assigns to it and from
 * later assignments of its properties. */
export function apiCalls() {
  const calls = new Set();
  let defined = 0;
  for (const file of pageFiles()) {
    const text = read(file);
    for (const m of text.matchAll(/window\.vanillanet\s*=\s*\{/g)) {
      defined++;
      for (const c of members(file, balanced(text, m.index + m[0].length - 1).body)) calls.add(c);
    }
    for (const m of text.matchAll(/window\.vanillanet\.([A-Za-z_$][\w$]*)\s*=(?!=)/g)) calls.add(m[1]);
  }
  assert.equal(defined, 1, "one place in www/ assigns window.vanillanet = {...}");
  return [...calls];
}

test("every window.vanillanet call is documented in docs/api.md", () => {
  const calls = apiCalls();
  for (const c of ["status", "train", "fuse", "classify", "own.addClass", "camera.start", "inside.decay", "study.run", "bench.latency", "ready"]) {
    assert.ok(calls.includes(c), `${c} among the calls read from www/: ${calls}`);
  }
  const api = read(join(root, "docs", "api.md"));
  const missing = calls.filter((c) => !new RegExp(`\`${c.replace(/[.$]/g, "\\$&")}[(\`]`).test(api));
  assert.deepEqual(missing, [], "calls with no `name(...)` in docs/api.md");
});

test("the measured tables are those results/*.json give (node scripts/docs-tables.mjs)", () => {
  const files = walk(join(root, "docs"), (f) => f.endsWith(".md")).filter((f) => read(f).includes("<!-- table:"));
  assert.ok(files.some((f) => f.endsWith("benchmarks.md")), "docs/benchmarks.md holds generated tables");
  for (const f of files) assert.equal(read(f), render(read(f)), `${relative(root, f)}: run node scripts/docs-tables.mjs`);
});
