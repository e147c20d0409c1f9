// Offline use and updates, the page's side of the service worker (sw.js). A new build installs
// beside the running one and waits: the page says "a new version is ready" and reloads into it
// when the user asks (saved first), if no other tab of the page is open. Never on its own: a
// running session does not change under the user.
import { t } from "./i18n.js";
import { message, update } from "./state.js";

let registration = null;

/** Registers the service worker and watches for a new version (where the browser has them and
 * the page is a secure context; the page works without, online). */
export function watch() {
  if (!("serviceWorker" in navigator) || !isSecureContext) return;
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
