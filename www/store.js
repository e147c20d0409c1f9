// What survives a reload: one IndexedDB object store of named records (own images, the
// training snapshot and charts, the classifier). Values are structured-cloned, so typed arrays
// and Blobs go in as they are.
const DB = "vanillanet";
const STORE = "records";

let opened = null;
function db() {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`cannot open IndexedDB: ${req.error?.message ?? "unknown error"}`));
  });
  return opened;
}

async function run(mode, fn) {
  const tx = (await db()).transaction(STORE, mode);
  const req = fn(tx.objectStore(STORE));
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(req?.result);
    tx.onabort = tx.onerror = () => reject(new Error(`saving failed: ${tx.error?.message ?? "unknown error"}`));
  });
}

export const load = (key) => run("readonly", (s) => s.get(key));
export const save = (key, value) => run("readwrite", (s) => s.put(value, key));
export const remove = (key) => run("readwrite", (s) => s.delete(key));
