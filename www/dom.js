// Small helpers shared by the views. Every string that came from a user or a file (file, class
// and folder names, card fields) goes into the page as text through `el` or textContent, never
// as HTML.
import { compact, percent, t } from "./i18n.js";
import { get, message } from "./state.js";

/** The element with this id; typed loosely, as the page's elements are of many kinds.
 * @returns {any} */
export const $ = (id) => document.getElementById(id);

/** An element with properties (`class`, `style`, `title`, handlers, ...) and children (nodes
 * or strings, which become text). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "style") Object.assign(node.style, v);
    else if (k.startsWith("on")) node[k] = v;
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const pct = (v) => (v === null || v === undefined ? "–" : percent(v));
export const fmt = (n) => compact(n);
export const fileStem = (name) => name.replace(/[^\w.-]+/g, "_");

export function eta(seconds, finished = false) {
  if (finished) return t("eta.done");
  const s = Math.round(seconds ?? 0);
  if (s >= 3600) return t("eta.hours", { h: Math.floor(s / 3600), min: Math.round((s % 3600) / 60) });
  return s >= 60 ? t("eta.minutes", { min: Math.floor(s / 60), s: s % 60 }) : t("eta.seconds", { s });
}

/** What a form field is called on the page (its label's text, without the field's own). */
export function fieldLabel(form, name) {
  const label = form.elements[name]?.closest("label");
  const text = label && [...label.childNodes].filter((n) => !["INPUT", "SELECT"].includes(n.nodeName)).map((n) => n.textContent).join("").trim();
  return text || name;
}

/** True when a trained model would be lost (new data) and the user says no. */
export const keepModel = () => get().step > 0 && !confirm(t("data.confirmNew"));

/** A handler whose failure becomes a message on the page. */
export const guard = (fn) => async (...args) => {
  try {
    await fn(...args);
  } catch (err) {
    message(err.message);
  }
};

export function download(blob, fileName) {
  const a = el("a", { href: URL.createObjectURL(blob), download: fileName });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Enables (or disables) each button id by its condition. */
export function enable(pairs) {
  for (const [id, on] of pairs) $(id).disabled = !on;
}

/** Fills a <select> with `values` unless it already holds exactly them; keeps the chosen value
 * when it is still offered, else picks `preferred` or the first. */
export function fillSelect(select, values, preferred) {
  const key = values.join("|");
  if (select.dataset.values === key) return;
  const keep = select.value;
  select.replaceChildren(...values.map((v) => el("option", { value: v }, v)));
  select.dataset.values = key;
  select.value = values.includes(keep) ? keep : values.includes(preferred) ? preferred : values[0] ?? "";
}

// CHW bytes as a PNG (thumbnails of the training and test images, as the net sees them).
export async function pixelsBlob(pixels, channels, height, width = height) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(width, height);
  const plane = width * height;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) img.data[p * 4 + c] = pixels[(channels === 3 ? c : 0) * plane + p];
    img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.convertToBlob({ type: "image/png" });
}

export const pixelsUrl = async (pixels, channels, side) => URL.createObjectURL(await pixelsBlob(pixels, channels, side));

// A small preview of an image the wasm decoder has already accepted.
export async function thumbnail(blob) {
  const bitmap = await createImageBitmap(blob, { resizeWidth: 112, resizeQuality: "medium" });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
  return canvas.convertToBlob({ type: "image/png" });
}
