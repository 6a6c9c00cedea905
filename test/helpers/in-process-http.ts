/**
 * The HTTP server in process, as the integration tests run it: the sandbox (on 127.0.0.1) holding
 * the given keys, this server's upstream for it (no rate limits, no log), serveHttp on loopback.
 */
import pino from "pino";
import type { Config } from "../../src/config.js";
import type { RateLimits } from "../../src/posthog/rate-limit.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { type HttpServing, serveHttp } from "../../src/server/http.js";
import { openUpstreamBase, type UpstreamBase } from "../../src/upstream.js";
import { testConfig } from "./harness.js";

export interface SandboxUpstream {
  sandbox: Sandbox;
  base: UpstreamBase;
  close(): Promise<void>;
}

/**
 * The sandbox with `keys` (every scope each), and an upstream base pointed at it (`rateLimits`: the
 * keys' limits on this server, none by default).
 */
export async function sandboxUpstream(
  keys: string[],
  config: Partial<Config> = {},
  rateLimits: RateLimits | false = false,
): Promise<SandboxUpstream> {
  const sandbox = await startSandbox({
    rateLimit: false,
    keys: keys.map((value) => ({ value, scopes: ["*"] })),
  });
  const base = await openUpstreamBase(
    { ...testConfig(sandbox.url, ""), ...config },
    { logger: pino({ level: "silent" }), rateLimits },
  );
  return {
    sandbox,
    base,
    async close() {
      await base.close();
      await sandbox.close();
    },
  };
}

/** serveHttp on 127.0.0.1, a free port, no extra hosts or origins. */
export function serveOnLoopback(base: UpstreamBase, stateless = false): Promise<HttpServing> {
  return serveHttp(base, { host: "127.0.0.1", port: 0, stateless, allowedHosts: [], corsOrigins: [] });
}
