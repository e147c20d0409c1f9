// Strings from users and from files are text, never HTML: file names, class names, a model
// card's name and class labels show literally, create no elements and run nothing, before and
// after a reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { open, png, root, waitFor } from "./harness.mjs";

const IMG = (n) => `"><img src=x onerror="window.__pwned=${n}">`;

/** The official tiny deploy-form fixture with a model card whose name and labels are markup. */
function hostileModel() {
  const bytes = readFileSync(join(root, "tests", "fixtures", "official-tiny", "deploy_state.safetensors"));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  const card = {
    format: "vanillanet-classifier/1", name: `<b>bold</b>${IMG(5)}`, form: "deploy",
    architecture: { in_chans: 3, num_classes: 10, dims: [16, 32, 64, 128], strides: [2, 2, 2], act_num: 3, deep_training: true, shortcut: "none", drop_rate: 0, ada_pool: null },
    classes: Array.from({ length: 10 }, (_, i) => `${IMG(6)}<svg onload="window.__pwned=7"> ${i}`),
    preprocess: { channels: 3, height: 64, width: 64, resize: { kind: "centerCrop" }, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  };
  header.__metadata__ = { vanillanet: JSON.stringify(card) };
  let text = JSON.stringify(header);
  text += " ".repeat((8 - (text.length % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  return Buffer.concat([head, Buffer.from(text), bytes.subarray(8 + n)]);
}

async function injected(page) {
  return page.evaluate(() => ({
    pwned: window.__pwned ?? null,
    elements: document.querySelectorAll('img[src="x"], svg, #classifier-info *, .prediction .bar span *').length,
  }));
}

test("file, class and card strings are shown as text", { timeout: 300_000 }, async () => {
  const { page, errors, close } = await open({ webgpu: false, query: "?backend=cpu" });
  try {
    await page.check('input[name="dataset"][value="own"]');
    await page.locator(".class-card .class-name").first().fill(IMG(1));
    await page.locator(".class-card .class-name").first().dispatchEvent("change");
    const files = [
      { name: `${IMG(2)}.png`, mimeType: "image/png", buffer: png(40, [200, 30, 30], 1) },
      { name: `<svg onload="window.__pwned=3">.png`, mimeType: "image/png", buffer: Buffer.from("not an image") },
    ];
    await page.locator(".class-card").nth(0).locator('input[type="file"][multiple]').setInputFiles(files);
    await waitFor(page, () => window.vanillanet.own.classes()[0].rejected.length === 1);
    await page.evaluate(async (b64) => {
      const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "hostile-card.safetensors");
      await window.vanillanet.loadCheckpoint(file);
    }, hostileModel().toString("base64"));
    await page.evaluate(async ({ b64, name }) => {
      const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name);
      await window.vanillanet.classify(file);
    }, { b64: png(64, [20, 200, 60], 2).toString("base64"), name: `${IMG(4)}.png` });
    await waitFor(page, () => document.querySelectorAll(".prediction .bar").length === 5);

    const check = async (when) => {
      assert.deepEqual(await injected(page), { pwned: null, elements: 0 }, `no markup became elements ${when}`);
      assert.equal(await page.inputValue(".class-card .class-name >> nth=0"), IMG(1), `class name ${when}`);
      assert.match(await page.textContent(".rejected"), /<svg onload="window.__pwned=3">\.png: invalid input: not an image/);
      assert.match(await page.getAttribute(".thumbs img", "title"), /^"><img src=x onerror=/);
      assert.match(await page.textContent("#classifier-info"), /^<b>bold<\/b>"><img src=x/);
      assert.match(await page.textContent(".prediction .bars > b"), /^"><img src=x onerror="window.__pwned=4">\.png$/);
      assert.match(await page.textContent(".prediction .bar span"), /<svg onload="window.__pwned=7"> \d/);
    };
    await check("at once");
    await page.evaluate(() => window.vanillanet.whenSaved());
    await page.reload();
    await waitFor(page, () => window.vanillanet?.ready, null, { timeout: 60_000 });
    await waitFor(page, () => document.querySelectorAll(".prediction .bar").length === 5 && window.vanillanet.classifier());
    await check("after a reload");
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
