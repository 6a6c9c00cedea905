/**
 * undici's keep-alive `Agent`, loaded without the rest of undici (fetch, WebSocket, cookies,
 * caches, mocks, proxies, and even its request/stream APIs: the client reads answers through the
 * dispatch handler interface), none of which this server uses: loading all of it was a quarter of
 * the server's start-up time and 7 MB of memory. undici is pinned to major 7; the fault-injection
 * suite exercises every path the client takes through it.
 */
import { setFlagsFromString } from "node:v8";
import AgentClass from "undici/lib/dispatcher/agent.js";

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. A second or so after the first answers,
 * V8 recompiles its hot functions with TurboFan in the background: 38 MB of memory at the peak and
 * several MB kept after it, to parse answers of a few KB no faster than Liftoff's first
 * compilation does (bench/README.md). WebAssembly stays with Liftoff's code in this process, which
 * runs no other (the flags are read when a module is compiled; llhttp is compiled at the first
 * connection, after this).
 */
setFlagsFromString("--no-wasm-dynamic-tiering");
setFlagsFromString("--no-wasm-tier-up");

export const Agent = AgentClass;
