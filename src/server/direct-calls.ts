/**
 * Tool calls answered in one step. The SDK's `Protocol` checks every message it is handed again (four
 * zod passes to tell a request from a response, one for task parameters), the `Server` checks a
 * tools/call twice more and its result once, and the request goes through a chain of promises: on
 * the bench, that was a third of what a notebook retrieval added over the GET it makes. A tool call
 * the transport has already checked goes straight to the dispatcher instead, which validates its
 * arguments itself, with the SDK's semantics kept: one response per request, none after the client
 * cancelled it, in-flight calls aborted when the connection closes. Everything else (every other
 * method, notifications, a call asking for a task) goes to the SDK as before.
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type CallToolResult, ErrorCode, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { isRecord } from "../json.js";
import { isPlainToolCallParams, isRequestId, type ToolCallParams } from "./messages.js";

export type ToolCallHandler = (params: ToolCallParams, signal: AbortSignal) => Promise<CallToolResult>;

/**
 * Takes tools/call requests arriving on `transport` before the SDK sees them. Call it after the
 * SDK's `connect`, which is what installs the handlers this wraps.
 */
export function answerToolCallsDirectly(transport: Transport, handle: ToolCallHandler): void {
  const toSdk = transport.onmessage;
  if (!toSdk) throw new Error("answerToolCallsDirectly: connect the server to the transport first");
  const closed = transport.onclose;
  const running = new Map<string | number, AbortController>();

  const answer = (id: string | number, params: ToolCallParams): void => {
    const controller = new AbortController();
    running.set(id, controller);
    const reply = (message: JSONRPCMessage) =>
      controller.signal.aborted ? undefined : transport.send(message);
    handle(params, controller.signal)
      .then(
        (result) => reply({ jsonrpc: "2.0", id, result }),
        // The dispatcher turns every failure into a result; this is for what it cannot foresee.
        (error: unknown) =>
          reply({
            jsonrpc: "2.0",
            id,
            error: {
              code: ErrorCode.InternalError,
              message: error instanceof Error ? error.message : "Internal error",
            },
          }),
      )
      .catch((error: unknown) =>
        transport.onerror?.(new Error(`Failed to send a tool call's response: ${String(error)}`)),
      )
      .finally(() => {
        if (running.get(id) === controller) running.delete(id);
      });
  };

  transport.onmessage = (message, extra) => {
    const { jsonrpc, id, method, params } = message as Record<string, unknown>;
    if (jsonrpc === "2.0" && method === "tools/call" && isRequestId(id) && isPlainToolCallParams(params)) {
      answer(id, params);
      return;
    }
    if (method === "notifications/cancelled" && isRecord(params) && isRequestId(params.requestId)) {
      running.get(params.requestId)?.abort(params.reason);
    }
    toSdk(message, extra);
  };
  transport.onclose = () => {
    for (const controller of running.values()) controller.abort();
    running.clear();
    closed?.();
  };
}
