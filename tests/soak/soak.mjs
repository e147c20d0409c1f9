//! The monkey soak of the page: `node tests/soak/soak.mjs --seed N --minutes M [--replay log.json]
//! [--out results/soak-....json] [--log log.json] [--quiet]`. Drives the page with random UI
//! actions, API calls and faults from the seed, checks the invariants after each, and writes a
//! summary; a failing run prints its seed and its action log (and writes the log), which
//! `--replay` runs again action for action.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { outDir } from "../browser/harness.mjs";
import { soak } from "./run.mjs";

function parse(argv) {
  const o = { seed: 1, minutes: 2, replay: null, out: null, log: null, quiet: false, maxActions: Infinity };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    const value = () => { i++; if (v === undefined) throw new Error(`${k} needs a value`); return v; };
    if (k === "--seed") o.seed = Number(value());
    else if (k === "--minutes") o.minutes = Number(value());
    else if (k === "--replay") o.replay = value();
    else if (k === "--out") o.out = value();
    else if (k === "--log") o.log = value();
    else if (k === "--max-actions") o.maxActions = Number(value());
    else if (k === "--quiet") o.quiet = true;
    else throw new Error(`unknown argument ${k} (--seed N --minutes M [--replay log.json] [--out summary.json] [--log log.json] [--max-actions N] [--quiet])`);
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed >= 2 ** 32) throw new Error(`--seed must be a whole number from 0 to 2^32 - 1, got ${o.seed}`);
  if (!(o.minutes > 0)) throw new Error(`--minutes must be above 0, got ${o.minutes}`);
  return o;
}

/** Runs the soak as the command line asks; answers the summary (failures in `failures`). */
export async function main(argv) {
  const o = parse(argv);
  const replayed = o.replay ? JSON.parse(readFileSync(o.replay, "utf8")) : null;
  const seed = replayed?.seed ?? o.seed;
  const { summary, log } = await soak({ seed, minutes: o.minutes, replay: replayed?.log ?? null, maxActions: o.maxActions, say: o.quiet ? () => {} : (line) => console.log(line) });
  if (o.replay) summary.replayed = o.replay;
  const logFile = o.log ?? join(outDir, `soak-${seed}-log.json`);
  mkdirSync(dirname(logFile), { recursive: true });
  writeFileSync(logFile, JSON.stringify({ seed, log }));
  if (o.out) {
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, `${JSON.stringify({ ...summary, date: new Date().toISOString() }, null, 2)}\n`);
  }
  console.log(`soak: seed ${seed}, ${summary.actionsRun} actions in ${summary.seconds} s, ${summary.failures.length} failing`);
  if (summary.failures.length) {
    console.log(`FAILED with seed ${seed}; the action log is ${logFile} (replay: node tests/soak/soak.mjs --replay ${logFile})`);
    for (const f of summary.failures) console.log(`  #${f.i} ${f.kind} ${JSON.stringify(f.args).slice(0, 300)}\n    ${f.failures.join("\n    ")}`);
    const upTo = summary.failures[0].i;
    console.log(`the actions up to the first failure:\n${log.slice(0, upTo + 1).map((l) => `  #${l.i} ${l.kind} ${JSON.stringify(l.args).slice(0, 200)}`).join("\n")}`);
  }
  return summary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((s) => process.exit(s.failures.length ? 1 : 0), (e) => {
    console.error(e);
    process.exit(2);
  });
}
