/**
 * Assembly: configuration → upstream (PostHog, or the embedded sandbox) → session → MCP server.
 * The entry point serves it over stdio; tests connect it to an in-memory client.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
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
  /** Serves the MCP server over `transport`. */
  connect(transport: Transport): Promise<void>;
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
  // The instructions say which tools there are, so the key's grants are read first (the request
  // left when the upstream opened; the first tools/list would wait for it anyway).
  await grants.settled(3_000);
  const server = createServer(session);

  let closing: Promise<void> | undefined;
  return {
    config,
    server,
    session,
    logger,
    sandbox,
    connect: (transport) => server.connect(transport),
    close() {
      closing ??= (async () => {
        await server.close().catch(() => undefined);
        await upstream.close();
      })();
      return closing;
    },
  };
}
