/**
 * 2026-07-28 requests over HTTP (and, with `--stateless`, 2025 ones too), on the SDK's
 * `createMcpHandler`: a server per request, nothing kept between requests.
 *
 * One handler per key, so that a `subscriptions/listen` stream hears only of its own key: the
 * SDK's listen router delivers whatever its handler's event bus carries to every stream open on
 * that handler, and a key's bus carries only the changes made with that key, through this process
 * (its 2026 requests and its 2025 sessions alike), and only while the key may read notebooks in the
 * project. Another key's changes never reach it, whatever the two keys may read.
 *
 * With `--stateless` (replicas behind a load balancer), a replica hears only of the changes made
 * through itself, a part of a client's changes that no client can tell: so nothing is advertised
 * (no `listChanged`, no `subscribe`), and a listen stream is acknowledged with nothing honored.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { ServerResponse } from "node:http";
import { type NodeMcpRequestHandler, toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, type McpHttpHandler } from "@modelcontextprotocol/server";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { grantsAllow, projectAllowed } from "../posthog/scopes.js";
import { createSession, type Session } from "../session.js";
import { VERSION } from "../version.js";
import { refuse } from "./http-refusal.js";
import { availableNames, createServer } from "./index.js";
import { inSteps, jsonLength, type Kept, type KeptMemory, memoryFull } from "./kept-memory.js";
import type { KeyEntry } from "./key-admission.js";
import { redactedResponse } from "./redacting-transport.js";
import { notebookMarkdownUri, notebookUri, watchedUris } from "./resources.js";
import { StalledStreams } from "./stalled-streams.js";

/** Listen streams one key holds open at once (the SDK answers the next with -32603). */
const LISTENS_PER_KEY = 100;
/**
 * What a listen stream holds, as the memory budget counts it: the SDK's server and handlers for it
 * (94 KB measured), and its request as kept (`watchedOnly`), which the SDK holds in a few forms
 * (a filter of 1,000 notebook URIs, 59 KB as JSON, held 240 KB more). Measured in
 * bench/kept-memory.mjs.
 */
export function listenBytes(kept: unknown): number {
  return inSteps(96 * 1024 + 5 * jsonLength(kept));
}

/**
 * The parsed body of the request being answered, carried to the handler past `toNodeHandler`: given
 * the body itself, the adapter writes it out again as JSON for a web Request the handler does not
 * read (a 4 MB document, 40 ms of the server's thread, for each request). It is given `null` instead
 * (4 bytes), and the handler is given the body from here.
 */
const parsedBodies = new AsyncLocalStorage<{ body: unknown }>();

/**
 * Runs `answer` with `body` handed over to whoever takes it (`takeBody`) within it, once: the
 * request's context outlives its answer (undici keeps a request's abort signal, and what listens
 * to it, until the request is collected), so what the context holds is emptied as it is taken.
 * 2026 requests of 1 MB each, eight at a time, kept 800 MB to a gigabyte there before.
 */
export function handOver<T>(body: unknown, answer: () => T): T {
  return parsedBodies.run({ body }, answer);
}

/** The body handed over to the work running now, if any; the next call finds none. */
export function takeBody(): unknown {
  const box = parsedBodies.getStore();
  const body = box?.body;
  if (box) box.body = undefined;
  return body;
}

export interface ModernOptions {
  config: Config;
  logger: Logger;
  stateless: boolean;
  maxBodyBytes: number;
  /** What sessions and listen streams may hold, for all keys. */
  memory: KeptMemory<KeyEntry>;
}

/** One key's handler, and what it listens to to feed its listen streams. */
interface Channel {
  handler: McpHttpHandler;
  answer: NodeMcpRequestHandler;
  stop: () => void;
}

export class ModernRequests {
  readonly #channels = new Map<KeyEntry, Channel>();
  /** Open listen streams, answered as they close. */
  readonly #listening = new Set<ServerResponse>();
  /** Every stream a key holds open (listen streams, and its 2025 sessions' GET streams). */
  readonly stalled = new StalledStreams<KeyEntry>();

  constructor(private readonly options: ModernOptions) {}

  /** Listen streams open now. */
  get listening(): number {
    return this.#listening.size;
  }

  /**
   * Answers a request of `key` (held by the caller until `res` closes); `body` as parsed.
   * `streaming` is told when the request is a listen stream (open for as long as its client wants).
   */
  async answer(
    key: KeyEntry,
    req: Parameters<NodeMcpRequestHandler>[0],
    res: ServerResponse,
    body: unknown,
    streaming: () => void,
  ): Promise<void> {
    if (isListen(body)) {
      body = watchedOnly(body);
      streaming();
      const { memory } = this.options;
      const opened = memory.stamp();
      const kept: Kept<KeyEntry> = {
        owner: key,
        bytes: listenBytes(body),
        lastUsed: () => opened,
        idle: () => true,
        // Its client is told as a dropped connection is told: it listens again.
        letGo: (why) => {
          key.logger.info({ why }, "listen stream ended");
          res.destroy();
        },
      };
      if (!memory.take(kept)) {
        return refuse(res, 503, -32000, memoryFull(memory, "listen stream"), { "retry-after": "30" });
      }
      this.#listening.add(res);
      res.once("close", () => {
        this.#listening.delete(res);
        memory.release(kept);
      });
      this.stalled.watch(key, res);
    }
    const { answer } = this.#channel(key);
    return body === undefined ? answer(req, res) : handOver(body, () => answer(req, res, null));
  }

