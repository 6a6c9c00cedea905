/**
 * undici's keep-alive `Agent`, loaded without the rest of undici (fetch, WebSocket, cookies,
 * caches, mocks, proxies), none of which this server uses: loading all of it was a quarter of the
 * server's start-up time and 7 MB of memory. The agent is assembled the way undici's own index
 * assembles it: its request API is put on the dispatcher prototype. undici is pinned to major 7;
 * the fault-injection suite exercises every path the client takes through it.
 */

import api from "undici/lib/api/index.js";
import AgentClass from "undici/lib/dispatcher/agent.js";
import DispatcherClass from "undici/lib/dispatcher/dispatcher.js";

if (typeof (DispatcherClass.prototype as { request?: unknown }).request !== "function") {
  Object.assign(DispatcherClass.prototype, api);
}

export const Agent = AgentClass;
