/**
 * 2025-era sessions over HTTP (`Mcp-Session-Id`), on the SDK's Streamable HTTP transport: a server
 * of its own each, so that subscriptions, list changes and log messages reach the client on its
 * session's stream, as 2025 clients expect. A session answers only the key that opened it; one key
 * holds at most 100 (its 101st closes its least recently used idle one); all of them, with the
 * listen streams, are held to one budget in bytes shared fairly among keys (src/server/kept-memory.ts);
 * a session unused for `idleMs` is closed. A request whose client goes before its answer is
 * cancelled in its session, as a client that gives up says (`notifications/cancelled`).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import { isInitializeRequest, type McpServer } from "@modelcontextprotocol/server";
import { refuse } from "./http-refusal.js";
import { inSteps, jsonLength, type Kept, type KeptMemory, memoryFull } from "./kept-memory.js";
import { hashOf, type KeyAdmission, type KeyEntry } from "./key-admission.js";
import { messagesOf } from "./read-message.js";
import { redactingTransport } from "./redacting-transport.js";

/** Sessions one key holds at once; past it, its least recently used idle session is closed. */
const SESSIONS_PER_KEY = 100;
/**
 * What a session holds, as the memory budget counts it: its SDK server, transport and handlers
 * (56-59 KB measured, on the heap), its initialize as kept (client name and capabilities: about its
 * length), and the most it may watch (1,000 notebooks: 66-114 KB measured, counted 128 KB). Measured in
 * bench/kept-memory.mjs.
 */
export function sessionBytes(initialize: unknown): number {
  return inSteps(64 * 1024 + 128 * 1024 + jsonLength(initialize));
}

interface SessionEntry {
  id: string;
  key: KeyEntry;
  server: McpServer;
  transport: NodeStreamableHTTPServerTransport;
  lastSeen: number;
  /** Its place in the order the sessions were last used in (the least recently used gives way). */
  used: number;
  /** Requests in flight (a GET stream is not one: an idle session with a stream open can close). */
  active: number;
  kept: Kept<KeyEntry>;
}

export interface SessionLimits {
  /** A session unused this long is closed. */
  idleMs: number;
}

export class LegacySessions {
  readonly #sessions = new Map<string, SessionEntry>();

