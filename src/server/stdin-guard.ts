/**
 * A guard in front of the SDK's stdio transport: garbage on stdin gets the JSON-RPC error it
 * deserves instead of silence, and an over-long line is skipped instead of closing the server.
 */
import { Transform, type TransformCallback } from "node:stream";
import {
  ClientRequestSchema,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
} from "@modelcontextprotocol/sdk/types.js";

/** The MCP requests a client may send, by method, to check their params. */
const REQUEST_SCHEMAS: ReadonlyMap<string, (typeof ClientRequestSchema.options)[number]> = new Map(
  ClientRequestSchema.options.map((schema) => [schema.shape.method.value, schema]),
);

/** The SDK's own line limit (STDIO_DEFAULT_MAX_BUFFER_SIZE); over it, its transport closes. */
const MAX_LINE_BYTES = 10 * 1024 * 1024;

/**
 * Stands between stdin and the SDK's stdio transport, which drops a line that is not JSON-RPC
 * without an answer (the client waits for one forever) and closes itself, ending the server, when
 * a line outgrows its 10 MB buffer. Here such lines get the error JSON-RPC 2.0 asks for: -32700
 * for a line that is not JSON, -32600 for JSON that is not a JSON-RPC message or is too large,
 * with the request's id when it can be told. Only well-formed messages go on to the transport.
 */
export class StdinGuard extends Transform {
  /** Sends an error response (set once the transport exists; errors go out through it). */
  reply: (message: JSONRPCMessage) => void = () => undefined;

  #parts: Buffer[] = [];
  #size = 0;
  /** Over-long line being skipped: its first and last bytes, where an id would be. */
  #skipping: { head: string; tail: string } | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      this.#take(chunk.subarray(start, end));
      this.#line();
      start = end + 1;
    }
    this.#take(chunk.subarray(start));
    done();
  }

  #take(part: Buffer): void {
    if (part.length === 0) return;
    if (this.#skipping) {
      this.#skipping.tail = (this.#skipping.tail + part.subarray(-200).toString("latin1")).slice(-200);
      return;
    }
    if (this.#size + part.length <= MAX_LINE_BYTES) {
      this.#parts.push(part);
      this.#size += part.length;
      return;
    }
    const start = Buffer.concat([...this.#parts, part.subarray(0, 200)]).subarray(0, 200);
    this.#skipping = { head: start.toString("latin1"), tail: part.subarray(-200).toString("latin1") };
    this.#parts = [];
    this.#size = 0;
  }

  #line(): void {
    if (this.#skipping) {
      const { head, tail } = this.#skipping;
      this.#skipping = undefined;
      this.#answer(
        idAtEnds(head, tail),
        -32600,
        `Invalid Request: a message over ${MAX_LINE_BYTES >> 20} MB`,
      );
      return;
    }
    const line = Buffer.concat(this.#parts).toString("utf8").replace(/\r$/, "");
    this.#parts = [];
    this.#size = 0;
    if (line.trim() === "") return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.#answer(null, -32700, "Parse error: a line on stdin that is not JSON");
      return;
    }
    if (!JSONRPCMessageSchema.safeParse(message).success) {
      const id = (message as { id?: unknown } | null)?.id;
      const known = typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
      this.#answer(known ? id : null, -32600, "Invalid Request: not a JSON-RPC 2.0 message");
      return;
    }
    // The SDK answers a known method's malformed params with -32603 and a dump of zod issues.
    const { id, method, params } = message as { id?: string | number; method?: string; params?: unknown };
    const schema = id === undefined || method === undefined ? undefined : REQUEST_SCHEMAS.get(method);
    const checked = schema?.safeParse({ method, params });
    if (checked && !checked.success) {
      const issue = checked.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
      this.#answer(id, -32602, `Invalid params for ${method}: ${where}${issue?.message ?? "malformed"}`);
      return;
    }
    this.push(`${line}\n`);
  }

  #answer(id: unknown, code: number, message: string): void {
    this.reply({ jsonrpc: "2.0", id: id as string | number, error: { code, message } });
  }
}

/**
 * The id of a message too large to parse, when it is the first or the last member of the outer
 * object (clients write it at one end); null otherwise, as JSON-RPC says.
 */
function idAtEnds(head: string, tail: string): string | number | null {
  const value = '(-?\\d{1,15}|"[^"\\\\]{0,100}")';
  const first = new RegExp(
    `^\\s*\\{\\s*(?:"jsonrpc"\\s*:\\s*"2\\.0"\\s*,\\s*)?"id"\\s*:\\s*${value}\\s*,`,
  ).exec(head);
  const last = new RegExp(`[{,]\\s*"id"\\s*:\\s*${value}\\s*\\}\\s*$`).exec(tail);
  const raw = first?.[1] ?? last?.[1];
  return raw === undefined ? null : (JSON.parse(raw) as string | number);
}
