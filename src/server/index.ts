/**
 * The MCP server factory: one `McpServer` per connection (stdio, a 2025 HTTP session) or per
 * request (2026-07-28 over HTTP, `--stateless`), its tools and resources registered from the
 * operations table. Every transport builds its servers here.
 *
 * Three methods are answered by our own handlers through `server.server` (the SDK's documented
 * per-method escape hatch), because `McpServer` cannot do what this server does there:
 * - `tools/list` lists only the tools the key and the mode allow, while a call to any other tool is
 *   still answered with a sentence saying why it cannot run (a disabled tool would be a bare -32602);
 * - `resources/list` is paged (MCP cursors onto PostHog's offsets; `McpServer` lists in one go);
 * - `resources/read` reads the URI as sent (`McpServer` normalizes it as a URL first, so that
 *   `posthog://notebooks/../x` would read notebook `x`) and answers a miss with the URI asked for;
 * - `completion/complete` says how many matches there are and whether there are more (a template's
 *   completer returns values only);
 * - `resources/subscribe` (2025 era): clients hear when a notebook they watch changes here.
 */
import {
  type CacheHint,
  isInputRequiredResult,
  type LoggingLevel,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
} from "@modelcontextprotocol/server";
import { registerNotebookApp, registerTableTool } from "../app-view/index.js";
import { listenToLogs } from "../logger.js";
import { OPERATIONS } from "../operations/index.js";
import { keySettingsUrl } from "../posthog/scopes.js";
import type { Session } from "../session.js";
import { askedOnConnection, CONFIRM_TTL_SECONDS, createConfirmations } from "./confirm.js";
import { serverInstructions } from "./instructions.js";
import {
  completeShortId,
  isNotebookUri,
  listResources,
  MAX_SUBSCRIPTIONS,
  NOTEBOOK_MARKDOWN_URI_TEMPLATE,
  NOTEBOOK_URI_TEMPLATE,
  notebookMarkdownUri,
  notebookUri,
  readResource,
} from "./resources.js";
import { callTool, isAvailable, listTools } from "./tools.js";

export interface ServerShape {
  /** The protocol era the server speaks: `legacy` (2025-11-25 and before) or `modern` (2026-07-28). */
  era: "legacy" | "modern";
  /**
   * Whether the server outlives the request (a stdio connection, a 2025 HTTP session): only then can
   * it send what no request asked for (list changes, resource updates, log messages), so only then
   * are those advertised.
   */
  lasting: boolean;
  /**
   * Whether what this server changes is heard on `subscriptions/listen` streams it does not serve
   * itself (a 2026 request over HTTP: its key's streams, src/server/modern-requests.ts): then those
   * notifications are advertised too.
   */
  listened?: boolean;
}

/**
 * What the instructions say about the tools: read-only when nothing that writes is offered, and,
 * when nothing at all is, why (also logged, so that whoever set the server up sees it).
 */
function toolSituation(session: Session): { readOnly: boolean; noTools?: string } {
  const offered = OPERATIONS.filter((op) => isAvailable(op, session));
  if (offered.length === 0) {
    const grants = session.grants.current;
    const held = grants.status === "known" ? grants.scopes.join(" ") : "none";
    const noTools = `The personal API key holds none of the scopes the notebook tools need (it has: ${held}). Add notebook:read (and notebook:write to create and edit) to the key at ${keySettingsUrl(session.config.host)}, then restart the server.`;
    session.logger.warn({ scopes: held }, `no tool is available: ${noTools}`);
    return { readOnly: true, noTools };
  }
  return { readOnly: !offered.some((op) => op.writes) };
}

