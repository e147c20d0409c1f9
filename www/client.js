// The page's one connection to the worker; events.js listens to what it sends.
import { Rpc } from "./rpc.js";

export const worker = new Rpc();
export const call = (type, payload) => worker.call(type, payload);
