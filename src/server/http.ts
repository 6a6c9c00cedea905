/**
 * MCP over Streamable HTTP at `/mcp`, on the SDK's entries: for a team's one deployment, or clients
 * that only talk to remote servers. Both protocol eras, one server factory (src/server/index.ts):
 *
 * - 2026-07-28 requests (a `_meta` envelope on each) go to the SDK's `createMcpHandler`, one per key:
 *   a server per request, and `subscriptions/listen` streams that hear of that key's changes
 *   (src/server/modern-requests.ts).
 * - 2025-era requests keep their sessions (`isLegacyRequest` routes them;
 *   src/server/legacy-sessions.ts). With `--stateless` (replicas behind a load balancer) they are
 *   answered one request at a time too, by the SDK's stateless fallback, and nothing that needs a
 *   session, or a replica's memory, is advertised.
 * - Each request brings its key, used for its own upstream calls only (src/server/key-admission.ts);
 *   what is sent is redacted with the request's own key.
 * - Host and Origin checked by the SDK's guards (src/server/origins.ts), bodies read within a budget
 *   (src/server/request-body.ts), `/healthz` for load balancers and a drain on SIGTERM
 *   (src/server/drain.ts).
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { toWebRequest } from "@modelcontextprotocol/node";
import { isLegacyRequest } from "@modelcontextprotocol/server";
import type { HttpConfig } from "../config.js";
import { logConversionsTo } from "../notebooks/worker-pool.js";
import { Secrets } from "../secrets.js";
import { createSession } from "../session.js";
import type { UpstreamBase } from "../upstream.js";
import { VERSION } from "../version.js";
import { ClientAddresses } from "./client-address.js";
import { answerHealthz, Drain } from "./drain.js";
import { refuse } from "./http-refusal.js";
import { createServer } from "./index.js";
import { inSteps, type Kept, KeptMemory } from "./kept-memory.js";
import { hashOf, KeyAdmission, type KeyEntry, TooManyKeys } from "./key-admission.js";
import { AWAITING, type Entered, KeyRequests } from "./key-requests.js";
import { LegacySessions } from "./legacy-sessions.js";
import { isListen, ModernRequests } from "./modern-requests.js";
import { originChecks } from "./origins.js";
import { invalidParams, refusedArguments } from "./params.js";
import { messagesOf } from "./read-message.js";
import { BodyBudget } from "./request-body.js";
import { withinRequest } from "./request-scope.js";

export interface HttpOptions {
  /** Largest request body, in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  /** A session unused this long is closed (default 30 minutes). */
  sessionIdleMs?: number;
  /**
   * What 2025 sessions and 2026 listen streams may hold in all, in bytes (default KEPT_BYTES),
   * shared fairly among keys (src/server/kept-memory.ts).
   */
  keptBytes?: number;
  /** How long a drain waits for open requests (default 10 s). */
  drainMs?: number;
}

/**
 * What sessions and listen streams may hold in all, each counted at the most it can hold: about
 * 1,260 sessions or 2,340 listen streams of short requests (src/server/kept-memory.ts).
 */
export const KEPT_BYTES = 256 * 1024 * 1024;

