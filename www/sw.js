// The service worker: after the first visit the page works offline, and one deploy is one
// consistent set. It caches what the page needs (the list, each file's SHA-256 and the build's
// version come from the build, pkg/precache.js) in a cache of that version, and installs only
// when every file it fetched has its listed hash (a server caught mid-deploy fails the install,
// which is tried again on the next visit). The page, its code, the glue, the wasm and the data
// are then all served from that one cache, online and offline: never one build's glue with
// another's wasm. A new build installs beside the old one and waits: the page says "a new
// version is ready" and, on the user's word, the new one takes over only when no other tab of
// the page is open (sent `activate`); then the old cache goes. A running session never changes
// under it. Anything else of this origin (the bench page, onnxruntime-web) is fetched from the
// network first and cached when fetched.
importScripts("./pkg/precache.js");

/** This worker's global scope, as a service worker's (for the type check), with the build's list.
 * @type {ServiceWorkerGlobalScope & {PRECACHE: {version: string, urls: string[], hashes?: Record<string, string>}}} */
const sw = /** @type {any} */ (self);

const { version, urls, hashes = {} } = sw.PRECACHE;
const CACHE = `vanillanet-${version}`;
const scope = new URL(sw.registration.scope);
const PRECACHED = new Set(urls.map((u) => new URL(u, scope).href));

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

async function fetchChecked(url) {
  // `reload`: past the HTTP cache, so the cached copy is what the server has now.
  const response = await fetch(new Request(new URL(url, scope), { cache: "reload" }));
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const want = hashes[url];
  if (want) {
    const got = hex(await crypto.subtle.digest("SHA-256", await response.clone().arrayBuffer()));
    if (got !== want) throw new Error(`${url} is not the file of build ${version} (the server is being updated?)`);
  }
  return response;
}

sw.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    try {
      // A few at a time: the datasets and the wasm are tens of MB each.
      const queue = [...urls];
      const worker = async () => {
        for (let url = queue.shift(); url; url = queue.shift()) await cache.put(new URL(url, scope).href, await fetchChecked(url));
      };
      await Promise.all([worker(), worker(), worker()]);
    } catch (e) {
      await caches.delete(CACHE);
      throw e;
    }
    // The first install takes over at once (there is nothing older to mix with); an update
    // waits for the page's word.
    if (!sw.registration.active) await sw.skipWaiting();
  })());
});

sw.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("vanillanet-") && name !== CACHE) await caches.delete(name);
    }
    await sw.clients.claim();
  })());
});

// The page asks a waiting new version to take over: only when it is the one tab of the page
// (another, older one would otherwise change under its session). Answers on the port.
sw.addEventListener("message", (event) => {
  if (event.data?.type === "version") event.ports[0]?.postMessage(version);
  if (event.data?.type !== "activate") return;
  event.waitUntil((async () => {
    const windows = await sw.clients.matchAll({ type: "window", includeUncontrolled: true });
    if (windows.length > 1) return event.ports[0]?.postMessage({ ok: false, tabs: windows.length });
    await sw.skipWaiting();
    event.ports[0]?.postMessage({ ok: true });
  })());
});

async function networkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.ok) (await caches.open(CACHE)).put(request, response.clone());
    return response;
  } catch (e) {
    const cached = await (await caches.open(CACHE)).match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw e;
  }
}

async function fromBuild(request, url) {
  // A file under any query string is the same file: the page (shared links), the worker (the
  // build it runs).
  const cached = await (await caches.open(CACHE)).match(url, { ignoreSearch: true });
  // Missing only if the cache was cleared under us: the network, as without a service worker.
  if (!cached) return fetch(request);
  // Under a query the answer must keep the URL asked for (a worker reads its build from it, a
  // page its link): the cached body and headers, in a response of no URL of its own.
  if (request.url !== url) return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers: cached.headers });
  return cached;
}

sw.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== scope.origin || !url.href.startsWith(scope.href)) return;
  const bare = `${url.origin}${url.pathname}`;
  event.respondWith(PRECACHED.has(bare) ? fromBuild(request, bare) : networkFirst(request));
});
