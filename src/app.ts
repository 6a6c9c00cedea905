/**
 * Assembly: configuration → upstream (PostHog, or the embedded sandbox) → session → MCP server.
 * The entry point serves it over stdio; tests connect it to an in-memory client.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { logConversionsTo } from "./operations/converter.js";
import type { Sandbox } from "./sandbox/index.js";
import { createServer } from "./server/index.js";
import { createSession, type Session } from "./session.js";
import { openUpstream, type Upstream, type UpstreamOptions } from "./upstream.js";
import { VERSION } from "./version.js";

export interface App {
  config: Config;
  server: Server;
  session: Session;
  logger: Logger;
  sandbox: Sandbox | undefined;
  close(): Promise<void>;
}

export interface AppOptions extends UpstreamOptions {
  /** An upstream already opened (the entry point opens it before loading MCP's code). */
  upstream?: Upstream;
}

export async function createApp(input: Config, options: AppOptions = {}): Promise<App> {
  const upstream = options.upstream ?? (await openUpstream(input, options));
  const { config, client, grants, logger, sandbox } = upstream;
  const session = createSession({ config, client, grants, logger, version: VERSION });
  logConversionsTo(logger);
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
        await upstream.close();
      })();
      return closing;
    },
  };
}