  /** Tells the key's listen streams that a notebook changed through this server. */
  announce(key: KeyEntry, shortId: string, listed: boolean): void {
    const ended = this.stalled.changed(key);
    if (ended > 0) key.logger.info({ ended }, "streams ended: their client stopped reading them");
    const channel = this.#channels.get(key);
    if (!channel || this.options.stateless) return;
    const grants = key.grants.current;
    if (!grantsAllow(grants, "notebook:read") || !projectAllowed(grants, this.options.config.projectId))
      return;
    channel.handler.notify.resourceUpdated(notebookUri(shortId));
    channel.handler.notify.resourceUpdated(notebookMarkdownUri(shortId));
    if (listed) channel.handler.notify.resourcesChanged();
  }

  /** Lets go of what was kept for a key that is let go. */
  async forget(key: KeyEntry): Promise<void> {
    const channel = this.#channels.get(key);
    if (!channel) return;
    this.#channels.delete(key);
    channel.stop();
    await channel.handler.close();
  }

  /**
   * Ends every listen stream, each with the empty result that tells its client the server ended it
   * (and not the network), and waits up to `waitMs` for them to be sent.
   */
  async closeAll(waitMs: number): Promise<void> {
    const sent = Promise.all(
      [...this.#listening].map((res) => new Promise<void>((resolve) => res.once("close", () => resolve()))),
    );
    await Promise.all([...this.#channels.keys()].map((key) => this.forget(key)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sent, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  #channel(key: KeyEntry): Channel {
    const known = this.#channels.get(key);
    if (known) return known;
    const { config, logger, stateless, maxBodyBytes } = this.options;
    const sessionOf = (): Session =>
      createSession({ config, client: key.client, grants: key.grants, logger: key.logger, version: VERSION });
    const handler = createMcpHandler(
      ({ era }) => {
        const session = sessionOf();
        const listened = !stateless && era === "modern";
        if (listened) session.changeListeners.add((shortId, listed) => this.announce(key, shortId, listed));
        return createServer(session, { era, lasting: false, listened });
      },
      {
        // 2025 requests come here only with --stateless; otherwise they have their sessions.
        legacy: stateless ? "stateless" : "reject",
        maxRequestBodySize: maxBodyBytes,
        maxSubscriptions: LISTENS_PER_KEY,
        onerror: (error) => logger.debug({ err: error.message }, "MCP request refused"),
      },
    );
    const answer = toNodeHandler(
      {
        fetch: async (request, options) => {
          const parsedBody = takeBody() ?? options?.parsedBody;
          const answered = await handler.fetch(request, { ...options, parsedBody });
          return redactedResponse(answered, key.client.secrets);
        },
      },
      {
        maxRequestBodySize: maxBodyBytes,
        onerror: (error) => logger.error({ err: error }, "MCP handler failed"),
      },
    );
    // When the key's grants change the tools it may call, its listen streams hear of it.
    let stop: () => void = () => undefined;
    if (!stateless) {
      const probe = sessionOf();
      let offered = availableNames(probe);
      stop = key.grants.onChange(() => {
        const now = availableNames(probe);
        if (now === offered) return;
        offered = now;
        handler.notify.toolsChanged();
      });
    }
    const channel: Channel = { handler, answer, stop };
    this.#channels.set(key, channel);
    return channel;
  }
}

export function isListen(body: unknown): boolean {
  return (
    typeof body === "object" &&
    body !== null &&
    (body as { method?: unknown }).method === "subscriptions/listen"
  );
}

/**
 * A listen request keeping only what this server can tell of: notebook URIs (the only resources
 * that change here), each once, as a 2025 session's `resources/subscribe` keeps; more than
 * MAX_SUBSCRIPTIONS of them were refused before (src/server/params.ts). The SDK keeps a stream's
 * filter as asked for as long as the stream is open, and looks through it for each change: a filter
 * of a request body's size (4 MiB of URIs), on each of a key's hundred streams, held hundreds of MB,
 * and took seconds of the server's thread to open. The acknowledgement tells the client what is
 * honored.
 */
export function watchedOnly(body: unknown): unknown {
  const { jsonrpc, id, method, params } = body as {
    jsonrpc?: unknown;
    id?: unknown;
    method?: unknown;
    params?: { _meta?: Record<string, unknown>; notifications?: Record<string, unknown> };
  };
  const asked = params?.notifications?.resourceSubscriptions;
  if (!Array.isArray(asked)) return body;
  // Only what the stream needs is kept, for as long as it is open: the protocol's own `_meta`
  // entries and the filter's flags (200 streams whose requests carried 4 MB of other fields held
  // 900 MB).
  const meta = Object.fromEntries(
    Object.entries(params?._meta ?? {}).filter(([name]) => name.startsWith("io.modelcontextprotocol/")),
  );
  const flags = Object.fromEntries(
    Object.entries(params?.notifications ?? {}).filter(([, value]) => typeof value === "boolean"),
  );
  const notifications = { ...flags, resourceSubscriptions: watchedUris(asked) };
  return { jsonrpc, id, method, params: { ...(params?._meta ? { _meta: meta } : {}), notifications } };
}
