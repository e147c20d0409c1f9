// Accessibility: axe-core finds no serious or critical problem in the page's main states; every
// control is reached by Tab; a whole run (data, options, train, evaluate, fuse, classify) is
// driven by the keyboard alone; at a phone's 390x844 nothing scrolls sideways, idle and after the
// run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { axe, open, outDir, png, waitFor, waitStatus } from "./harness.mjs";

/** The controls a keyboard user must be able to reach: visible and enabled. */
const CONTROLS = `[...document.querySelectorAll("button, input, select, [tabindex]")]
  .filter((e) => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length && getComputedStyle(e).visibility !== "hidden")
  // A radio group is one stop for Tab (its checked button); arrows move within it.
  .filter((e) => e.type !== "radio" || e.checked || !document.querySelector(\`input[name="\${e.name}"]:checked\`))`;

/** At a phone's 390x844: nothing scrolls sideways and no control is past the right edge. */
async function fitsAPhone(page, state) {
  // The charts follow their box's width from a ResizeObserver, which runs at the next frame
  // after the viewport changes: measure once they have (up to 3 s), not in between.
  await page.waitForFunction(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(
    document.documentElement.scrollWidth <= document.documentElement.clientWidth)))), null, { timeout: 3000 }).catch(() => {});
  const f = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll("section button, section input, section select, section canvas, section video, header *")]
      .filter((e) => e.getClientRects().length && !e.closest(".scroll"))
      .filter((e) => e.getBoundingClientRect().right > width + 1)
      .map((e) => e.id || e.name || e.textContent.slice(0, 30));
    return { scroll: document.documentElement.scrollWidth, width, out };
  });
  assert.ok(f.scroll <= f.width, `${state}: the page is ${f.scroll}px wide in a ${f.width}px viewport`);
  assert.deepEqual(f.out, [], `${state}: controls past the right edge`);
}

const PHONE = { width: 390, height: 844 };

// One page for both (each run trains an epoch): the keyboard run, then the phone's width in the
// state it leaves.
test("no serious axe findings; every control reached by Tab; a whole run by keyboard; a phone's 390x844", { timeout: 600_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false });
  try {
    await axe(page, "idle");
    const desktop = page.viewportSize();
    await page.setViewportSize(PHONE);
    await fitsAPhone(page, "idle");
    await page.setViewportSize(desktop);
    // Tab through the page: every control gets the focus, in a visible way.
    const count = await page.evaluate(`${CONTROLS}.length`);
    await page.evaluate(`${CONTROLS}.forEach((e, i) => { e.dataset.reach = i; })`);
    await page.evaluate(() => document.activeElement?.blur());
    const reached = new Set();
    for (let i = 0; i < count + 40 && reached.size < count; i++) {
      await page.keyboard.press("Tab");
      const seen = await page.evaluate(() => {
        const e = document.activeElement;
        return e?.dataset.reach === undefined ? null : [e.dataset.reach, getComputedStyle(e).outlineStyle];
      });
      if (seen) {
        reached.add(seen[0]);
        assert.notEqual(seen[1], "none", `focus is visible on control ${seen[0]}`);
      }
    }
    const missed = await page.evaluate((seen) => [...document.querySelectorAll("[data-reach]")].filter((e) => !seen.includes(e.dataset.reach)).map((e) => e.outerHTML.slice(0, 120)), [...reached]);
    assert.deepEqual(missed, [], `all ${count} controls reached by Tab`);

    // Data: arrow keys in the dataset radio group.
    await page.focus('input[name="dataset"][value="fashion-mnist"]');
    await page.keyboard.press("ArrowRight");
    await waitFor(page, () => /^mnist:/.test(document.querySelector("#data-summary").textContent));
    // Options: type into the form.
    await page.focus('select[name="preset"]');
    await page.keyboard.type("nano");
    for (const [name, value] of [["epochs", "1"], ["decayEpochs", "1"], ["batchSize", "64"], ["learningRate", "0.01"]]) {
      await page.focus(`input[name="${name}"]`);
      await page.keyboard.press("Control+A");
      await page.keyboard.type(value);
      await page.keyboard.press("Tab");
    }
    await page.focus("#train");
    await page.keyboard.press("Enter");
    await waitStatus(page, "(s) => s.state === 'running' && s.step >= 2");
    await axe(page, "training");
    assert.equal(await page.evaluate(() => window.vanillanet.status().state), "running");
    const done = await waitStatus(page, "(s) => s.state === 'finished'");
    // 7,790 of MNIST's 8,500 images, the rest held out for validation.
    assert.equal(done.step, 122, "nano_28, one epoch of MNIST at batch 64, as typed");
    assert.match(await page.textContent("#chart-summary"), /^Step 122 of 122, lambda 1\.000, loss [\d.]+, recent train accuracy [\d.]+%, test accuracy [\d.]+%, test accuracy of the weight average [\d.]+%, validation accuracy at the last epoch's end [\d.]+% \(weight average [\d.]+%\), distance from linear stem [\d.]+, block 1 [\d.]+, block 2 [\d.]+, head [\d.]+ \(finished\)\.$/);

    // Evaluation: a cell of the matrix opens by keyboard.
    await waitFor(page, () => document.querySelectorAll("#confusion .cell").length === 100);
    // (Row 2 is class 1; its first cell is the row's heading, so td 3 is "answered 1".)
    await page.focus("#confusion tbody tr:nth-child(2) td:nth-child(3) .cell");
    await page.keyboard.press("Enter");
    await waitFor(page, () => /^True 1, answered 1/.test(document.querySelector("#gallery-title").textContent));
    assert.equal(await page.evaluate(() => document.activeElement.dataset.focus), "cell-1-1", "the focus stays on the cell");
    await axe(page, "evaluation open");

    // Fuse, then classify a picked file: the picker opens from its button.
    await page.focus("#fuse");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#fuse-table:not([hidden])");
    // Enter on the button opens the file input's picker (whether headless Chromium then shows a
    // chooser depends on its window focus, so the input's own click is what is checked), and the
    // file goes in through that input.
    await page.evaluate(() => document.getElementById("classify-files").addEventListener("click", () => { window.pickerOpened = true; }, { once: true }));
    await page.focus('[data-picks="classify-files"]');
    await page.keyboard.press("Enter");
    await waitFor(page, () => window.pickerOpened);
    await page.setInputFiles("#classify-files", { name: "grey.png", mimeType: "image/png", buffer: png(28, [120, 120, 120]) });
    await waitFor(page, () => document.querySelectorAll("#predictions .prediction .bar").length === 5);
    await axe(page, "fused with predictions");

    // A phone: every section usable without sideways scrolling; the wide parts scroll inside
    // their own region instead (and are reachable by keyboard).
    await page.setViewportSize(PHONE);
    await page.evaluate(() => new Promise(requestAnimationFrame));
    await fitsAPhone(page, "trained, evaluated, fused, classified");
    await page.screenshot({ path: join(outDir, "phone.png"), fullPage: true });
    assert.equal(await page.getAttribute("#confusion", "tabindex"), "0");
    await axe(page, "phone");
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

