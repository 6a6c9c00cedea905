/**
 * The MCP server, with handlers generated from the operations table.
 *
 * `Server`, not `McpServer`, because SDK 1.x's `McpServer` answers unknown tools and task-augmented
 * calls against the 2025-11-25 spec, cannot page `resources/list`, and sends 20 KB of tool schemas.
 *
 * One step from SDK v2: v2's `McpServer` behaves as these handlers do (unknown tool → -32602,
 * invalid arguments → an `isError` result, `params.task` ignored), so moving means feeding the same
 * operations table to its `registerTool` (as getsentry/sentry-mcp feeds one list to v1 and v2), with
 * the compact schemas through `fromJsonSchema`, and importing from `@modelcontextprotocol/server`.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  type LoggingLevel,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { listenToLogs } from "../logger.js";
import { OPERATIONS } from "../operations/index.js";
import { keySettingsUrl } from "../posthog/scopes.js";
import type { Session } from "../session.js";
import { serverInstructions } from "./instructions.js";
import { INVALID_PARAMS, ProtocolError } from "./protocol-error.js";
import {
  completeShortId,
  listResources,
  listResourceTemplates,
  NOTEBOOK_MARKDOWN_URI_TEMPLATE,
  NOTEBOOK_URI_TEMPLATE,
  notebookMarkdownUri,
  notebookUri,
  readResource,
} from "./resources.js";
import { callTool, isAvailable, listTools } from "./tools.js";

/**
 * The SDK validates elicitation answers with a JSON Schema validator (ajv by default, costly to
 * build at start). This server never elicits, so none is needed; one that refuses stands in.
 */
const noValidation: jsonSchemaValidator = {
  getValidator: () => () => ({
    valid: false,
    data: undefined,
    errorMessage: "posthog-notebooks-mcp does not validate JSON Schemas (it never elicits)",
  }),
};

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

export function createServer(session: Session): Server {
  const situation = toolSituation(session);
  const server = new Server(
    { name: "posthog-notebooks-mcp", title: "PostHog Notebooks", version: session.version },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        completions: {},
        logging: {},
      },
      jsonSchemaValidator: noValidation,
      instructions: serverInstructions({
        ...situation,
        sandbox: session.config.mode === "sandbox",
      }),
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    await session.grants.settled();
    return { tools: listTools(session) };
  });
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    callTool(session, request.params.name, request.params.arguments, extra.signal),
  );
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => listResourceTemplates());
  server.setRequestHandler(ListResourcesRequestSchema, (request, extra) =>
    listResources(session, request.params?.cursor, extra.signal),
  );
  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
    readResource(session, request.params.uri, extra.signal),
  );

  server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
    const { ref, argument } = request.params;
    const templates = [NOTEBOOK_URI_TEMPLATE, NOTEBOOK_MARKDOWN_URI_TEMPLATE];
    if (ref.type !== "ref/resource" || !templates.includes(ref.uri) || argument.name !== "short_id") {
      return { completion: { values: [], total: 0, hasMore: false } };
    }
    return { completion: await completeShortId(session, argument.value, extra.signal) };
  });

  // Log messages (notifications/message): warnings and errors until the client sets a level.
  let threshold = MCP_TO_PINO.warning;
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    threshold = MCP_TO_PINO[request.params.level];
    return {};
  });
  const stopLogs = listenToLogs((level, data) => {
    if (level < threshold || !server.transport) return;
    void server
      .sendLoggingMessage({
        level: pinoToMcp(level),
        logger: "posthog-notebooks-mcp",
        data: session.client.secrets.redactDeep(data),
      })
      .catch(() => undefined);
  }, session.logTag);

  // Subscriptions: clients hear when a notebook they watch is changed through this server.
  const subscribed = new Set<string>();
  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const { uri } = request.params;
    if (uri.length > 2_048)
      throw new ProtocolError(INVALID_PARAMS, "A resource URI is at most 2,048 characters.");
    if (!subscribed.has(uri) && subscribed.size >= MAX_SUBSCRIPTIONS) {
      throw new ProtocolError(
        INVALID_PARAMS,
        `A session can watch at most ${MAX_SUBSCRIPTIONS} resources: unsubscribe from some first.`,
      );
    }
    subscribed.add(uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });
  session.changeListeners.add((shortId, listed) => {
    if (!server.transport) return;
    for (const uri of [notebookUri(shortId), notebookMarkdownUri(shortId)]) {
      if (subscribed.has(uri)) void server.sendResourceUpdated({ uri }).catch(() => undefined);
    }
    if (listed) void server.sendResourceListChanged().catch(() => undefined);
  });

  // When the key's grants change, tell clients whose cached tool list is now wrong.
  let offered = availableNames(session);
  const stopGrants = session.grants.onChange(() => {
    const now = availableNames(session);
    if (now !== offered) {
      offered = now;
      session.logger.info({ tools: now }, "the set of usable tools changed");
      if (server.transport) void server.sendToolListChanged().catch(() => undefined);
    }
  });
  // A session that ends leaves nothing behind in what outlives it (the key's grants, the log).
  server.onclose = () => {
    stopLogs();
    stopGrants();
  };
  return server;
}

/** Resources one session may watch at once. */
const MAX_SUBSCRIPTIONS = 1_000;

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

function availableNames(session: Session): string {
  return OPERATIONS.filter((op) => isAvailable(op, session))
    .map((op) => op.name)
    .join(",");
}
