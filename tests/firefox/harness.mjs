// Shared by the Firefox tests: Debian's Firefox ESR through puppeteer-core over WebDriver BiDi,
// each test with a browser and a profile of its own, the page served on 127.0.0.1 as for the
// Chromium tests (whose helpers are reused: polling, images), console errors collected.
import puppeteer from "puppeteer-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "../../scripts/serve.mjs";
import { waitFor } from "../browser/harness.mjs";

export { png, pngHeader, root, outDir, waitFor, waitStatus } from "../browser/harness.mjs";

export const FIREFOX = process.env.FIREFOX ?? "/usr/bin/firefox-esr";

/** Bounds `promise` by `ms`, so that a browser that hangs fails the test instead of the run. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Firefox with a fresh profile; tried twice, since a first start on a cold machine can miss
 * puppeteer's timeout. `serviceWorker` false turns service workers off (the page then runs
 * without its offline copy, as the Chromium tests do, and skips caching some 150 MB). */
async function launch({ serviceWorker }) {
  let lastError;
  for (let attempt = 0; attempt < 2; attempt++) {
    const profile = mkdtempSync(join(tmpdir(), "vanillanet-firefox-"));
    try {
      const browser = await puppeteer.launch({
        browser: "firefox", executablePath: FIREFOX, headless: true, userDataDir: profile,
        timeout: 60_000, protocolTimeout: 150_000,
        extraPrefsFirefox: { "dom.serviceWorkers.enabled": serviceWorker },
      });
      return { browser, profile };
    } catch (e) {
      lastError = e;
      rmSync(profile, { recursive: true, force: true });
    }
  }
  throw lastError;
}

/** Closes the browser (killed if it does not close within 15 s) and deletes its profile. */
async function shut({ browser, profile }) {
  const child = browser.process();
  await within(browser.close(), 15_000, "closing Firefox").catch(() => child?.kill("SIGKILL"));
  if (child && child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => { child.once("exit", resolve); setTimeout(resolve, 5_000); });
  }
  rmSync(profile, { recursive: true, force: true });
}

/** Waits until the page's API is up and its saved session restored; one that never is fails
 * within 90 s with what the page says, not at the protocol's timeout. */
export async function ready(page, timeout = 90_000) {
  const end = Date.now() + timeout;
  await waitFor(page, () => Boolean(window.vanillanet?.ready), null, { timeout });
  const up = await page.evaluate((ms) => Promise.race([
    window.vanillanet.ready.then(() => true, (e) => `rejected: ${e?.message ?? e}`),
    new Promise((resolve) => setTimeout(() => resolve(false), ms)),
  ]), Math.max(1_000, end - Date.now()));
  if (up !== true) {
    const said = await page.evaluate(() => ({
      messages: document.querySelector("#messages")?.textContent.replace(/\s+/g, " ").trim(),
      status: window.vanillanet.status(),
    })).catch((e) => e.message);
    throw new Error(`the page never became ready (${up || `${timeout} ms`}): ${JSON.stringify(said)}`);
  }
}

/** Opens the page in a fresh Firefox. `errors`: console errors and uncaught exceptions. */
export async function open({ query = "", serviceWorker = false } = {}) {
  const server = await serve(0);
  const url = `http://127.0.0.1:${server.address().port}/${query}`;
  let launched;
  try {
    launched = await launch({ serviceWorker });
    const page = await launched.browser.newPage();
    await page.setViewport({ width: 1400, height: 1300 });
    const errors = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url, { timeout: 60_000 });
    await ready(page);
    const browser = launched.browser;
    return {
      page, browser, errors, url, server,
      async close() {
        await shut(launched);
        server.close();
        server.closeAllConnections();
      },
    };
  } catch (e) {
    if (launched) await shut(launched);
    server.close();
    server.closeAllConnections();
    throw e;
  }
}

/** Drops `files` ({name, buffer}) onto `selector` as a real DragEvent with a DataTransfer. */
export async function drop(page, selector, files) {
  await page.evaluate(async ({ selector, files }) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    document.querySelector(selector).dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { selector, files: files.map((f) => ({ name: f.name, b64: Buffer.from(f.buffer).toString("base64") })) });
}
