// The page's modules use each other one way: worker -> events -> state -> views, and actions
// -> worker. Read from the import lines of www/ (the worker's own files aside): the event
// reducer imports no action and nothing that talks to the worker; no view imports another view
// or the event layer; the actions import no view.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const www = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "www");

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!["vendor", "worker", "data", "i18n"].includes(name)) walk(path, out);
    } else if (name.endsWith(".js") && !["worker.js", "sw.js"].includes(name)) out.push(path);
  }
  return out;
}

/** Each page module (as `views/x.js`) with the modules it imports (static and dynamic). */
const graph = new Map(walk(www).map((file) => {
  // Without block comments: a JSDoc type's import("...") is no dependency at run time.
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2]);
  const local = specs.filter((s) => s.startsWith(".")).map((s) => relative(www, resolve(dirname(file), s)).split("\\").join("/"));
  return [relative(www, file).split("\\").join("/"), [...new Set(local)]];
}));

test("the import lines are read (the test sees the page)", () => {
  assert.ok(graph.get("app.js").includes("listen.js"));
  assert.ok(graph.get("views/training.js").includes("actions.js"));
  assert.ok(graph.size > 30, `${graph.size} modules`);
});

test("the event reducer calls nothing: it imports the state and the strings only", () => {
  assert.deepEqual(graph.get("events.js").sort(), ["i18n.js", "state.js"]);
  assert.deepEqual(graph.get("state.js"), ["i18n.js"]);
});

test("no view imports another view, the reducer or the event layer", () => {
  const bad = [];
  for (const [file, imports] of graph) {
    if (!file.startsWith("views/")) continue;
    for (const i of imports) if (i.startsWith("views/") || i === "events.js" || i === "listen.js") bad.push(`${file} -> ${i}`);
  }
  assert.deepEqual(bad, []);
});

test("the actions import no view and no event layer", () => {
  const bad = [];
  for (const [file, imports] of graph) {
    if (file !== "actions.js" && !file.startsWith("actions/")) continue;
    for (const i of imports) if (i.startsWith("views/") || i === "events.js" || i === "listen.js" || i === "app.js") bad.push(`${file} -> ${i}`);
  }
  assert.deepEqual(bad, []);
});

test("the pure modules (link reading, checks, options, names) reach no worker", () => {
  const reach = (file, seen = new Set()) => {
    if (seen.has(file)) return seen;
    seen.add(file);
    for (const i of graph.get(file) ?? []) reach(i, seen);
    return seen;
  };
  for (const pure of ["link.js", "checks.js", "options.js", "names.js", "events.js"]) {
    const reached = [...reach(pure)];
    assert.ok(!reached.includes("client.js") && !reached.includes("rpc.js"), `${pure} reaches ${reached.join(", ")}`);
  }
});
