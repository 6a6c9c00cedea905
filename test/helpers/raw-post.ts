/**
 * One JSON-RPC message POSTed to an HTTP server as a 2025-era client without a session sends it
 * (a stateless server answers it alone), and the answer read back, whether sent as JSON or as the
 * one event of a stream.
 */

export interface RawAnswer {
  status: number;
  headers: Headers;
  /** The response's text as sent. */
  raw: string;
  /** The JSON-RPC answer in it. */
  answer: {
    id?: unknown;
    error?: { code: number; message: string };
    result?: Record<string, unknown> & { isError?: boolean; content?: Array<{ text: string }> };
  };
}

export async function rawPost(url: string, key: string, body: string): Promise<RawAnswer> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${key}`,
      "mcp-protocol-version": "2025-06-18",
    },
    body,
  });
  const raw = await response.text();
  const data = raw.startsWith("{") || raw.startsWith("[") ? raw : (/^data: (.*)$/m.exec(raw)?.[1] as string);
  return { status: response.status, headers: response.headers, raw, answer: JSON.parse(data) };
}
