/**
 * MCP over Streamable HTTP at `/mcp`, on the SDK's entries: for a team's one deployment, or clients
 * that only talk to remote servers. Both protocol eras, one server factory (src/server/index.ts):
 *
 * - 2026-07-28 requests (a `_meta` envelope on each) go to the SDK's `createMcpHandler`: a server
 *   per request, nothing kept between requests, so any replica can answer any request.
 * - 2025-era requests keep their sessions (`isLegacyRequest` routes them): subscriptions, list
 *   changes and log messages reach the client on its session's stream, as 2025 clients expect; a
 *   session is closed after 30 idle minutes. With `--stateless` (replicas behind a load balancer)
 *   they are answered one request at a time too, by the SDK's stateless fallback, and nothing that
 *   needs a session is advertised.
 * - Each request brings its key (`Authorization: Bearer phx_…`), used for its own upstream calls
 *   only. One client per key (its connections, and PostHog's rate limits, which PostHog counts per
 *   key); the key's grants read once and re-read when older than a minute. A session answers only
 *   the key that opened it. What is sent is redacted with the request's own key.
 * - Host and Origin checked by the SDK's guards (DNS rebinding), bodies capped, CORS off unless
 *   configured, `/healthz` for load balancers, and a drain on SIGTERM: no new requests, open ones
 *   answered, then exit.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  hostHeaderValidation,
  NodeStreamableHTTPServerTransport,
  originValidation,
  toNodeHandler,
  toWebRequest,
} from "@modelcontextprotocol/node";
import {
  type AuthInfo,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  type JSONRPCMessage,
  type McpServer,
  type TransportSendOptions,
} from "@modelcontextprotocol/server";
import type { HttpConfig } from "../config.js";
import { keyProblem } from "../key-problem.js";
import type { Logger } from "../logger.js";
import { logConversionsTo } from "../operations/converter.js";
import type { PostHogClient } from "../posthog/client.js";
import { KeyGrants } from "../posthog/grants.js";
import { keySettingsUrl } from "../posthog/scopes.js";
import { forgetSecret, Secrets } from "../secrets.js";
import { createSession } from "../session.js";
import type { UpstreamBase } from "../upstream.js";
import { VERSION } from "../version.js";
import { createServer } from "./index.js";
import { invalidParams, refusedArguments } from "./params.js";

/** The SDK's Streamable HTTP server transport, sending nothing that holds its session's key. */
class RedactingHttpTransport extends NodeStreamableHTTPServerTransport {
  constructor(
    options: ConstructorParameters<typeof NodeStreamableHTTPServerTransport>[0],
    private readonly secrets: Secrets,
  ) {
    super(options);
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return super.send(this.secrets.redactDeep(message), options);
  }
}

/**
 * A response as it leaves, with `secrets` redacted from its text: JSON whole, an event stream
 * event by event (the SDK writes each event in one piece).
 */
async function redactedResponse(response: Response, secrets: Secrets): Promise<Response> {
  if (!response.body) return response;
  const type = response.headers.get("content-type") ?? "";
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  if (type.includes("text/event-stream")) {
    const body = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(
        new TransformStream<string, string>({
          transform: (chunk, controller) => controller.enqueue(secrets.redact(chunk)),
        }),
      )
      .pipeThrough(new TextEncoderStream());
    return new Response(body, init);
  }
  return new Response(secrets.redact(await response.text()), init);
}

export interface HttpOptions {
  /** Largest request body, in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  /** A session unused this long is closed (default 30 minutes). */
  sessionIdleMs?: number;
  /** Sessions held at once, at most (default 10,000); past it, initialize gets 503. */
  maxSessions?: number;
  /** How long a drain waits for open requests (default 10 s). */
  drainMs?: number;
}