  /** `serverFor` builds a new session's server (`id`: the session's id, for its logs). */
  constructor(
    private readonly keys: KeyAdmission,
    private readonly serverFor: (key: KeyEntry, id: string) => McpServer,
    private readonly limits: SessionLimits,
    /** What sessions and listen streams may hold, for all keys. */
    private readonly memory: KeptMemory<KeyEntry>,
    /** Hears of each session's GET stream (open for as long as its client listens). */
    private readonly streamOpened: (key: KeyEntry, res: ServerResponse) => void = () => undefined,
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  /** Answers a 2025 request of `apiKey`: in its session, or (initialize) in a new one. */
  async answer(apiKey: string, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const sid = req.headers["mcp-session-id"];
    if (typeof sid === "string") return this.#inSession(sid, apiKey, req, res, body);
    if (req.method !== "POST") {
      return refuse(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required.");
    }
    if (!isInitializeRequest(body)) {
      return refuse(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required (initialize first).");
    }
    const key = await this.keys.admit(apiKey, res);
    if (!key) return;
    const own = [...this.#sessions.values()].filter((entry) => entry.key === key && entry.active === 0);
    if (own.length >= SESSIONS_PER_KEY) {
      const oldest = own.reduce((a, b) => (a.used <= b.used ? a : b));
      await this.#close(oldest, `the key opened more than ${SESSIONS_PER_KEY} sessions`);
    }
    await this.#start(key, req, res, body);
  }

  closeIdle(now: number): void {
    for (const entry of this.#sessions.values()) {
      if (entry.active === 0 && now - entry.lastSeen > this.limits.idleMs) void this.#close(entry, "idle");
    }
  }

  async closeAll(why: string): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((entry) => this.#close(entry, why)));
  }

  async #inSession(sid: string, apiKey: string, req: IncomingMessage, res: ServerResponse, body: unknown) {
    const entry = this.#sessions.get(sid);
    // Another key's session is, to this key, a session that does not exist.
    if (!entry || entry.key.hash !== hashOf(apiKey)) {
      return refuse(res, 404, -32001, "Session not found: it ended or expired; initialize a new one.");
    }
    // A GET is the session's stream, open for as long as the client listens: not a request in
    // flight (an idle session with a stream open can still be closed).
    const counted = req.method !== "GET";
    if (counted) {
      cancelIfGone(entry, res, body);
      entry.active += 1;
    } else this.streamOpened(entry.key, res);
    entry.lastSeen = Date.now();
    entry.used = this.memory.stamp();
    try {
      await entry.transport.handleRequest(req, res, body ?? undefined);
    } finally {
      if (counted) entry.active -= 1;
      entry.lastSeen = Date.now();
      entry.used = this.memory.stamp();
    }
  }

  /** A new session, its transport answering the initialize request. */
  async #start(key: KeyEntry, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const id = randomUUID();
    // Counted before anything is made for it (nothing between here and `entry` waits).
    const kept: Kept<KeyEntry> = {
      owner: key,
      bytes: sessionBytes(body),
      lastUsed: () => entry.used,
      idle: () => entry.active === 0,
      letGo: (why) => void this.#close(entry, why),
    };
    if (!this.memory.take(kept)) {
      this.keys.release(key);
      return refuse(res, 503, -32000, memoryFull(this.memory, "session"), { "retry-after": "30" });
    }
    const server = this.serverFor(key, id);
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: () => {
        this.#sessions.set(id, entry);
        key.logger.info({ session: id, sessions: this.#sessions.size }, "session opened");
      },
      onsessionclosed: () => void this.#close(entry, "closed by the client"),
    });
    const entry: SessionEntry = {
      id,
      key,
      server,
      transport,
      lastSeen: Date.now(),
      used: this.memory.stamp(),
      active: 1,
      kept,
    };
    const closed = server.server.onclose;
    server.server.onclose = () => {
      closed?.();
      void this.#close(entry, "transport closed");
    };
    try {
      await server.connect(redactingTransport(transport, key.client.secrets));
      await transport.handleRequest(req, res, body);
    } finally {
      entry.active -= 1;
      entry.lastSeen = Date.now();
      entry.used = this.memory.stamp();
      if (!this.#sessions.has(id)) {
        // The initialize was refused: nothing to keep.
        this.memory.release(kept);
        await transport.close().catch(() => undefined);
        await server.close().catch(() => undefined);
        this.keys.release(key);
      }
    }
  }

  async #close(entry: SessionEntry, why: string): Promise<void> {
    if (!this.#sessions.delete(entry.id)) return;
    this.memory.release(entry.kept);
    entry.key.logger.info({ session: entry.id, why }, "session closed");
    await entry.transport.close().catch(() => undefined);
    await entry.server.close().catch(() => undefined);
    this.keys.release(entry.key);
  }
}

/**
 * Cancels the requests in `body` in the session once their client has gone (the response closed
 * before it was written), as MCP's `notifications/cancelled` from that client would: the SDK then
 * stops their handlers and what they wait for. A call waiting for its user's confirmation held its
 * request (arguments of megabytes) for the SDK's 5 minutes otherwise, however many forms one key
 * opened and dropped: one key's 241 such calls held 800 MB.
 */
function cancelIfGone(entry: SessionEntry, res: ServerResponse, body: unknown): void {
  const ids = messagesOf(body).flatMap((message) => {
    const { method, id } = (message ?? {}) as { method?: unknown; id?: unknown };
    return typeof method === "string" && (typeof id === "string" || typeof id === "number") ? [id] : [];
  });
  if (ids.length === 0) return;
  res.once("close", () => {
    if (res.writableFinished) return;
    for (const requestId of ids) {
      // Delivered as the transport delivers what its client sends.
      entry.transport.onmessage?.({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId, reason: "The client went away before the answer." },
      });
    }
  });
}
