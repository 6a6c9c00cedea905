/**
 * undici's keep-alive `Agent`, loaded without the rest of undici (fetch, WebSocket, cookies,
 * caches, mocks, proxies, and even its request/stream APIs: the client reads answers through the
 * dispatch handler interface), none of which this server uses: loading all of it was a quarter of
 * the server's start-up time and 7 MB of memory. undici is pinned to major 7; the fault-injection
 * suite exercises every path the client takes through it.
 */

import AgentClass from "undici/lib/dispatcher/agent.js";

export const Agent = AgentClass;