export interface HttpServing {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8787/mcp`. */
  url: string;
  sessions(): number;
  /** Stops taking requests, answers the open ones (up to the drain time), closes everything. */
  close(): Promise<void>;
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]", "::1"];
const GRANTS_TTL_MS = 60_000;
const KEY_IDLE_MS = 5 * 60_000;
/** Request bodies being read at once, in bytes, at most. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Sessions one key holds at once; past it, its least recently used idle session is closed. */
const SESSIONS_PER_KEY = 100;
/** Distinct keys served at once, at most. */
const MAX_KEYS = 1_000;
/** Keys PostHog has not accepted yet, being checked at once, at most. */
const MAX_UNCHECKED_KEYS = 100;
/**
 * Bytes of a request's body read before its key is accepted: more waits for PostHog's answer on
 * the key, so that made-up keys cannot spend the server's reading budget.
 */
const UNCHECKED_BODY_BYTES = 64 * 1024;
/** Request bodies of keys not accepted yet being read at once, in bytes, at most. */
const MAX_UNCHECKED_BUFFERED = 4 * 1024 * 1024;
/** How long a key's check may take before the request is told to come back. */
const KEY_CHECK_MS = 5_000;

class TooManyKeys extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

interface KeyEntry {
  apiKey: string;
  hash: string;
  client: PostHogClient;
  grants: KeyGrants;
  logger: Logger;
  users: number;
  idleSince: number;
  /** PostHog answered the key's check with success: only then does the key hold anything. */
  accepted: boolean;
  /** PostHog refused it where its grants could not be read (an older PostHog's 401). */
  refused?: boolean;
}

interface SessionEntry {
  id: string;
  key: KeyEntry;
  server: McpServer;
  transport: RedactingHttpTransport;
  lastSeen: number;
  active: number;
}

/** Whether a request comes from this machine (its socket's far end is a loopback address). */
export function fromLoopback(req: Pick<IncomingMessage, "socket">): boolean {
  const address = req.socket.remoteAddress ?? "";
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

function hashOf(apiKey: string): string {
  return createHash("sha256").update(apiKey).digest("hex");
}

/** A JSON-RPC error as an HTTP answer (id null: the request's id is not known here). */
function reject(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

export async function serveHttp(
  base: UpstreamBase,
  http: HttpConfig,
  options: HttpOptions = {},
): Promise<HttpServing> {
  const { config, logger, sandbox } = base;
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const sessionIdleMs = options.sessionIdleMs ?? 30 * 60_000;
  const maxSessions = options.maxSessions ?? 10_000;
  const drainMs = options.drainMs ?? 10_000;
  logConversionsTo(logger);

  const allowedHosts = new Set([...LOOPBACK, ...http.allowedHosts]);
  const bound = http.host.toLowerCase();
  if (bound !== "0.0.0.0" && bound !== "::") allowedHosts.add(bound.includes(":") ? `[${bound}]` : bound);
  const corsOrigins = new Set(http.corsOrigins);
  // The SDK's DNS-rebinding guards: the Host a request names, and the Origin a browser sends.
  const validateHost = hostHeaderValidation([...allowedHosts]);
  const validateOrigin = originValidation([...allowedHosts]);

  // ---------------------------------------------------------------- keys
  const keys = new Map<string, KeyEntry>();

  async function acquireKey(apiKey: string): Promise<KeyEntry> {
    const hash = hashOf(apiKey);
    let entry = keys.get(hash);
    if (!entry) {
      if (keys.size >= MAX_KEYS) {
        throw new TooManyKeys(`This server serves at most ${MAX_KEYS} keys at once: try again later.`);
      }
      let unchecked = 0;
      for (const other of keys.values()) if (!other.accepted) unchecked += 1;
      if (unchecked >= MAX_UNCHECKED_KEYS) {
        throw new TooManyKeys(
          `This server is checking ${MAX_UNCHECKED_KEYS} new keys with PostHog at once: try again in a moment.`,
        );
      }
      const keyLogger = logger.child({ key: `…${apiKey.slice(-4)}` });
      const client = base.clientFor(apiKey, keyLogger);
      entry = {
        apiKey,
        hash,
        client,
        grants: new KeyGrants(client, keyLogger),
        logger: keyLogger,
        users: 0,
        idleSince: Date.now(),
        accepted: false,
      };
      keys.set(hash, entry);
    } else if (Date.now() - entry.grants.readAt > GRANTS_TTL_MS) {
      void entry.grants.refresh();
    }
    entry.users += 1;
    await entry.grants.settled(KEY_CHECK_MS);
    // A key PostHog refuses later (revoked, say) loses what it held.
    if (entry.grants.current.status === "rejected") entry.accepted = false;
    else if (!entry.accepted) entry.accepted = await confirmed(entry);
    return entry;
  }

  /**
   * Whether PostHog accepted the key: its grants read, or (a PostHog too old to describe keys,
   * whose key endpoint answers 404) a page of one notebook read with it (a 403 is a key PostHog
   * knows, without the scope).
   */
  async function confirmed(entry: KeyEntry): Promise<boolean> {
    const grants = entry.grants.current;
    if (grants.status === "known") return true;
    if (grants.status !== "unknown" || !grants.reason.includes("(404)")) return false;
    try {
      const response = await entry.client.request({
        method: "GET",
        path: "/api/projects/@current/notebooks/",
        query: { limit: "1" },
      });
      if (response.status === 401) entry.refused = true;
      return response.status === 200 || response.status === 403;
    } catch {
      return false;
    }
  }

  /**
   * The key's entry, once PostHog has accepted it (the caller then holds it, and releases it);
   * otherwise the refusal is answered, the key is let go, and nothing is returned.
   */
  async function admitKey(apiKey: string, res: ServerResponse): Promise<KeyEntry | undefined> {
    const key = await acquireKey(apiKey);
    if (key.accepted && !res.destroyed) return key;
    releaseKey(key);
    if (!key.accepted && key.users === 0) void dropKey(key);
    if (!res.destroyed) refusedKey(res, key);
    return undefined;
  }

  function releaseKey(entry: KeyEntry): void {
    entry.users -= 1;
    if (entry.users === 0) entry.idleSince = Date.now();
  }

  async function dropKey(entry: KeyEntry): Promise<void> {
    keys.delete(entry.hash);
    await entry.client.close().catch(() => undefined);
    forgetSecret(entry.apiKey);
  }

  // ---------------------------------------------------------------- sessions
  const sessions = new Map<string, SessionEntry>();

  /** A 2025 session's server. */
  function openServer(key: KeyEntry, id: string): McpServer {
    const session = createSession({
      config,
      client: key.client,
      grants: key.grants,
      logger: key.logger.child({ mcpSession: id }),
      logTag: id,
      version: VERSION,
    });
    return createServer(session, { era: "legacy", lasting: true });
  }

  // ---------------------------------------------------------------- one request, either era
  /** The key each request was let in with (its hash travels as the SDK's pass-through authInfo). */
  function keyOfRequest(authInfo: AuthInfo | undefined): KeyEntry {
    const entry = keys.get(String(authInfo?.extra?.hash));
    if (!entry) throw new Error("a request reached the MCP handler without an acquired key");
    return entry;
  }

  const perRequest = createMcpHandler(
    ({ era, authInfo }) => {
      const key = keyOfRequest(authInfo);
      const session = createSession({
        config,
        client: key.client,
        grants: key.grants,
        logger: key.logger,
        version: VERSION,
      });
      return createServer(session, { era, lasting: false });
    },
    {
      // 2025 requests come here only with --stateless; otherwise they have their sessions.
      legacy: http.stateless ? "stateless" : "reject",
      maxRequestBodySize: maxBodyBytes,
      onerror: (error) => logger.debug({ err: error.message }, "MCP request refused"),
    },
  );
  const answerPerRequest = toNodeHandler(
    {
      fetch: async (request, options) =>
        redactedResponse(
          await perRequest.fetch(request, options),
          keyOfRequest(options?.authInfo).client.secrets,
        ),
    },
    {
      maxRequestBodySize: maxBodyBytes,
      onerror: (error) => logger.error({ err: error }, "MCP handler failed"),
    },
  );

  async function closeSession(entry: SessionEntry, why: string): Promise<void> {
    if (!sessions.delete(entry.id)) return;
    entry.key.logger.info({ session: entry.id, why }, "session closed");
    await entry.transport.close().catch(() => undefined);
    await entry.server.close().catch(() => undefined);
    releaseKey(entry.key);
  }

  /** A new stateful session, its transport answering the initialize request. */
  async function startSession(key: KeyEntry, req: IncomingMessage, res: ServerResponse, body: unknown) {
    const id = randomUUID();
    const server = openServer(key, id);
    const transport = new RedactingHttpTransport(
      {
        sessionIdGenerator: () => id,
        onsessioninitialized: () => {
          sessions.set(id, entry);
          key.logger.info({ session: id, sessions: sessions.size }, "session opened");
        },
        onsessionclosed: () => void closeSession(entry, "closed by the client"),
      },
      key.client.secrets,
    );
    const entry: SessionEntry = { id, key, server, transport, lastSeen: Date.now(), active: 1 };
    const closed = server.server.onclose;
    server.server.onclose = () => {
      closed?.();
      void closeSession(entry, "transport closed");
    };
    await server.connect(transport);
    try {
      await transport.handleRequest(req, res, body);
    } finally {
      entry.active -= 1;
      entry.lastSeen = Date.now();
      if (!sessions.has(id)) {
        // The initialize was refused: nothing to keep.
        await transport.close().catch(() => undefined);
        await server.close().catch(() => undefined);
        releaseKey(key);
      }
    }
  }

  // ---------------------------------------------------------------- requests
  let draining = false;
  let inflight = 0;
  let settledAll: (() => void) | undefined;

  /**
   * Request bytes being read across all requests: bounded, so that slow bodies cannot pile up.
   * Bodies of keys not accepted yet count apart, with a budget of their own, and only up to
   * UNCHECKED_BODY_BYTES each: past that, reading waits for PostHog's answer on the key.
   */
  let buffered = 0;
  let bufferedUnchecked = 0;

  /**
   * The request's body, parsed; undefined when it was refused (and answered). `admit` is asked,
   * once, before more than a small part of the body of a key not yet accepted is read: it answers
   * the refusal itself when the key is not accepted.
   */
  async function readBody(
    req: IncomingMessage,
    res: ServerResponse,
    admit: (() => Promise<boolean>) | undefined,
  ): Promise<unknown | undefined> {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      reject(res, 413, -32600, `Request body over ${maxBodyBytes} bytes.`, { connection: "close" });
      req.resume();
      return undefined;
    }
    const refuse = (status: number, message: string) => {
      reject(res, status, -32600, message, { connection: "close" });
      // The answer first, then the connection (destroying at once would reset it unread).
      res.once("finish", () => req.destroy());
      return undefined;
    };
    if (admit && Number.isFinite(declared) && declared > UNCHECKED_BODY_BYTES) {
      if (!(await admit())) return void res.once("finish", () => req.destroy());
      admit = undefined;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let unchecked = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (admit) {
          unchecked += chunk.length;
          bufferedUnchecked += chunk.length;
        } else buffered += chunk.length;
        if (size > maxBodyBytes) return refuse(413, `Request body over ${maxBodyBytes} bytes.`);
        if (buffered > MAX_BUFFERED_BYTES || bufferedUnchecked > MAX_UNCHECKED_BUFFERED) {
          return refuse(
            503,
            "This server is reading too many request bodies at once: try again in a moment.",
          );
        }
        chunks.push(chunk);
        if (admit && size > UNCHECKED_BODY_BYTES) {
          // Past the small part: the key is checked before anything more is read.
          if (!(await admit())) return void res.once("finish", () => req.destroy());
          admit = undefined;
          bufferedUnchecked -= unchecked;
          buffered += unchecked;
          unchecked = 0;
        }
      }
    } finally {
      bufferedUnchecked -= unchecked;
      buffered -= size - unchecked;
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
    } catch {
      reject(res, 400, -32700, "Parse error: the request body is not JSON.");
      return undefined;
    }
  }

  function keyOf(req: IncomingMessage, res: ServerResponse): string | undefined {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const realm = 'Bearer realm="posthog-notebooks-mcp"';
    if (!match?.[1]) {
      // The sandbox's own key stands in for a missing one only for clients on this machine: over
      // another address, a client names its key like any other.
      if (!header && sandbox && fromLoopback(req)) return sandbox.defaultKey;
      reject(
        res,
        401,
        -32001,
        `This server needs a PostHog personal API key on every request: send "Authorization: Bearer phx_…" (create one at ${keySettingsUrl(config.host)}).`,
        { "www-authenticate": realm },
      );
      return undefined;
    }
    const key = match[1];
    const problem = keyProblem(key, keySettingsUrl(config.host));
    if (problem) {
      reject(
        res,
        401,
        -32001,
        `${problem.problem.replace("POSTHOG_PERSONAL_API_KEY", "The key")}. ${problem.fix}`,
        {
          "www-authenticate": `${realm}, error="invalid_token"`,
        },
      );
      return undefined;
    }
    return key;
  }

  function checkOrigin(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (corsOrigins.has(origin)) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "Origin");
      res.setHeader("access-control-expose-headers", "Mcp-Session-Id, WWW-Authenticate");
      return true;
    }
    return validateOrigin(req, res);
  }

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "OPTIONS") {
      const origin = req.headers.origin;
      if (origin && corsOrigins.has(origin)) {
        res.writeHead(204, {
          "access-control-allow-origin": origin,
          vary: "Origin",
          "access-control-allow-methods": "GET, POST, DELETE",
          "access-control-allow-headers":
            "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID",
          "access-control-max-age": "600",
        });
        return void res.end();
      }
      return reject(res, 405, -32000, "Method not allowed.", { allow: "GET, POST, DELETE" });
    }
    if (!checkOrigin(req, res)) return;
    if (draining) {
      return reject(res, 503, -32000, "This server is shutting down: try again in a moment.", {
        "retry-after": "1",
      });
    }
    const apiKey = keyOf(req, res);
    if (apiKey === undefined) return;
    const known = keys.get(hashOf(apiKey));
    const admit =
      known?.accepted === true
        ? undefined
        : async () => {
            const key = await admitKey(apiKey, res);
            if (key) releaseKey(key);
            return key !== undefined;
          };
    const body = req.method === "POST" ? await readBody(req, res, admit) : null;
    if (body === undefined) return;
    const parsed = body ?? undefined;
    const era = (await isLegacyRequest(await toWebRequest(req, parsed), parsed)) ? "legacy" : "modern";
    // The SDK refuses a version it does not serve by repeating it; what cannot be a version (it
    // could be anything, a key even) is refused here without.
    const version = req.headers["mcp-protocol-version"];
    if (typeof version === "string" && !/^[\w.-]{1,20}$/.test(version)) {
      return reject(res, 400, -32000, "Bad Request: unsupported MCP-Protocol-Version (e.g. 2025-11-25).");
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
    const legacy = era === "legacy" && !http.stateless;
    if (!legacy) {
      const key = await admitKey(apiKey, res);
      if (!key) return;
      res.once("close", () => releaseKey(key));
      const auth: AuthInfo = { token: "", clientId: "posthog-key", scopes: [], extra: { hash: key.hash } };
      (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
      return answerPerRequest(req, res, parsed);
    }

    const sid = req.headers["mcp-session-id"];
    if (typeof sid === "string") {
      const entry = sessions.get(sid);
      // Another key's session is, to this key, a session that does not exist.
      if (!entry || entry.key.hash !== hashOf(apiKey)) {
        return reject(res, 404, -32001, "Session not found: it ended or expired; initialize a new one.");
      }
      // A GET is the session's stream, open for as long as the client listens: not a request in
      // flight (an idle session with a stream open can still be closed).
      const counted = req.method !== "GET";
      if (counted) entry.active += 1;
      entry.lastSeen = Date.now();
      try {
        await entry.transport.handleRequest(req, res, body ?? undefined);
      } finally {
        if (counted) entry.active -= 1;
        entry.lastSeen = Date.now();
      }
      return;
    }
    if (req.method !== "POST") {
      return reject(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required.");
    }
    if (!isInitializeRequest(body)) {
      return reject(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required (initialize first).");
    }
    if (sessions.size >= maxSessions) {
      return reject(
        res,
        503,
        -32000,
        `This server holds its maximum of ${maxSessions} sessions: try again later.`,
        {
          "retry-after": "30",
        },
      );
    }
    const key = await admitKey(apiKey, res);
    if (!key) return;
    const own = [...sessions.values()].filter((entry) => entry.key === key && entry.active === 0);
    if (own.length >= SESSIONS_PER_KEY) {
      const oldest = own.reduce((a, b) => (a.lastSeen <= b.lastSeen ? a : b));
      await closeSession(oldest, `the key opened more than ${SESSIONS_PER_KEY} sessions`);
    }
    await startSession(key, req, res, body);
  }

  function refusedKey(res: ServerResponse, key: KeyEntry): void {
    const grants = key.grants.current;
    if (grants.status !== "rejected" && !key.refused) {
      // Not refused, not accepted either (PostHog failing, slow, rate-limited): nothing is kept,
      // and the client is told to come back.
      reject(
        res,
        503,
        -32000,
        `PostHog could not confirm this personal API key just now (${grants.status === "unknown" ? grants.reason : "no answer in time"}): nothing was done; try again in a minute.`,
        { "retry-after": "30" },
      );
      return;
    }
    const reason = grants.status === "rejected" ? grants.reason : "401 Unauthorized";
    reject(
      res,
      401,
      -32001,
      `PostHog rejected this personal API key (${reason}). Create a new one at ${keySettingsUrl(config.host)}.`,
      { "www-authenticate": 'Bearer realm="posthog-notebooks-mcp", error="invalid_token"' },
    );
  }

  const server = createHttpServer((req, res) => {
    const started = performance.now();
    const counted = req.method !== "GET";
    if (counted) inflight += 1;
    res.on("close", () => {
      if (counted) {
        inflight -= 1;
        if (inflight === 0) settledAll?.();
      }
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
    if (!validateHost(req, res)) return;
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(draining ? 503 : 200, { "content-type": "application/json" });
      // How many sessions and keys are held is for this machine's eyes only.
      const detail = fromLoopback(req) ? { sessions: sessions.size, keys: keys.size } : {};
      return void res.end(
        JSON.stringify({ status: draining ? "draining" : "ok", version: VERSION, ...detail }),
      );
    }
    if (path !== "/mcp") return reject(res, 404, -32000, "Not found: the MCP endpoint is /mcp.");
    handleMcp(req, res).catch((error: unknown) => {
      if (error instanceof TooManyKeys) {
        return reject(res, 503, -32000, error.why, { "retry-after": "60" });
      }
      logger.error({ err: error }, "an HTTP request failed inside the server");
      reject(res, 500, -32603, "The request failed inside this server; try again.");
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
      for (const entry of sessions.values()) {
        if (entry.active === 0 && now - entry.lastSeen > sessionIdleMs) void closeSession(entry, "idle");
      }
      for (const entry of keys.values()) {
        if (entry.users === 0 && now - entry.idleSince > KEY_IDLE_MS) void dropKey(entry);
      }
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
  const url = `http://${shownHost}:${address.port}/mcp`;

  let closing: Promise<void> | undefined;
  return {
    url,
    sessions: () => sessions.size,
    close() {
      closing ??= (async () => {
        // Still listening while open requests finish: load balancers read 503 on /healthz, and new
        // requests are told to come back.
        draining = true;
        clearInterval(sweep);
        if (inflight > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, drainMs);
            settledAll = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        await Promise.all([...sessions.values()].map((entry) => closeSession(entry, "server stopping")));
        server.close();
        server.closeAllConnections();
        await Promise.all([...keys.values()].map(dropKey));
      })();
      return closing;
    },
  };
}
