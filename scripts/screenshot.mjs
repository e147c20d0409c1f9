// Refreshes docs/screenshot.png, the README's picture of the page mid-training: Fashion-MNIST,
// every option at its default, the CPU backend in headless Chromium (the browser tests' harness),
// Train pressed, and the page taken from its header to the loss and accuracy charts once they
// show some steps and test evaluations. Then the run is paused and nothing is kept.
// Usage: node scripts/screenshot.mjs [out.png] [steps, default 600]  (after scripts/build-web.sh)
import { join } from "node:path";
import { open, root, waitFor, waitStatus } from "../tests/browser/harness.mjs";

const out = process.argv[2] ?? join(root, "docs", "screenshot.png");
const steps = Number(process.argv[3] ?? 600);
const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu", viewport: { width: 1280, height: 1000 } });
try {
  await page.evaluate(() => window.vanillanet.loadDataset("fashion-mnist"));
  await page.click("#train");
  await waitStatus(page, `(s) => s.step >= ${steps}`, 900_000);
  // A test accuracy on the chart beside the running train accuracy (every 50 steps by default).
  await waitFor(page, () => window.vanillanet.history().testAccuracy.length >= 2, null, { timeout: 300_000 });
  // The views redraw at most every 250 ms while training runs.
  await page.waitForTimeout(600);
  const bottom = await page.evaluate(() => {
    const r = document.getElementById("curves-panel").getBoundingClientRect();
    return Math.ceil(r.bottom + window.scrollY + 12);
  });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width, height: bottom } });
  const s = await page.evaluate(() => window.vanillanet.status());
  await page.evaluate(() => window.vanillanet.pause());
  console.log(`${out}: step ${s.step}, epoch ${s.epoch}, lambda ${s.lambda.toFixed(3)}, loss ${s.loss.toFixed(3)}, test accuracy ${s.testAccuracy}`);
  if (errors.length) console.log(`console errors: ${errors.join("\n")}`);
} catch (e) {
  console.error(e.message);
  process.exitCode = 1;
} finally {
  await close();
}
// The harness keeps one browser for every test and closes it only when a test run ends.
process.exit();
