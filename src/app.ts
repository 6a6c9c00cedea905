/**
 * Assembly: configuration → upstream (PostHog, or the embedded sandbox) → session → MCP servers.
 * The entry point serves them over stdio (either era, `serveStdio`); tests connect one to an
 * in-memory client.
 */
import type { McpServer, Transport } from "@modelcontextprotocol/server";
import { type StdioServerHandle, serveStdio } from "@modelcontextprotocol/server/stdio";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { logConversionsTo } from "./notebooks/worker-pool.js";
import type { Sandbox } from "./sandbox/index.js";
import { createServer } from "./server/index.js";
import { redactingTransport } from "./server/redacting-transport.js";
import { createSession, type Session } from "./session.js";
import { openUpstream, type Upstream, type UpstreamOptions } from "./upstream.js";
import { VERSION } from "./version.js";

export interface App {
  config: Config;
  session: Session;
  logger: Logger;
  sandbox: Sandbox | undefined;
  /** Serves a 2025-era MCP server over `transport` (tests: an in-memory pair), redacting what it sends. */
  connect(transport: Transport): Promise<McpServer>;
  /** Serves stdio-shaped `transport` in whichever era its client opens with. */
  serve(transport: Transport): StdioServerHandle;
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

  const servers = new Set<McpServer>();
  const handles = new Set<StdioServerHandle>();
  const track = (server: McpServer) => {
    servers.add(server);
    const closed = server.server.onclose;
    server.server.onclose = () => {
      closed?.();
      servers.delete(server);
    };
    return server;
  };
  let closing: Promise<void> | undefined;
  return {
    config,
    session,
    logger,
    sandbox,
    async connect(transport) {
      const server = track(createServer(session));
      await server.connect(redactingTransport(transport, client.secrets));
      return server;
    },
    serve(transport) {
      // One instance per connection, pinned to the era the client opens with (a discarded one
      // answers a 2026 client's server/discover probe before a 2025 client falls back).
      const handle = serveStdio(({ era }) => track(createServer(session, { era, lasting: true })), {
        transport,
        onerror: (error) => logger.debug({ err: error.message }, "stdio"),
      });
      handles.add(handle);
      return handle;
    },
    close() {
      closing ??= (async () => {
        await Promise.all([...handles].map((handle) => handle.close().catch(() => undefined)));
        await Promise.all([...servers].map((server) => server.close().catch(() => undefined)));
        await upstream.close();
      })();
      return closing;
    },
  };
}
