// The service worker: after the first visit the page works offline. It caches what the page
// needs (the list and its version come from the build, pkg/precache.js); a new build has a new
// version, whose cache replaces the old one. The page's own code and styles are fetched from
// the network first (so an update shows at once) and the cache answers when offline; the wasm,
// the datasets and the libraries come from the cache of their version. Anything else of this
// origin (the bench page, onnxruntime-web) is cached when fetched.
importScripts("./pkg/precache.js");

const { version, urls } = self.PRECACHE;
const CACHE = `vanillanet-${version}`;
const scope = new URL(self.registration.scope);
const LARGE = /\.(wasm|vnds)$|\/vendor\//;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // `reload`: past the HTTP cache, so the cached copy is this build's.
    await cache.addAll(urls.map((u) => new Request(new URL(u, scope), { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("vanillanet-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function fromCache(request) {
  const cache = await caches.open(CACHE);
  // A file under any query string is the same file: the page (shared links), the worker (the
  // build it runs).
  return cache.match(request, { ignoreSearch: true });
}

async function networkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.ok) (await caches.open(CACHE)).put(request, response.clone());
    return response;
  } catch (e) {
    const cached = await fromCache(request);
    if (cached) return cached;
    throw e;
  }
}

async function cacheFirst(request) {
  const cached = await fromCache(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(CACHE)).put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== scope.origin || !url.href.startsWith(scope.href)) return;
  event.respondWith(LARGE.test(url.pathname) ? cacheFirst(request) : networkFirst(request));
});
