/** A request refused before it reaches a server: a JSON-RPC error as the HTTP answer. */
import type { ServerResponse } from "node:http";

/** Answers `status` with a JSON-RPC error (id null where the request's id is not known). */
export function refuse(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
  id: string | number | null = null,
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id }));
}
