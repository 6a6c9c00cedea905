/**
 * 2026-07-28 requests over HTTP (and, with `--stateless`, 2025 ones too), on the SDK's
 * `createMcpHandler`: a server per request, nothing kept between requests.
 *
 * One handler per key (its `subscriptions/listen` streams are the key's own).
 */
import type { ServerResponse } from "node:http";
import { type NodeMcpRequestHandler, toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, type McpHttpHandler } from "@modelcontextprotocol/server";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { createSession, type Session } from "../session.js";
import { VERSION } from "../version.js";
import { refuse } from "./http-refusal.js";
import { createServer } from "./index.js";
import type { KeyEntry } from "./key-admission.js";
import { redactedResponse } from "./redacting-transport.js";

/** Listen streams one key holds open at once (the SDK answers the next with -32603). */
const LISTENS_PER_KEY = 100;
/** Listen streams open at once in this process, at most (past it, 503). */
const MAX_LISTENS = 10_000;

export interface ModernOptions {
  config: Config;
  logger: Logger;
  stateless: boolean;
  maxBodyBytes: number;
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

  constructor(private readonly options: ModernOptions) {}

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
      streaming();
      if (this.#listening.size >= MAX_LISTENS) {
        return refuse(
          res,
          503,
          -32000,
          `This server holds its maximum of ${MAX_LISTENS} listen streams: try again later.`,
          {
            "retry-after": "30",
          },
        );
      }
      this.#listening.add(res);
      res.once("close", () => this.#listening.delete(res));
    }
    return this.#channel(key).answer(req, res, body);
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
        return createServer(sessionOf(), { era, lasting: false });
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
        fetch: async (request, options) =>
          redactedResponse(await handler.fetch(request, options), key.client.secrets),
      },
      {
        maxRequestBodySize: maxBodyBytes,
        onerror: (error) => logger.error({ err: error }, "MCP handler failed"),
      },
    );
    const stop = () => undefined;
    const channel: Channel = { handler, answer, stop };
    this.#channels.set(key, channel);
    return channel;
  }
}

function isListen(body: unknown): boolean {
  return (
    typeof body === "object" &&
    body !== null &&
    (body as { method?: unknown }).method === "subscriptions/listen"
  );
}
