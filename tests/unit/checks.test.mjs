// The argument checks (www/checks.js) a value from outside the page passes before anything
// uses it: what they refuse, with the argument named, and what they let through as it is.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as check from "../../www/checks.js";

const refuses = (fn, name) => assert.throws(fn, (e) => {
  assert.ok(e instanceof Error, "an Error");
  const named = new RegExp(`(^|\\W)${name.replace(/[.[\]]/g, "\\$&")}(\\W|$)`);
  assert.ok(e.argument === name || named.test(e.message), `the error names ${name}: ${e.message}`);
  return true;
});

test("integers: whole numbers within bounds, nothing wasm would wrap or read as 0", () => {
  assert.equal(check.integer("n", 0), 0);
  assert.equal(check.integer("n", check.MAX_INDEX), check.MAX_INDEX);
  assert.equal(check.integer("n", 5, 5, 5), 5);
  for (const bad of [2 ** 32 + 1, check.MAX_INDEX + 1, -1, 1.5, NaN, Infinity, -Infinity, "3", null, undefined, true, 3n, [3], { valueOf: () => 3 }]) {
    refuses(() => check.integer("count", bad), "count");
  }
  refuses(() => check.integer("n", 4, 5, 10), "n");
  refuses(() => check.integer("n", 11, 5, 10), "n");
});

test("numbers: finite, within bounds", () => {
  assert.equal(check.number("x", -0.5), -0.5);
  for (const bad of [NaN, Infinity, -Infinity, "1", null, undefined]) refuses(() => check.number("x", bad), "x");
  refuses(() => check.number("x", 2, 0, 1), "x");
});

test("booleans, strings, names among the known ones", () => {
  assert.equal(check.boolean("b", false), false);
  for (const bad of [0, 1, "true", null, undefined]) refuses(() => check.boolean("b", bad), "b");
  assert.equal(check.string("s", "a".repeat(check.MAX_NAME)), "a".repeat(check.MAX_NAME));
  refuses(() => check.string("s", "a".repeat(check.MAX_NAME + 1)), "s");
  refuses(() => check.string("s", 5), "s");
  refuses(() => check.string("s", new String("x")), "s");
  assert.equal(check.oneOf("kind", "b", ["a", "b"]), "b");
  // Compared as they are: prototype keys and look-alikes are no names.
  for (const bad of ["__proto__", "toString", "constructor", "B", " b", "", null, undefined]) refuses(() => check.oneOf("kind", bad, ["a", "b"]), "kind");
});

test("objects: plain, with known keys only", () => {
  assert.deepEqual(check.object("o", undefined, ["a"]), {});
  assert.deepEqual(check.object("o", { a: 1 }, ["a"]), { a: 1 });
  const bare = Object.create(null);
  bare.a = 1;
  assert.equal(check.object("o", bare, ["a"]), bare);
  refuses(() => check.object("o", { a: 1, b: 2 }, ["a"]), "o");
  refuses(() => check.object("o", JSON.parse('{"__proto__": 1}'), ["a"]), "o");
  for (const bad of [null, [], "x", 1, new Date(), new Map(), new (class Options {})(), () => {}]) refuses(() => check.object("opts", bad, ["a"]), "opts");
});

test("files: Blobs, and lists of them within a bound", () => {
  const b = new Blob(["x"]);
  assert.equal(check.blob("file", b), b);
  for (const bad of ["x", null, {}, new Uint8Array(1), { size: 1, type: "" }]) refuses(() => check.blob("file", bad), "file");
  assert.deepEqual(check.blobs("files", [b, b]), [b, b]);
  refuses(() => check.blobs("files", [b, "x"]), "files[1]");
  refuses(() => check.blobs("files", [b, b], 1), "files");
  refuses(() => check.blobs("files", b), "files");
});

test("optional: undefined passes, anything else is checked", () => {
  const maybe = check.optional(check.integer);
  assert.equal(maybe("n", undefined), undefined);
  assert.equal(maybe("n", 3), 3);
  refuses(() => maybe("n", null), "n");
});

test("describe: a value told without running it, long text cut", () => {
  assert.equal(check.describe(null), "null");
  assert.equal(check.describe(undefined), "undefined");
  assert.equal(check.describe("ab"), '"ab"');
  const long = check.describe("x".repeat(10_000));
  assert.ok(long.length < 80, long);
  assert.match(long, /10000 characters/);
  // Its own toString is never called (it could throw, or say anything).
  const hostile = { toString() { throw new Error("called"); }, [Symbol.toPrimitive]() { throw new Error("called"); } };
  assert.doesNotThrow(() => check.describe(hostile));
  assert.doesNotMatch(check.describe(hostile), /called/);
  assert.match(check.describe([1, 2, 3]), /3/);
  assert.match(check.describe(new Blob(["abc"])), /Blob/);
  assert.equal(typeof check.describe(Symbol("s")), "string");
  assert.equal(typeof check.describe(() => 1), "string");
});

test("numbers as a link writes them: decimals and exponents, nothing else", () => {
  assert.deepEqual(check.parseNumber("0.01"), { value: 0.01 });
  assert.deepEqual(check.parseNumber(" 1e3 "), { value: 1000 });
  assert.deepEqual(check.parseNumber("-2"), { value: -2 });
  assert.deepEqual(check.parseNumber(".5"), { value: 0.5 });
  assert.ok(Object.is(check.parseNumber("-0").value, 0), "-0 reads as 0");
  for (const bad of ["", " ", "0x10", "Infinity", "-Infinity", "NaN", "1e400", "1,5", "1.2.3", "ten", "1e", "+", "0b1", "１"]) {
    const read = check.parseNumber(bad);
    assert.equal(read.value, undefined, `${JSON.stringify(bad)} read as ${read.value}`);
    assert.equal(typeof read.reason, "string");
  }
  assert.deepEqual(check.parseNumber("3", { whole: true }), { value: 3 });
  assert.deepEqual(check.parseNumber("3e0", { whole: true }), { value: 3 });
  for (const bad of ["3.5", "1e-1", "9007199254740993", "1e300"]) assert.equal(check.parseNumber(bad, { whole: true }).value, undefined, bad);
});

test("yes and no as a link writes them", () => {
  for (const yes of ["1", "true", "YES", " on "]) assert.deepEqual(check.parseBoolean(yes), { value: true });
  for (const no of ["0", "false", "No", "off"]) assert.deepEqual(check.parseBoolean(no), { value: false });
  for (const bad of ["", "maybe", "2", "truee", "null"]) {
    assert.equal(check.parseBoolean(bad).value, undefined, bad);
    assert.equal(typeof check.parseBoolean(bad).reason, "string");
  }
});
