/**
 * What every transport of this server does to its messages (the stdio transport in its own code,
 * the HTTP one by overriding the SDK transport's public `send`): no key leaves in any message, and
 * a request's `task` field is dropped, since this server does not declare tasks and MCP 2025-11-25
 * says such a server processes the request normally, ignoring it (the SDK would refuse it).
 */
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { Secrets } from "../secrets.js";

/** A request without its `task` field (anything else as it is). */
export function withoutTask<T>(message: T): T {
  if (message === null || typeof message !== "object" || !("method" in message) || !("id" in message)) {
    return message;
  }
  const params = (message as { params?: unknown }).params;
  if (params === null || typeof params !== "object" || !("task" in params)) return message;
  const { task: _ignored, ...rest } = params as Record<string, unknown>;
  return { ...message, params: rest };
}

/** The SDK's Streamable HTTP server transport, sending nothing that holds its session's key. */
export class RedactingHttpTransport extends StreamableHTTPServerTransport {
  constructor(
    options: ConstructorParameters<typeof StreamableHTTPServerTransport>[0],
    private readonly secrets: Secrets,
  ) {
    super(options);
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return super.send(this.secrets.redactDeep(message), options);
  }
}
