// A shared link is made to be sent to strangers: every value in it goes through the form's
// checks (read as people write them, then Rust's TrainOptions::check) before it touches
// anything; what fails is named and not applied, never replaced; the previews stay bounded; a
// huge query, markup and prototype keys leave the page usable at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, waitFor } from "./harness.mjs";

const field = (page, name) => page.inputValue(`#options [name="${name}"]`);
const messages = (page) => page.textContent("#messages");

test("a hostile link: each value checked, refused ones named, the page usable", { timeout: 180_000 }, async () => {
  const markup = '"><img src=x onerror="window.pwned=1">';
  const link = `?backend=cpu&epochs=100000000&seed=1e400&deepTraining=1&perStep=off&learningRate=1e-3&batchSize=3.5` +
    `&momentum=Infinity&weightDecay=&preset=${encodeURIComponent(markup)}&dataset=typo&__proto__=1&constructor=x&toString=y`;
  const t0 = Date.now();
  const { page, errors, close } = await open({ webgpu: false, query: link });
  try {
    const loadMs = Date.now() - t0;
    // Applied: as people write them.
    assert.equal(await field(page, "deepTraining"), "true", "deepTraining=1 reads as on");
    assert.equal(await field(page, "perStep"), "false", "perStep=off reads as off");
    assert.equal(await field(page, "learningRate"), "0.001", "1e-3 reads as a number");
    // Refused, not replaced: the form keeps its own values.
    assert.equal(await field(page, "epochs"), "2");
    assert.equal(await field(page, "seed"), "42");
    assert.equal(await field(page, "batchSize"), "32");
    assert.equal(await field(page, "momentum"), "0.9");
    assert.equal(await field(page, "weightDecay"), "0.05");
    assert.equal(await field(page, "preset"), "fine_wide_28");
    const text = await messages(page);
    assert.match(text, /Epochs "100000000" \(epochs 100000000 is out of range: 1 to 1000\)/, "Rust's reason for the epochs");
    assert.match(text, /Seed "1e400" \(too large to be represented exactly\)/);
    assert.match(text, /Batch size "3\.5" \(not a whole number\)/);
    assert.match(text, /Momentum "Infinity" \(not a number\)/);
    assert.match(text, /Weight decay "" \(not a number\)/);
    assert.match(text, /Preset "\\"><img src=x onerror=\\"window\.pwned=1\\">" \(not one of /);
    assert.match(text, /dataset "typo" \(not one of fashion-mnist, mnist\)/);
    assert.match(text, /the link's parameters "__proto__", "constructor", "toString" mean nothing here and were ignored/);
    assert.match(text, /the link set Deep training true, Lambda moves false, Learning rate 0\.001/);
    assert.match(await page.textContent("#data-summary"), /^fashion-mnist/);
    // Markup is text: no element made, nothing run.
    assert.equal(await page.locator("#messages img").count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    // Usable: the preview is bounded and a step trains with the form's (checked) options.
    const points = await page.evaluate(() => window.vanillanet.charts());
    assert.ok(points.lambda > 0 && points.lambda <= 2001, `a bounded schedule preview: ${JSON.stringify(points)}`);
    const report = await page.evaluate(() => window.vanillanet.step({ preset: "nano_28", batchSize: 16 }));
    assert.equal(report.globalStep, 1);
    assert.equal(await page.evaluate(() => window.vanillanet.status().step), 1);
    console.log(`hostile link: page ready in ${loadMs} ms`);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test("a long link, a bad backend and the largest epochs: refused or bounded at once", { timeout: 180_000 }, async () => {
  // A query of 1.5 MB (browsers send up to 2 MB): nothing in it is read, and it says so.
  const huge = `?epochs=5&junk=${"A".repeat(1_500_000)}`;
  const { page, errors, close } = await open({ webgpu: false, query: huge });
  try {
    const started = Date.now();
    await waitFor(page, () => /the link is \d+ characters long; nothing in it was used/.test(document.querySelector("#messages").textContent), null, { timeout: 1000 });
    assert.ok(Date.now() - started < 1000);
    assert.equal(await field(page, "epochs"), "2");
    assert.equal((await page.evaluate(() => window.vanillanet.step({ preset: "nano_28", batchSize: 16 }))).globalStep, 1);

    // A saved model would keep the next link from applying its options: reset first.
    await page.evaluate(() => window.vanillanet.reset());
    await waitFor(page, () => new Promise((resolve) => {
      const r = indexedDB.open("vanillanet", 1);
      r.onsuccess = () => {
        const get = r.result.transaction("records").objectStore("records").get("training");
        get.onsuccess = () => resolve(get.result === undefined);
      };
    }));

    // An unknown backend is refused by name, and the page starts on auto's choice.
    await page.goto(page.url().split("?")[0] + "?backend=quantum&epochs=1000&decayEpochs=1000&preset=nano_28");
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
    const text = await messages(page);
    assert.match(text, /backend "quantum" \(not one of auto, webgpu, cpu\)/);
    assert.equal(await field(page, "epochs"), "1000");
    // The largest epochs allowed: the lambda preview still holds at most 2,001 points.
    await waitFor(page, () => window.vanillanet.charts().lambda > 0);
    const points = await page.evaluate(() => window.vanillanet.charts().lambda);
    assert.ok(points <= 2001, `lambda preview points: ${points}`);
    assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  } finally {
    await close();
  }
});
