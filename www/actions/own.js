// Own images: classes of images the user drops, picks or records, decoded by Rust at the chosen
// size, and made the training data.
import * as check from "../checks.js";
import { call } from "../client.js";
import { pixelsUrl } from "../dom.js";
import { num, t } from "../i18n.js";
import * as persist from "../persist.js";
import { get, update } from "../state.js";

const MAX_FILE_BYTES = 32 * 1024 * 1024;
export function checkImageSize(file) {
  if (file.size > MAX_FILE_BYTES) throw new Error(t("own.tooLarge", { mb: num(Math.round(file.size / 1e6)), max: num(MAX_FILE_BYTES / 1e6) }));
}
export function ownSize(own = get().own) {
  const [side, channels] = own.size.split("x").map(Number);
  return { side, channels };
}
function setOwnClasses(classes) {
  update({ own: { ...get().own, classes } });
}
export function addClass(name) {
  check.optional(check.string)("name", name);
  const classes = get().own.classes;
  setOwnClasses([...classes, { name: name ?? t("own.className", { n: String.fromCharCode(65 + classes.length) }), items: [] }]);
  return classes.length;
}
export function renameClass(index, name) {
  setOwnClasses(get().own.classes.map((c, i) => (i === index && name ? { ...c, name } : c)));
}
export function deleteClass(index) {
  setOwnClasses(get().own.classes.filter((_, i) => i !== index));
}
async function decode(file, { side, channels }) {
  checkImageSize(file);
  const pixels = await call("decodeImage", { file, channels, side });
  return { pixels, thumb: await pixelsUrl(pixels, channels, side) };
}
/** Checks an own class's index: a whole number naming a class there is. */
export function ownClassIndex(classIndex) {
  check.integer("classIndex", classIndex);
  if (!get().own.classes[classIndex]) throw new Error(t("own.noClass", { n: classIndex }));
  return classIndex;
}
export async function addFiles(classIndex, files) {
  ownClassIndex(classIndex);
  files = check.blobs("files", files);
  const size = ownSize();
  for (const file of files) {
    const item = { name: file.webkitRelativePath || file.name };
    try {
      Object.assign(item, await decode(file, size));
    } catch (e) {
      item.error = e.message;
    }
    setOwnClasses(get().own.classes.map((c, i) => (i === classIndex ? { ...c, items: [...c.items, item] } : c)));
  }
  return ownClasses()[classIndex];
}
export const ownClasses = () => get().own.classes.map((c) => ({
  name: c.name, images: c.items.filter((i) => i.pixels).length,
  rejected: c.items.filter((i) => i.error).map((i) => ({ file: i.name, reason: i.error })),
}));
export async function ownDataset() {
  const { side, channels } = ownSize();
  const usable = get().own.classes.filter((c) => c.items.some((i) => i.pixels));
  if (usable.length < 2) throw new Error(t("own.twoClasses"));
  const labels = [];
  const chunks = [];
  usable.forEach((c, l) => c.items.filter((i) => i.pixels).forEach((i) => { labels.push(l); chunks.push(i.pixels); }));
  const pixels = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { pixels.set(c, at); at += c.length; }
  const dataset = { classes: usable.map((c) => c.name), pixels, labels: Uint8Array.from(labels), channels, height: side, width: side };
  // Saved as made: images added or classes renamed afterwards do not change what the saved
  // training was trained on, and a reload restores both together.
  persist.saveDataChoice("own", dataset);
  return useOwnDataset(dataset);
}

/** Makes `dataset` (own images as `ownDataset` made them, e.g. saved) the training data. */
export function useOwnDataset(dataset) {
  update({ datasetName: "own" });
  return call("ownDataset", dataset);
}
