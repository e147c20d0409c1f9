// A panic in Rust aborts the wasm instance (a RuntimeError, "unreachable"), possibly inside an
// awaited call whose promise then never settles. The worker cannot go on: it tells the page,
// which starts a fresh one from the last saved state. The panic's own message (logged by
// console_error_panic_hook) is the reason given.
let lastPanic = null;
const consoleError = console.error.bind(console);
console.error = (...args) => {
  const text = args.map(String).join(" ");
  if (text.includes("panicked at")) lastPanic = text.split("\n").slice(0, 2).join(" ");
  consoleError(...args);
};
let crashed = false;
export function crash(error) {
  if (crashed) return;
  crashed = true;
  self.postMessage({ type: "crashed", reason: lastPanic ?? String(error?.message ?? error) });
}
export const fatal = (e) => e instanceof WebAssembly.RuntimeError || String(e?.message ?? e).includes("unreachable");
self.addEventListener("error", (e) => crash(e.error ?? e.message));
self.addEventListener("unhandledrejection", (e) => {
  if (fatal(e.reason)) crash(e.reason);
});
