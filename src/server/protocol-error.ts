/**
 * A JSON-RPC error answer. The SDK answers a handler's thrown error with its `code`, `message` and
 * `data`; its own `McpError` writes "MCP error <code>:" into the message, which clients then print
 * beside the code again, so this server throws plain errors carrying a code.
 */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** JSON-RPC codes this server answers with. */
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** The code the MCP specification gives to "resource not found". */
export const RESOURCE_NOT_FOUND = -32002;
