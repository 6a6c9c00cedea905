/**
 * The upstream half of the server: the PostHog client (or the embedded sandbox and a client for
 * it) and the key's grants, whose first read starts at once. It loads nothing of MCP, so the entry
 * point can put that request on the wire before the protocol's code has even loaded.
 */
import { type Config, ConfigError } from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { PostHogClient } from "./posthog/client.js";
import { KeyGrants } from "./posthog/grants.js";
import { POSTHOG_PERSONAL_KEY_LIMITS, type RateLimits } from "./posthog/rate-limit.js";
import type { Sandbox } from "./sandbox/index.js";
import { USER_AGENT } from "./version.js";

export interface UpstreamOptions {
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

export interface Upstream {
  /** The configuration with the host and key in use (the sandbox's, in sandbox mode). */
  config: Config;
  client: PostHogClient;
  grants: KeyGrants;
  logger: Logger;
  sandbox: Sandbox | undefined;
  close(): Promise<void>;
}

/** Where requests go, before any key: PostHog, or the sandbox (started here). */
export interface UpstreamBase {
  /** The configuration with the host in use (the sandbox's, in sandbox mode). */
  config: Config;
  logger: Logger;
  sandbox: Sandbox | undefined;
  /**
   * A client for one key, with its own connections and its own share of PostHog's rate limits;
   * `alone`: the process serves this key only (stdio), so its processing time is not rationed.
   */
  clientFor(apiKey: string, logger?: Logger, alone?: boolean): PostHogClient;
  close(): Promise<void>;
}

/** Limits for a key that has the process to itself: PostHog's, without a share of processing time. */
function unrationed(limits: RateLimits | false | undefined): RateLimits | false {
  if (limits === false) return false;
  const own = limits ?? POSTHOG_PERSONAL_KEY_LIMITS;
  return own.cpuMsPerMinute === undefined ? { ...own, cpuMsPerMinute: Number.POSITIVE_INFINITY } : own;
}

export async function openUpstreamBase(input: Config, options: UpstreamOptions = {}): Promise<UpstreamBase> {
  let config = input;
  const logger = options.logger ?? createLogger(config.logLevel);

  let sandbox: Sandbox | undefined;
  if (config.mode === "sandbox") {
    // Loaded only when asked for: serving PostHog never pays for the sandbox's code.
    const { startSandbox, SandboxStateError } = await import("./sandbox/index.js");
    const stateFile = config.sandboxStateFile;
    try {
      sandbox = await startSandbox({
        seed: true,
        ...(stateFile
          ? {
              stateFile,
              onSaveError: (error: Error) =>
                logger.error(
                  { stateFile, error: (error as NodeJS.ErrnoException).code ?? error.message },
                  `Could not save the sandbox state to ${stateFile}: the latest changes are only in memory until a later save succeeds; check that its directory still exists and is writable.`,
                ),
            }
          : {}),
      });
    } catch (error) {
      // A state file that cannot work is a configuration problem: the entry point exits 2.
      if (error instanceof SandboxStateError) throw new ConfigError(error.message);
      throw error;
    }
    config = { ...config, host: sandbox.url, apiKey: sandbox.defaultKey };
    logger.info({ url: sandbox.url }, "sandbox started");
  }
  return {
    config,
    logger,
    sandbox,
    clientFor: (apiKey, clientLogger = logger, alone = false) =>
      new PostHogClient({
        host: config.host,
        apiKey,
        userAgent: USER_AGENT,
        timeouts: config.timeouts,
        connections: options.connections ?? 8,
        logger: clientLogger,
        ...(options.rateLimits === undefined && !alone
          ? {}
          : { rateLimits: alone ? unrationed(options.rateLimits) : options.rateLimits }),
        ...(options.retryBudgetMs === undefined ? {} : { retryBudgetMs: options.retryBudgetMs }),
        ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
      }),
    async close() {
      await sandbox?.close().catch(() => undefined);
    },
  };
}

export async function openUpstream(input: Config, options: UpstreamOptions = {}): Promise<Upstream> {
  const base = await openUpstreamBase(input, options);
  const { config, logger, sandbox } = base;
  const apiKey = config.apiKey;
  if (!apiKey) throw new Error("openUpstream needs an API key (or sandbox mode)");
  // One key, one user: nobody to share processing time with.
  const client = base.clientFor(apiKey, logger, true);
  const grants = new KeyGrants(client, logger);
  // The first read of the key's grants starts now; the first tools/list waits for it.
  void grants.settled();
  return {
    config,
    client,
    grants,
    logger,
    sandbox,
    async close() {
      await client.close().catch(() => undefined);
      await base.close();
    },
  };
}