export function createServer(
  session: Session,
  shape: ServerShape = { era: "legacy", lasting: true },
): McpServer {
  const situation = toolSituation(session);
  // Subscriptions, list changes and log messages reach a 2025 client unasked, on its connection;
  // a 2026 client asks for changes (notebooks it watches, lists) on a subscriptions/listen stream,
  // which the SDK's stdio entry serves, and over HTTP the key's listen streams (when `listened`).
  const notifying = shape.lasting;
  const advertised = notifying || shape.listened === true;
  const legacyNotifying = notifying && shape.era === "legacy";
  // What cannot be taken back is confirmed by the user, when the client can ask (confirm.ts).
  const confirmations = createConfirmations(session);
  const server = new McpServer(
    { name: "posthog-notebooks-mcp", title: "PostHog Notebooks", version: session.version },
    {
      capabilities: {
        tools: { listChanged: advertised },
        resources: { listChanged: advertised, subscribe: advertised },
        completions: {},
        ...(legacyNotifying ? { logging: {} } : {}),
      },
      cacheHints: CACHE_HINTS,
      requestState: { verify: confirmations.verify },
      // On a 2025 connection the SDK asks the user itself: no longer than a form's answer is good for.
      inputRequired: { roundTimeoutMs: CONFIRM_TTL_SECONDS * 1000 },
      instructions: serverInstructions({ ...situation, sandbox: session.config.mode === "sandbox" }),
    },
  );

  // The notebook view (an MCP App), for clients that render one; undefined with --no-ui.
  const app = registerNotebookApp(server, session);
  for (const op of OPERATIONS) {
    registerTableTool(server, app, op, async (args, ctx) => {
      const result = await callTool(
        session,
        op,
        args,
        ctx.mcpReq.signal,
        confirmations.before(ctx, () => server.server.getClientCapabilities()),
      );
      if (!legacyNotifying || !isInputRequiredResult(result)) return result;
      return askedOnConnection(result, ctx.mcpReq.signal, () =>
        session.logger.info({ tool: op.name }, "a confirmation was given up: the call was cancelled"),
      );
    });
  }
  server.server.setRequestHandler("tools/list", async (_request, ctx) => {
    await session.grants.settled();
    const tools = listTools(session);
    return { tools: app ? app.listTools(tools, ctx) : tools };
  });

  const complete = {
    short_id: (value: string) => completeShortId(session, value).then((found) => found.values),
  };
  // Registered for resources/templates/list (and the capability); read and completion below.
  server.registerResource(
    "notebook-text",
    new ResourceTemplate(NOTEBOOK_URI_TEMPLATE, { list: undefined, complete }),
    {
      title: "Notebook text",
      description: "The plain text (text_content) of a PostHog notebook, by short id.",
      mimeType: "text/plain",
    },
    (uri, _variables, ctx) => readResource(session, uri.href, ctx.mcpReq.signal),
  );
  server.registerResource(
    "notebook-markdown",
    new ResourceTemplate(NOTEBOOK_MARKDOWN_URI_TEMPLATE, { list: undefined, complete }),
    {
      title: "Notebook as Markdown",
      description: "A PostHog notebook as Markdown, PostHog components included as tags, by short id.",
      mimeType: "text/markdown",
    },
    (uri, _variables, ctx) => readResource(session, uri.href, ctx.mcpReq.signal),
  );
  server.server.setRequestHandler("resources/list", async (request, ctx) => {
    const listed = await listResources(session, request.params?.cursor, ctx.mcpReq.signal);
    return app ? app.listResources(listed, request.params?.cursor, ctx) : listed;
  });
  server.server.setRequestHandler(
    "resources/read",
    (request, ctx) =>
      app?.read(request.params.uri) ?? readResource(session, request.params.uri, ctx.mcpReq.signal),
  );
  server.server.setRequestHandler("completion/complete", async (request, ctx) => {
    const { ref, argument } = request.params;
    const templates = [NOTEBOOK_URI_TEMPLATE, NOTEBOOK_MARKDOWN_URI_TEMPLATE];
    if (ref.type !== "ref/resource" || !templates.includes(ref.uri) || argument.name !== "short_id") {
      return { completion: { values: [], total: 0, hasMore: false } };
    }
    return { completion: await completeShortId(session, argument.value, ctx.mcpReq.signal) };
  });

  const stops: (() => void)[] = [];
  if (legacyNotifying) stops.push(...legacyNotifications(server, session));

  // When the key's grants change, tell clients whose cached tool list is now wrong.
  if (notifying) {
    let offered = availableNames(session);
    stops.push(
      session.grants.onChange(() => {
        const now = availableNames(session);
        if (now !== offered) {
          offered = now;
          session.logger.info({ tools: now }, "the set of usable tools changed");
          if (server.isConnected()) server.sendToolListChanged();
        }
      }),
    );
    if (shape.era === "modern") {
      // The SDK's stdio entry delivers these on the subscriptions/listen streams that asked for them.
      const listener = (shortId: string, listed: boolean) => {
        if (!server.isConnected()) return;
        for (const uri of [notebookUri(shortId), notebookMarkdownUri(shortId)]) {
          void server.server.sendResourceUpdated({ uri }).catch(() => undefined);
        }
        if (listed) server.sendResourceListChanged();
      };
      session.changeListeners.add(listener);
      stops.push(() => session.changeListeners.delete(listener));
    }
  }
  // A server that ends leaves nothing behind in what outlives it (the key's grants, the log).
  server.server.onclose = () => {
    for (const stop of stops) stop();
  };
  return server;
}

