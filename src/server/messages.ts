/**
 * JSON-RPC messages as MCP defines them, checked by hand. Every line a client writes is checked once,
 * on arrival; these say exactly what the SDK's zod schemas say (`JSONRPCMessageSchema`, and
 * `CallToolRequestParamsSchema` for tools/call), which test/unit/messages.test.ts verifies on
 * generated messages, at a fraction of the cost: each tool call pays for its checks, and the
 * schemas were the largest part of what a call cost this server before it reached PostHog.
 */
import { type JSONRPCMessage, RELATED_TASK_META_KEY } from "@modelcontextprotocol/sdk/types.js";
import { isRecord } from "../json.js";

/** JSON-RPC request ids as MCP allows them: strings and safe integers. */
export function isRequestId(value: unknown): value is string | number {
  return typeof value === "string" || Number.isSafeInteger(value);
}

/** Every key of `value` is one of `allowed` (zod's `.strict()`). */
function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  for (const key in value) if (!allowed.includes(key)) return false;
  return true;
}

/** `_meta` of requests, notifications and results: a progress token and a related task, both optional. */
function isMeta(value: unknown): boolean {
  if (value === undefined) return true;
  if (!isRecord(value)) return false;
  const token = value.progressToken;
  if (token !== undefined && !isRequestId(token)) return false;
  const task = value[RELATED_TASK_META_KEY];
  return task === undefined || (isRecord(task) && typeof task.taskId === "string");
}

/** Request and notification params: absent, or an object whose `_meta`, if any, is well-formed. */
function isParams(value: unknown): boolean {
  return value === undefined || (isRecord(value) && isMeta(value._meta));
}

const REQUEST_KEYS = ["jsonrpc", "id", "method", "params"] as const;
const NOTIFICATION_KEYS = ["jsonrpc", "method", "params"] as const;
const RESULT_KEYS = ["jsonrpc", "id", "result"] as const;
const ERROR_KEYS = ["jsonrpc", "id", "error"] as const;

/** A request, a notification, a result or an error, as `JSONRPCMessageSchema` accepts them. */
export function isJsonRpcMessage(value: unknown): value is JSONRPCMessage {
  if (!isRecord(value) || value.jsonrpc !== "2.0") return false;
  if (typeof value.method === "string") {
    if (!isParams(value.params)) return false;
    return isRequestId(value.id) ? onlyKeys(value, REQUEST_KEYS) : onlyKeys(value, NOTIFICATION_KEYS);
  }
  if ("result" in value) {
    return (
      isRequestId(value.id) &&
      isRecord(value.result) &&
      isMeta(value.result._meta) &&
      onlyKeys(value, RESULT_KEYS)
    );
  }
  const error = value.error;
  return (
    (value.id === undefined || isRequestId(value.id)) &&
    isRecord(error) &&
    Number.isSafeInteger(error.code) &&
    typeof error.message === "string" &&
    onlyKeys(value, ERROR_KEYS)
  );
}

/** The params of a tools/call, once checked. */
export interface ToolCallParams {
  name: string;
  arguments?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
}

/**
 * Whether tools/call `params` are what `CallToolRequestParamsSchema` accepts without a task: a
 * name, arguments as an object if any, a well-formed `_meta` if any. (A call asking for a task is
 * left to the SDK, which refuses it: this server does not offer tasks.)
 */
export function isPlainToolCallParams(params: unknown): params is ToolCallParams {
  return (
    isRecord(params) &&
    typeof params.name === "string" &&
    (params.arguments === undefined || isRecord(params.arguments)) &&
    params.task === undefined &&
    isMeta(params._meta)
  );
}
