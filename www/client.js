// The page's one connection to the worker; events.js listens to what it sends.
import { t } from "./i18n.js";
import { Rpc } from "./rpc.js";
import { get } from "./state.js";

// Every failure of the worker here is followed by a recovery (actions/session.js) that starts
// a fresh one: a call made meanwhile is told so, not given the failure, which it had no part in.
// In English, as the engine's own messages are (see docs/page.md).
export const worker = new Rpc({
  crashReason: (reason) => t("recover.crashed", { reason }),
  restartingReason: () => t("recover.restarting"),
});
export const call = (type, payload, options) => worker.call(type, payload, options);
/** The engine's limits and defaults (Rust's `Limits`): read into the state at start, and asked
 * of the engine by a call that comes before that (an API call made before `ready`). */
export const limits = async () => get().defaults?.limits ?? (await call("defaults")).table.limits;