export interface HttpServing {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8787/mcp`. */
  url: string;
  sessions(): number;
  /** Stops taking requests, answers the open ones (up to the drain time), closes everything. */
  close(): Promise<void>;
}

export async function serveHttp(
  base: UpstreamBase,
  http: HttpConfig,
  options: HttpOptions = {},
): Promise<HttpServing> {
  const { config, logger } = base;
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const sessionIdleMs = options.sessionIdleMs ?? 30 * 60_000;
  const drainMs = options.drainMs ?? 10_000;
  logConversionsTo(logger);

  const origins = originChecks(http);
  const drain = new Drain();
  const bodies = new BodyBudget(maxBodyBytes, logger);
  const requests = new KeyRequests();
  const clients = new ClientAddresses(http.trustedProxies, logger);
  const keys = new KeyAdmission(base, (key) => modern.forget(key), clients);
  const memory = new KeptMemory<KeyEntry>(options.keptBytes ?? KEPT_BYTES);
  const modern = new ModernRequests({ config, logger, stateless: http.stateless, maxBodyBytes, memory });
  const sessions = new LegacySessions(
    keys,
    (key, id) => {
      const session = createSession({
        config,
        client: key.client,
        grants: key.grants,
        logger: key.logger.child({ mcpSession: id }),
        logTag: id,
        version: VERSION,
      });
      // The key's 2026 listen streams hear of what its 2025 sessions change too.
      session.changeListeners.add((shortId, listed) => modern.announce(key, shortId, listed));
      return createServer(session, { era: "legacy", lasting: true });
    },
    { idleMs: sessionIdleMs },
    memory,
    (key, res) => modern.stalled.watch(key, res),
  );

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "OPTIONS") return origins.preflight(req, res);
    if (!origins.origin(req, res)) return;
    if (drain.draining) {
      return refuse(res, 503, -32000, "This server is shutting down: try again in a moment.", {
        "retry-after": "1",
      });
    }
    const apiKey = keys.bearer(req, res);
    if (apiKey === undefined) return;
    const hash = hashOf(apiKey);
    // Counted in flight before anything of its body is read (a key over its count costs nothing more).
    const entered = req.method === "POST" ? await requests.enter(hash, res) : undefined;
    if (req.method === "POST" && !entered) return void req.resume();
    if (!entered) return answerMcp(req, res, apiKey, hash, undefined);
    // The call's work sees its request (src/server/request-scope.ts): aborted if its client goes
    // before its answer is written, and counted in flight until it ends.
    const gone = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) gone.abort();
    });
    const waiting = waitingCalls(req, res, apiKey, entered);
    return withinRequest({ gone: gone.signal, ...waiting }, () => answerMcp(req, res, apiKey, hash, entered));
  }

  /**
   * A request's part in waiting for its client (a call showing its user a form, on a 2025
   * connection): its place in flight given back meanwhile (at most AWAITING calls of a key), and
   * what it holds (its arguments: about its body's length) counted with what sessions and streams
   * keep, shared fairly among keys. When that is full, a waiting call of the key holding the most
   * gives way: its request is closed, which cancels it (src/server/legacy-sessions.ts).
   */
  function waitingCalls(req: IncomingMessage, res: ServerResponse, apiKey: string, entered: Entered) {
    let kept: Kept<KeyEntry> | undefined;
    const stopKeeping = () => {
      if (kept) memory.release(kept);
      kept = undefined;
    };
    res.once("close", stopKeeping);
    return {
      hold() {
        stopKeeping();
        return entered.hold();
      },
      awaitClient(): string | undefined {
        if (!entered.awaitClient()) {
          return `${AWAITING} calls of this key already wait for the user's confirmation on this server, the most one key may have: nothing was done. Have the user answer those first, then call again.`;
        }
        const key = keys.acceptedEntry(apiKey);
        if (kept || !key) return undefined;
        const stamp = memory.stamp();
        const item: Kept<KeyEntry> = {
          owner: key,
          bytes: waitingBytes(req, maxBodyBytes),
          lastUsed: () => stamp,
          idle: () => true,
          letGo: () => void res.destroy(),
        };
        if (!memory.take(item)) {
          // Counted in flight again (held, and let go at once): it is answered now, not waiting.
          entered.hold()();
          return `This server cannot keep another call waiting for its user's confirmation just now: what it keeps for sessions, streams and such calls is full, shared equally among keys, and this key holds its part: nothing was done. Have the user answer the confirmations shown, or try again in a minute.`;
        }
        kept = item;
        return undefined;
      },
    };
  }

  async function answerMcp(
    req: IncomingMessage,
    res: ServerResponse,
    apiKey: string,
    hash: string,
    entered: Entered | undefined,
  ): Promise<void> {
    const body =
      req.method === "POST"
        ? await bodies.read(req, res, keys.checkBeforeReading(apiKey, res), hash, () =>
            keys.accountOf(apiKey),
          )
        : null;
    if (body === undefined) return;
    const parsed = body ?? undefined;
    if (req.method === "POST") {
      // A stream stays open as long as its client wants: not a request in flight. Whatever is
      // answered from here on (refusals of its params included) is charged as its messages are.
      const listen = isListen(parsed);
      if (listen) entered?.leave();
      if (!(await requests.admit(hash, keys.accountOf(apiKey), parsed, res, listen))) return;
    }
    // The request is classified from its headers and the body already parsed: the probe carries no
    // body (made from `null`, not from a copy of a body of up to 20 MB written out again as JSON).
    const era = (await isLegacyRequest(await toWebRequest(req, null), parsed)) ? "legacy" : "modern";
    // The SDK refuses a version it does not serve by repeating it; what cannot be a version (it
    // could be anything, a key even) is refused here without.
    const version = req.headers["mcp-protocol-version"];
    if (typeof version === "string" && !/^[\w.-]{1,20}$/.test(version)) {
      return refuse(res, 400, -32000, "Bad Request: unsupported MCP-Protocol-Version (e.g. 2025-11-25).");
    }
    if (idHoldsKey(parsed, apiKey)) {
      // Its answer would leave with the id redacted, and its client could never match it (a 2025
      // session's request then waited for good, holding its place in flight).
      return refuse(
        res,
        400,
        -32600,
        "Invalid Request: a request's id holds a piece of this API key, which this server never sends back: use other ids.",
      );
    }
    const invalid = invalidParams(body, era);
    if (invalid !== undefined) {
      // In-band for a 2025 client; 400 with the JSON-RPC error for a 2026 one, as its transport expects.
      res.writeHead(era === "legacy" ? 200 : 400, { "content-type": "application/json" });
      const id = (body as { id: unknown }).id;
      return void res.end(
        new Secrets([apiKey]).redact(
          JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32602, message: invalid } }),
        ),
      );
    }
    const refused = refusedArguments(body);
    if (refused !== undefined) {
      // A tool error (arguments the SDK would drop without a word), answered here, in band.
      res.writeHead(200, { "content-type": "application/json" });
      const id = (body as { id: unknown }).id;
      return void res.end(
        new Secrets([apiKey]).redact(JSON.stringify({ jsonrpc: "2.0", id, result: refused })),
      );
    }
    if (era === "legacy" && !http.stateless) return sessions.answer(apiKey, req, res, body);
    const key = await keys.admit(apiKey, res);
    if (!key) return;
    res.once("close", () => keys.release(key));
    return modern.answer(key, req, res, parsed, () => drain.streaming(res));
  }

  const server = createHttpServer((req, res) => {
    const started = performance.now();
    drain.count(req, res);
    res.on("close", () => {
      logger.debug(
        {
          method: req.method,
          path: req.url,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        "http request",
      );
    });
    if (!origins.host(req, res)) return;
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      const local = clients.local(req)
        ? {
            sessions: sessions.size,
            listening: modern.listening,
            keys: keys.size,
            keptBytes: memory.usedBytes,
            readingBytes: bodies.buffered,
            inFlight: requests.inFlight,
            waiting: requests.waiting,
          }
        : undefined;
      return answerHealthz(res, drain.draining, local);
    }
    if (path !== "/mcp") return refuse(res, 404, -32000, "Not found: the MCP endpoint is /mcp.");
    handleMcp(req, res).catch((error: unknown) => {
      if (error instanceof TooManyKeys) return refuse(res, 503, -32000, error.why, { "retry-after": "60" });
      logger.error({ err: error }, "an HTTP request failed inside the server");
      refuse(res, 500, -32603, "The request failed inside this server; try again.");
    });
  });
  // A request (headers and body) must arrive within 30 s: no slow-drip body holds a socket. The
  // answers, SSE streams included, are not bound by it.
  server.requestTimeout = 30_000;
  server.headersTimeout = 30_000;

  // Idle sessions and keys go.
  const sweep = setInterval(
    () => {
      const now = Date.now();
      sessions.closeIdle(now);
      keys.sweep(now);
    },
    Math.min(60_000, Math.max(1_000, sessionIdleMs / 4)),
  );
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(http.port, http.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}/mcp`,
    sessions: () => sessions.size,
    close() {
      closing ??= (async () => {
        // Still listening while open requests finish: load balancers read 503 on /healthz, and new
        // requests are told to come back.
        clearInterval(sweep);
        await drain.start(drainMs);
        await modern.closeAll(drainMs);
        await sessions.closeAll("server stopping");
        server.close();
        server.closeAllConnections();
        await keys.dropAll();
      })();
      return closing;
    },
  };
}

/** Whether a message's string id holds the key, or a piece or form of it. */
function idHoldsKey(body: unknown, apiKey: string): boolean {
  const ids = messagesOf(body).flatMap((message) => {
    const id = (message as { id?: unknown } | null)?.id;
    return typeof id === "string" ? [id] : [];
  });
  if (ids.length === 0) return false;
  const secrets = new Secrets([apiKey]);
  return ids.some((id) => secrets.redact(id) !== id);
}

/**
 * What a call waiting for its client holds, as the kept memory counts it: its request as the SDK
 * keeps it, about its body's length (measured: 1.1 times; a 3.9 MB body, 4.4 MB), counted at 1.25
 * times, and the longest a body may be when its length was not sent ahead.
 */
function waitingBytes(req: IncomingMessage, maxBodyBytes: number): number {
  const declared = Number(req.headers["content-length"]);
  const body = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, maxBodyBytes) : maxBodyBytes;
  return inSteps(64 * 1024 + body * 1.25);
}
