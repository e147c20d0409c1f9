// English and Korean: one table of strings per language with the same keys; the page in Korean
// from the browser's language with no English left in it (beyond names and data), numbers
// formatted for the locale; a switch to English that is kept across reloads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import en from "../../www/i18n/en.js";
import ko from "../../www/i18n/ko.js";
import enPage from "../../www/i18n/en/page.js";
import enExperiments from "../../www/i18n/en/experiments.js";
import koPage from "../../www/i18n/ko/page.js";
import koExperiments from "../../www/i18n/ko/experiments.js";
import { open, outDir, png, waitFor, waitStatus } from "./harness.mjs";

test("each language's parts hold each key once, the same keys in both languages", () => {
  for (const [a, b] of [[enPage, enExperiments], [koPage, koExperiments]]) {
    assert.deepEqual(Object.keys(a).filter((k) => k in b), []);
  }
  assert.deepEqual(Object.keys(koPage).sort(), Object.keys(enPage).sort());
});

test("the Korean table has every English key, of the same kind", () => {
  assert.deepEqual(Object.keys(ko).sort(), Object.keys(en).sort());
  for (const key of Object.keys(en)) {
    assert.equal(typeof ko[key], typeof en[key], key);
    const args = { n: 3, count: "3", name: "X", reason: "R", parts: ["a"], state: "s", what: "w" };
    const text = typeof ko[key] === "function" ? ko[key](args) : ko[key];
    assert.ok(text.length > 0, key);
  }
});

// Names that stay as they are in any language: the product, the formats, the libraries, the
// model's own terms, units.
const NAMES = new Set(`VanillaNet WebGPU CPU wasm MNIST Fashion ReLU conv act_num BN AdamW SGD PyTorch ONNX onnxruntime
  safetensors json JSON CSV pth vanillanet_5 ImageNet ms MB https localhost top`.split(/\s+/));

/** Every English word in the page's text and its labels, apart from names, data (class,
 * dataset, preset and model names, given) and text marked as English (engine messages). */
function englishWords(page, data) {
  return page.evaluate((data) => {
    const out = new Set();
    const visit = (text) => {
      let rest = text;
      for (const d of data) rest = rest.split(d).join(" ");
      for (const w of rest.match(/[A-Za-z][A-Za-z0-9_]+/g) ?? []) out.add(w);
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const parent = n.parentElement;
      if (parent.closest('[lang="en"], script, style, code')) continue;
      visit(n.textContent);
    }
    for (const el of document.querySelectorAll("[title], [aria-label], [placeholder], img[alt]")) {
      if (el.closest('[lang="en"]')) continue;
      for (const a of ["title", "aria-label", "placeholder", "alt"]) if (el.getAttribute(a)) visit(el.getAttribute(a));
    }
    visit(document.title);
    return [...out];
  }, data).then((words) => words.filter((w) => !NAMES.has(w)));
}

// Seen in Firefox: "WebGPU is not available here; using the CPU no WebGPU adapter was found".
test("a message's detail reads on from its text", { timeout: 120_000 }, async () => {
  const { page, close } = await open({ webgpu: false });
  try {
    await waitFor(page, () => /adapter was found/.test(document.querySelector("#messages").textContent));
    assert.match(await page.textContent("#messages"), /WebGPU is not available here; using the CPU: no WebGPU adapter was found/);
  } finally {
    await close();
  }
});

test("the page in Korean, from the browser's language, and a kept switch to English", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, locale: "ko-KR" });
  try {
    assert.equal(await page.getAttribute("html", "lang"), "ko");
    assert.equal(await page.title(), "브라우저 속 VanillaNet");
    const presets = ["nano_28", "nano5_28", "small_28", "fine_wide_28", "fine_28", "wide_28", "large_28"];
    const data = async () => {
      const names = await page.evaluate(() => [window.vanillanet.classifier()?.card.name]);
      return [...names.filter(Boolean), "fashion-mnist", "mnist", ...presets, "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot", "grey.png"];
    };
    assert.deepEqual(await englishWords(page, await data()), [], "idle");

    // A whole run: train, evaluate, fuse, classify, a camera refused.
    await page.evaluate(() => window.vanillanet.loadDataset("mnist"));
    await page.evaluate(() => window.vanillanet.train({ preset: "nano_28", batchSize: 64, epochs: 1, decayEpochs: 1, learningRate: 0.01 }));
    await waitStatus(page, "(s) => s.state === 'finished'");
    await page.evaluate(() => window.vanillanet.fuse());
    await waitFor(page, () => /^융합된/.test(document.querySelector("#eval-summary").textContent));
    await page.click("#confusion tbody tr:nth-child(1) td:nth-child(2) .cell");
    await page.setInputFiles("#classify-files", { name: "grey.png", mimeType: "image/png", buffer: png(28, [120, 120, 120]) });
    await waitFor(page, () => document.querySelectorAll("#predictions .prediction .bar").length === 5);
    await page.check('input[name="dataset"][value="own"]');
    assert.deepEqual(await englishWords(page, await data()), [], "trained, fused, evaluated, classified");
    await page.screenshot({ path: join(outDir, "korean.png"), fullPage: true });

    // Numbers for the locale: 11.4 thousand parameters read as 1.1만.
    assert.match(await page.textContent("#model-info"), /매개변수 1\.1만개/);
    assert.match(await page.textContent("#eval-summary"), /테스트 이미지 1,500장 중 \d+\.\d% 정답/);

    // The switch: English, kept over a reload although the browser says Korean.
    await Promise.all([page.waitForNavigation(), page.selectOption("#language-select", "en")]);
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
    assert.equal(await page.getAttribute("html", "lang"), "en");
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await page.evaluate(() => window.vanillanet.ready);
    assert.equal(await page.getAttribute("html", "lang"), "en");
    assert.equal(await page.textContent("#train"), "Train");
    assert.equal(await page.inputValue("#language-select"), "en");
    // The session came back in the other language.
    assert.equal((await page.evaluate(() => window.vanillanet.status())).step, 122, "one epoch of MNIST at batch 64, the validation share held out");
    assert.match(await page.textContent("#model-info"), /11\.4K parameters/);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
