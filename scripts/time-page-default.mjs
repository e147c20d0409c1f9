// Times the page's quick default as a person would run it: Fashion-MNIST, every training option
// at its default, the CPU backend in headless Chromium (the threaded build when the page is
// cross-origin isolated), from Train to finished; then the fused net's test accuracy (the weight
// average, what Fuse takes). Prints the figures and writes them to a JSON file.
// Usage: node scripts/time-page-default.mjs [out.json] [link options, e.g. "preset=small_28&epochs=3"]
// (after scripts/build-web.sh; the options as a shared link gives them, so the form checks them)
import { writeFileSync } from "node:fs";
import { open, waitStatus } from "../tests/browser/harness.mjs";

const out = process.argv[2] ?? "page-default.json";
const linked = process.argv[3] ?? "";
const { page, errors, close } = await open({ webgpu: false, query: `?backend=cpu${linked ? `&${linked}` : ""}` });
try {
  await page.evaluate(() => window.vanillanet.loadDataset("fashion-mnist"));
  const options = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#options [name]")].map((f) => [f.name, f.value])));
  const started = Date.now();
  await page.evaluate(() => window.vanillanet.train({}));
  const status = await waitStatus(page, "(s) => s.state === 'finished'", 3_600_000);
  const seconds = (Date.now() - started) / 1000;
  const fused = await page.evaluate(() => window.vanillanet.fuse());
  const accuracy = (await page.evaluate(() => window.vanillanet.evaluation({ fused: true }))).accuracy;
  const result = {
    what: `the page's ${linked ? `training with ${linked}` : "quick default"} on Fashion-MNIST, Train to finished, CPU backend, headless Chromium`,
    date: new Date().toISOString().slice(0, 10), options, threads: status.threads, crossOriginIsolated: status.crossOriginIsolated,
    steps: status.step, seconds, minutes: seconds / 60, testAccuracyFused: accuracy, fusedMaxLogitDiff: fused.maxLogitDiff, errors,
  };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`${options.preset}, ${options.epochs} epochs, batch ${options.batchSize}: ${status.step} steps in ${(seconds / 60).toFixed(1)} min on ${status.threads} thread(s); fused test accuracy ${(accuracy * 100).toFixed(2)}%`);
} catch (e) {
  console.error(e.message);
  process.exitCode = 1;
} finally {
  await close();
}
// The harness keeps one browser for every test and closes it only when a test run ends.
process.exit();
