/**
 * The notebook view, an MCP App (io.modelcontextprotocol/ui): one self-contained HTML page
 * (src/view/, built by scripts/build.mjs) that shows a notebook as PostHog does, what a write
 * changed, and lets the person correct a passage. notebooks-retrieve, -create, -edit and
 * -partial-update point to it; it reads and saves through two app-only tools (tools.ts).
 *
 * Only clients that say they render MCP Apps (the extension in their capabilities) are shown any of
 * it: for every other client, tools/list, resources/list and every result are as they were.
 * `--no-ui` (POSTHOG_MCP_NO_UI) turns it off for all.
 */
import { readFileSync } from "node:fs";
import {
  getUiCapability,
  RESOURCE_MIME_TYPE,
  RESOURCE_URI_META_KEY,
  registerAppResource,
  registerAppTool,
} from "@modelcontextprotocol/ext-apps/server";
import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  type ListResourcesResult,
  type McpServer,
  type ReadResourceResult,
  type ServerContext,
  type StandardSchemaWithJSON,
  type Tool,
  type ToolCallback,
} from "@modelcontextprotocol/server";
import type { Operation } from "../operations/types.js";
import { callTool, isAvailable, toolConfig, toolDefinition } from "../server/tools.js";
import type { Session } from "../session.js";
import { viewRead, viewSave } from "./tools.js";

export const VIEW_URI = "ui://posthog-notebooks/notebook.html";

/** The tools whose results the view shows. */
export const VIEWED_TOOLS: ReadonlySet<string> = new Set([
  "notebooks-retrieve",
  "notebooks-create",
  "notebooks-edit",
  "notebooks-partial-update",
]);

/** The tools only the view calls. */
export const APP_TOOLS: readonly Operation[] = [viewRead, viewSave];

const VIEWED_META = { ui: { resourceUri: VIEW_URI }, [RESOURCE_URI_META_KEY]: VIEW_URI };
const APP_ONLY_META = { ui: { resourceUri: VIEW_URI, visibility: ["app"] } };

/**
 * Where the view's HTML is, from this module: the build (scripts/build.mjs) writes it to
 * dist/notebook-view.html and says where that is from the bundle's chunks; run from the sources
 * (tests), it is dist/ of the checkout. Read on first use, so that a start never pays for it.
 */
declare const __NOTEBOOK_VIEW_FILE__: string | undefined;
const viewFile =
  typeof __NOTEBOOK_VIEW_FILE__ === "string" ? __NOTEBOOK_VIEW_FILE__ : "../../dist/notebook-view.html";
let html: string | undefined;

function viewHtml(): string {
  if (html === undefined) {
    try {
      html = readFileSync(new URL(viewFile, import.meta.url), "utf8");
    } catch {
      return "<!doctype html><title>Notebook</title><p>The notebook view is not built: run npm run build.</p>";
    }
  }
  return html;
}

/** Whether the client renders MCP Apps: the extension, with the MCP App type, in its capabilities. */
export function rendersApps(server: McpServer, ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  // On a 2025 connection the capabilities are the ones the client gave at initialize.
  const capabilities = declared ?? server.server.getClientCapabilities();
  return getUiCapability(capabilities)?.mimeTypes?.includes(RESOURCE_MIME_TYPE) === true;
}

export interface NotebookApp {
  /** The tools/list answer for this request's client. */
  listTools(tools: Tool[], ctx: ServerContext): Tool[];
  /** The resources/list answer for this request's client. */
  listResources(
    result: ListResourcesResult,
    cursor: string | undefined,
    ctx: ServerContext,
  ): ListResourcesResult;
  /** The view, when `uri` is its URI (resources/read answers every other URI as before). */
  read(uri: string): Promise<ReadResourceResult> | undefined;
  /** Whether a tool of the operations table is registered with the view linked. */
  links(op: Operation): boolean;
}

/**
 * Registers the view and its app-only tools on `server`, unless the server runs with --no-ui (then
 * undefined: nothing changes anywhere).
 */
export function registerNotebookApp(server: McpServer, session: Session): NotebookApp | undefined {
  if (session.config.ui === false) return undefined;
  const read = async (): Promise<ReadResourceResult> => ({
    contents: [
      {
        uri: VIEW_URI,
        mimeType: RESOURCE_MIME_TYPE,
        text: viewHtml(),
        // No connectDomains or resourceDomains: the view reaches nothing but its host.
        _meta: { ui: { csp: {}, prefersBorder: true } },
      },
    ],
  });
  registerAppResource(
    server,
    "Notebook view",
    VIEW_URI,
    {
      description:
        "Shows a PostHog notebook as PostHog does, what a write changed, and lets a person correct it.",
      _meta: { ui: { csp: {}, prefersBorder: true } },
    },
    read,
  );
  for (const op of APP_TOOLS) {
    registerAppTool(server, op.name, { ...toolConfig(op), _meta: APP_ONLY_META }, (args, ctx) =>
      callTool(session, op, args, ctx.mcpReq.signal),
    );
  }
  return {
    read: (uri) => (uri === VIEW_URI ? read() : undefined),
    listTools(tools, ctx) {
      if (!rendersApps(server, ctx)) return tools;
      const linked = tools.map((tool) =>
        VIEWED_TOOLS.has(tool.name) ? { ...tool, _meta: VIEWED_META } : tool,
      );
      const appTools = APP_TOOLS.filter((op) => isAvailable(op, session)).map((op) => ({
        ...toolDefinition(op),
        _meta: APP_ONLY_META,
      }));
      return [...linked, ...appTools];
    },
    listResources(result, cursor, ctx) {
      if (cursor !== undefined || !rendersApps(server, ctx)) return result;
      const view = {
        uri: VIEW_URI,
        name: "notebook-view",
        title: "Notebook view",
        mimeType: RESOURCE_MIME_TYPE,
      };
      return { ...result, resources: [view, ...result.resources] };
    },
    links: (op) => VIEWED_TOOLS.has(op.name),
  };
}

/** Registers a tool of the operations table, with the view linked when the tool shows a notebook. */
export function registerTableTool(
  server: McpServer,
  app: NotebookApp | undefined,
  op: Operation,
  handler: ToolCallback<StandardSchemaWithJSON<Record<string, unknown>>>,
): void {
  if (app?.links(op)) registerAppTool(server, op.name, { ...toolConfig(op), _meta: VIEWED_META }, handler);
  else server.registerTool(op.name, toolConfig(op), handler);
}
