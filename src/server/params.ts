/**
 * The params check every transport runs before a request reaches the server: a known MCP request
 * with malformed params is answered -32602 with one sentence, as JSON-RPC and MCP say. (The SDK
 * answers those it checks itself, `tools/call`, the same way, but the rest with -32603 and a dump
 * of its schema's issues.) What valid params are, the SDK's own spec schemas say.
 */
import { type SpecTypeName, specTypeSchemas } from "@modelcontextprotocol/server";
import { describeProtoKeys, protoKeyPaths } from "../invalid-arguments.js";
import { MAX_SUBSCRIPTIONS, watchedUris } from "./resources.js";

const REQUESTS: Readonly<Record<string, SpecTypeName>> = {
  initialize: "InitializeRequest",
  ping: "PingRequest",
  "server/discover": "DiscoverRequest",
  "tools/list": "ListToolsRequest",
  "tools/call": "CallToolRequest",
  "resources/list": "ListResourcesRequest",
  "resources/templates/list": "ListResourceTemplatesRequest",
  "resources/read": "ReadResourceRequest",
  "resources/subscribe": "SubscribeRequest",
  "resources/unsubscribe": "UnsubscribeRequest",
  "completion/complete": "CompleteRequest",
  "logging/setLevel": "SetLevelRequest",
  "prompts/list": "ListPromptsRequest",
  "prompts/get": "GetPromptRequest",
  "tasks/get": "GetTaskRequest",
  "tasks/result": "GetTaskPayloadRequest",
  "tasks/list": "ListTasksRequest",
  "tasks/cancel": "CancelTaskRequest",
  "subscriptions/listen": "SubscriptionsListenRequest",
};

/** Methods the 2026-07-28 revision removed: the SDK answers them -32601 in that era. */
const REMOVED_IN_2026 = new Set([
  "initialize",
  "ping",
  "logging/setLevel",
  "resources/subscribe",
  "resources/unsubscribe",
  "tasks/get",
  "tasks/result",
  "tasks/list",
  "tasks/cancel",
]);

/**
 * The -32602 message for a request whose params are malformed; undefined when they are not (or when
 * the method is not one of `era`'s).
 */
export function invalidParams(message: unknown, era: "legacy" | "modern" = "legacy"): string | undefined {
  if (message === null || typeof message !== "object") return undefined;
  const { id, method, params } = message as { id?: unknown; method?: unknown; params?: unknown };
  if (id === undefined || typeof method !== "string") return undefined;
  if (era === "modern" && REMOVED_IN_2026.has(method)) return undefined;
  const name = Object.hasOwn(REQUESTS, method) ? REQUESTS[method] : undefined;
  if (!name) return undefined;
  const checked = specTypeSchemas[name]["~standard"].validate({ method, params });
  if (checked instanceof Promise) return undefined;
  if (!checked.issues) {
    if (method === "subscriptions/listen") return tooManyWatched(params);
    return params !== null && typeof params === "object"
      ? tooLong(method, params as Record<string, unknown>)
      : undefined;
  }
  const issue = checked.issues[0];
  const path = (issue?.path ?? [])
    .map((part) => (typeof part === "object" && part !== null ? String(part.key) : String(part)))
    .join(".");
  const what = (issue?.message ?? "malformed").replace(/^Invalid input: /, "");
  return `Invalid params for ${method}: ${path ? `${path}: ` : ""}${what}`;
}

/** Characters of a tool name and of a resource URI, at most, in a request (this server's are far shorter). */
const MAX_NAME = 128;
const MAX_URI = 2_048;

/**
 * A tool name or resource URI too long to be one of this server's: refused without repeating it
 * (an error that echoed a 4 MB name sent 4 MB back).
 */
function tooLong(method: string, params: Record<string, unknown>): string | undefined {
  const { name, uri } = params;
  if (method === "tools/call" && typeof name === "string" && name.length > MAX_NAME) {
    return `Invalid params for tools/call: name: a tool name of ${name.length.toLocaleString("en-US")} characters; this server's tools have names of a few words (notebooks-list, notebooks-create…): call tools/list to see them.`;
  }
  if (method === "resources/read" && typeof uri === "string" && uri.length > MAX_URI) {
    return `Invalid params for resources/read: uri: a URI of ${uri.length.toLocaleString("en-US")} characters; this server's resources are posthog://notebooks/{short_id} and posthog://notebooks/{short_id}/markdown.`;
  }
  return undefined;
}

/**
 * A listen stream watches at most MAX_SUBSCRIPTIONS notebooks, as a 2025 session does (what else
 * it names is dropped: src/server/modern-requests.ts).
 */
function tooManyWatched(params: unknown): string | undefined {
  const asked = (params as { notifications?: { resourceSubscriptions?: unknown } }).notifications
    ?.resourceSubscriptions;
  if (!Array.isArray(asked) || watchedUris(asked).length <= MAX_SUBSCRIPTIONS) return undefined;
  return `Invalid params for subscriptions/listen: a listen stream can watch at most ${MAX_SUBSCRIPTIONS.toLocaleString("en-US")} notebook resources; open another stream for the rest.`;
}

/** The era a message claims: 2026-07-28 requests carry their protocol version in `_meta`. */
export function claimedEra(message: unknown): "legacy" | "modern" {
  const meta = (message as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta;
  return typeof meta?.["io.modelcontextprotocol/protocolVersion"] === "string" ? "modern" : "legacy";
}

/**
 * A tools/call whose arguments hold a `__proto__` key: the tool result that refuses it by name
 * (undefined for any other message). Transports answer it themselves, because the SDK's request
 * schema drops such a key without a word before any tool sees it. It is a tool error, as arguments
 * a tool does not take are (the request itself is well formed).
 */
export function refusedArguments(
  message: unknown,
): { content: [{ type: "text"; text: string }]; isError: true } | undefined {
  if (message === null || typeof message !== "object") return undefined;
  const { id, method, params } = message as { id?: unknown; method?: unknown; params?: unknown };
  if (id === undefined || method !== "tools/call" || params === null || typeof params !== "object")
    return undefined;
  const { name, arguments: args } = params as { name?: unknown; arguments?: unknown };
  if (typeof name !== "string" || args === null || typeof args !== "object") return undefined;
  const paths = protoKeyPaths(args);
  if (paths.length === 0) return undefined;
  return { content: [{ type: "text", text: describeProtoKeys(name, paths) }], isError: true };
}
