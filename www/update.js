// Offline use and updates, the page's side of the service worker (sw.js). A new build installs
// beside the running one and waits: the page says "a new version is ready" and reloads into it
// when the user asks (saved first), if no other tab of the page is open. Never on its own: a
// running session does not change under the user.
// A cached build that does not start (its files do not go together: a damaged disk, an
// interrupted write) would fail alike on every visit: the page drops the offline copy and the
// service worker, and loads once from the network, saying so; the worker installs afresh.
import { t } from "./i18n.js";
import { message, update } from "./state.js";

// How the worker's failure to start a build whose files do not go together begins
// (worker/engine.js's BROKEN_BUILD; the worker's files are a type project of their own).
const BROKEN_BUILD = "the engine's files do not go together";

// Set (this tab, across its reload) while a dropped offline copy is being replaced by the
// network's: the reason, said after the reload; a second failure then is said, not retried.
const DROPPED = "vanillanet-offline-dropped";
// Where storage is blocked (a sandboxed frame, a browser's setting) sessionStorage throws.
const tab = {
  get: () => { try { return sessionStorage.getItem(DROPPED); } catch { return null; } },
  set: (value) => { try { sessionStorage.setItem(DROPPED, value); return true; } catch { return false; } },
  clear: () => { try { sessionStorage.removeItem(DROPPED); } catch { /* nothing to clear */ } },
};

let registration = null;

/** Registers the service worker and watches for a new version (where the browser has them and
 * the page is a secure context; the page works without, online). */
export function watch() {
  if (!("serviceWorker" in navigator) || !isSecureContext) return;
  const dropped = tab.get();
  if (dropped) message(t("offline.dropped"), "info", dropped);
  navigator.serviceWorker.register("./sw.js", { updateViaCache: "none" }).then((reg) => {
    // Where workers are blocked (a browser's policy, an extension, test automation) the answer
    // can come without a registration: the page works on, online only.
    if (!reg) return;
    registration = reg;
    const ready = () => {
      // A waiting worker with one in control is a new version (the first install takes over
      // at once and is no update).
      if (reg.waiting && navigator.serviceWorker.controller) update({ updateReady: true });
    };
    // A version installing now (the browser may have started before this page asked) or later.
    const track = (w) => w?.addEventListener("statechange", () => w.state === "installed" && ready());
    ready();
    track(reg.installing);
    reg.addEventListener("updatefound", () => track(reg.installing));
  }, (e) => message(t("offline.unavailable", { reason: e.message }), "info"));
}

/** Asks the waiting version to take over and reloads into it once it has (`beforeReload`
 * first: the session is saved). Refused, and said, while another tab of the page is open. */
export async function applyUpdate(beforeReload = async () => {}) {
  const waiting = registration?.waiting;
  if (!waiting) {
    update({ updateReady: false });
    return;
  }
  await beforeReload();
  const reload = () => location.reload();
  navigator.serviceWorker.addEventListener("controllerchange", reload, { once: true });
  const answer = await new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = ({ data }) => resolve(data);
    waiting.postMessage({ type: "activate" }, [channel.port2]);
  });
  if (!answer?.ok) {
    navigator.serviceWorker.removeEventListener("controllerchange", reload);
    message(t("update.otherTabs", { n: answer?.tabs ?? 2 }), "info");
  }
}

/** The page started (`error` null) or failed to (`error`). A start that failed because the
 * build's files do not go together, served from the service worker's cache, drops that cache
 * and the worker and reloads from the network, once: answers true then (the page is going). */
export async function started(error) {
  const reason = String(error?.message ?? "");
  if (!error) {
    tab.clear();
    return false;
  }
  // Offline the network could not serve the page either: the copy is kept until online. Without
  // the mark the reload could not tell it tried already: not tried at all then.
  if (!reason.includes(BROKEN_BUILD) || !navigator.serviceWorker?.controller || !navigator.onLine || tab.get() || !tab.set(reason)) return false;
  // Unregistered first: the reload is then served by no worker (the network's build, whole),
  // and registering again (watch) installs every file afresh, each checked against its hash.
  await (await navigator.serviceWorker.getRegistration())?.unregister();
  for (const name of await caches.keys()) if (name.startsWith("vanillanet-")) await caches.delete(name);
  location.reload();
  return true;
}