/** Log messages, the log level and resource subscriptions: the 2025 era's unasked notifications. */
function legacyNotifications(server: McpServer, session: Session): (() => void)[] {
  // Log messages (notifications/message): warnings and errors until the client sets a level.
  let threshold = MCP_TO_PINO.warning;
  server.server.setRequestHandler("logging/setLevel", async (request) => {
    threshold = MCP_TO_PINO[request.params.level];
    return {};
  });
  const stopLogs = listenToLogs((level, data) => {
    if (level < threshold || !server.isConnected()) return;
    void server
      .sendLoggingMessage({ level: pinoToMcp(level), logger: "posthog-notebooks-mcp", data })
      .catch(() => undefined);
  }, session.logTag);

  // Subscriptions: clients hear when a notebook they watch is changed through this server.
  const subscribed = new Set<string>();
  server.server.setRequestHandler("resources/subscribe", async (request) => {
    const { uri } = request.params;
    if (uri.length > 2_048)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, "A resource URI is at most 2,048 characters.");
    // Only notebooks change here: any other URI is accepted and not kept (it would never be told
    // of), so that what a session keeps is a few dozen bytes a watched notebook.
    if (!isNotebookUri(uri)) return {};
    if (!subscribed.has(uri) && subscribed.size >= MAX_SUBSCRIPTIONS) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `A session can watch at most ${MAX_SUBSCRIPTIONS} resources: unsubscribe from some first.`,
      );
    }
    subscribed.add(uri);
    return {};
  });
  server.server.setRequestHandler("resources/unsubscribe", async (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
  const listener = (shortId: string, listed: boolean) => {
    if (!server.isConnected()) return;
    for (const uri of [notebookUri(shortId), notebookMarkdownUri(shortId)]) {
      if (subscribed.has(uri)) void server.server.sendResourceUpdated({ uri }).catch(() => undefined);
    }
    if (listed) server.sendResourceListChanged();
  };
  session.changeListeners.add(listener);
  return [stopLogs, () => session.changeListeners.delete(listener)];
}

/**
 * How long 2026-07-28 clients may keep each list and read (`ttlMs`), and who may share it
 * (`cacheScope`), truthfully: what depends on the key (which tools it may call, the instructions
 * naming them) is private, and kept as long as the server keeps the key's grants (a minute); the
 * resource templates are the same for everyone; notebooks change in PostHog at any time, by anyone,
 * so their listing and text are not kept at all.
 */
const CACHE_HINTS: Partial<
  Record<
    "tools/list" | "resources/list" | "resources/templates/list" | "resources/read" | "server/discover",
    CacheHint
  >
> = {
  "tools/list": { ttlMs: 60_000, cacheScope: "private" },
  "server/discover": { ttlMs: 60_000, cacheScope: "private" },
  "resources/templates/list": { ttlMs: 3_600_000, cacheScope: "public" },
  "resources/list": { ttlMs: 0, cacheScope: "private" },
  "resources/read": { ttlMs: 0, cacheScope: "private" },
};

/** The lowest pino level each MCP level lets through. */
const MCP_TO_PINO: Record<LoggingLevel, number> = {
  debug: 0,
  info: 30,
  notice: 35,
  warning: 40,
  error: 50,
  critical: 60,
  alert: 70,
  emergency: 80,
};

function pinoToMcp(level: number): LoggingLevel {
  return level >= 60
    ? "critical"
    : level >= 50
      ? "error"
      : level >= 40
        ? "warning"
        : level >= 30
          ? "info"
          : "debug";
}

/** The tools the key and the mode allow, by name: when it changes, clients' tool lists are wrong. */
export function availableNames(session: Session): string {
  return OPERATIONS.filter((op) => isAvailable(op, session))
    .map((op) => op.name)
    .join(",");
}
