// The page's one connection to the worker; events.js listens to what it sends.
import { t } from "./i18n.js";
import { Rpc } from "./rpc.js";

export const worker = new Rpc({ crashReason: (reason) => t("recover.crashed", { reason }) });
export const call = (type, payload, options) => worker.call(type, payload, options);
