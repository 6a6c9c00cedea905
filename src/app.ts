/**
 * Assembly: configuration → upstream (PostHog, or the embedded sandbox) → session → MCP server.
 * The entry point serves it over stdio; tests connect it to an in-memory client.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Config } from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { PostHogClient } from "./posthog/client.js";
import { KeyGrants } from "./posthog/grants.js";
import type { RateLimits } from "./posthog/rate-limit.js";
import type { Sandbox } from "./sandbox/index.js";
import { createServer } from "./server/index.js";
import { createSession, type Session } from "./server/session.js";
import { USER_AGENT, VERSION } from "./version.js";

export interface App {
  config: Config;
  server: Server;
  session: Session;
  logger: Logger;
  sandbox: Sandbox | undefined;
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Upstream connections at most (default 8). */
  connections?: number;
  /** Client-side request budget (default PostHog's 480/min and 4800/h); false disables it. */
  rateLimits?: RateLimits | false;
  /** How long upstream retries may wait in all (default 30 s). */
  retryBudgetMs?: number;
  /** Largest upstream response body accepted, in bytes (default 32 MiB). */
  maxBodyBytes?: number;
}

export async function createApp(input: Config, options: AppOptions = {}): Promise<App> {
  let config = input;
  let apiKey = config.apiKey;
  const logger = options.logger ?? createLogger(config.logLevel, () => apiKey);

  let sandbox: Sandbox | undefined;
  if (config.mode === "sandbox") {
    // Loaded only when asked for: serving PostHog never pays for the sandbox's code.
    const { startSandbox } = await import("./sandbox/index.js");
    sandbox = await startSandbox({
      seed: true,
      ...(config.sandboxStateFile ? { stateFile: config.sandboxStateFile } : {}),
    });
    apiKey = sandbox.defaultKey;
    config = { ...config, host: sandbox.url, apiKey };
    logger.info({ url: sandbox.url }, "sandbox started");
  }
  if (!apiKey) throw new Error("createApp needs an API key (or sandbox mode)");

  const client = new PostHogClient({
    host: config.host,
    apiKey,
    userAgent: USER_AGENT,
    timeouts: config.timeouts,
    connections: options.connections ?? 8,
    logger,
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
    ...(options.retryBudgetMs === undefined ? {} : { retryBudgetMs: options.retryBudgetMs }),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  });
  const grants = new KeyGrants(client, logger);
  // Read the key's grants while the rest starts; the first tools/list waits for them.
  void grants.settled();
  const session = createSession({ config, client, grants, logger, version: VERSION });
  const server = createServer(session);

  let closing: Promise<void> | undefined;
  return {
    config,
    server,
    session,
    logger,
    sandbox,
    close() {
      closing ??= (async () => {
        await server.close().catch(() => undefined);
        await client.close().catch(() => undefined);
        await sandbox?.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}
