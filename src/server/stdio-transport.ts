/**
 * The stdio transport: newline-delimited JSON-RPC on stdin and stdout, as MCP's stdio transport
 * specifies, implementing the SDK's `Transport` interface. Unlike the SDK's own, garbage on stdin
 * gets the JSON-RPC error it deserves instead of silence, and an over-long line is skipped instead
 * of closing the server. What a valid message is, the SDK's own schemas say. What is sent holds no
 * key (`secrets`), and `idle()` tells when every request received has been answered (for a clean
 * exit when stdin closes).
 */
import type { Readable, Writable } from "node:stream";
import { type JSONRPCMessage, parseJSONRPCMessage, type Transport } from "@modelcontextprotocol/server";
import type { Secrets } from "../secrets.js";
import { claimedEra, invalidParams, refusedArguments } from "./params.js";
import { readMessage } from "./read-message.js";

/** The SDK's own line limit (STDIO_DEFAULT_MAX_BUFFER_SIZE); over it, its transport closes. */
const MAX_LINE_BYTES = 10 * 1024 * 1024;

/**
 * Lines that are not JSON-RPC get the error JSON-RPC 2.0 asks for: -32700 for a line that is not
 * JSON, -32600 for JSON that is not a JSON-RPC message or is too large, -32602 for a known
 * request with malformed params (params.ts), with the request's id when it can be told. (The SDK's transport
 * drops such lines without an answer, so the client waits forever, and closes itself, ending the
 * server, when a line outgrows its 10 MB buffer.) Only well-formed messages reach the server.
 */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #closed = false;

  /** Requests received and not yet answered, by id. */
  readonly #pending = new Set<string | number>();
  #drained: (() => void) | undefined;

  constructor(
    private readonly input: Readable = process.stdin,
    private readonly output: Writable = process.stdout,
    private readonly secrets?: Secrets,
  ) {}

  /** Resolves once every request received so far has been answered (or after `ms`). */
  idle(ms: number): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  readonly #onData = (chunk: Buffer) => this.#transform(chunk);
  readonly #onError = (error: Error) => this.onerror?.(error);

  async start(): Promise<void> {
    this.input.on("data", this.#onData);
    this.input.on("error", this.#onError);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    // Redacted as the JSON text it is sent as (keys and their pieces are plain JSON characters).
    const json = JSON.stringify(message);
    const line = `${this.secrets ? this.secrets.redact(json) : json}\n`;
    await new Promise<void>((resolve) => {
      if (this.output.write(line)) resolve();
      else this.output.once("drain", resolve);
    });
    const answered = "result" in message || "error" in message ? message.id : undefined;
    if (answered !== undefined && this.#pending.delete(answered) && this.#pending.size === 0)
      this.#drained?.();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.input.off("data", this.#onData);
    this.input.off("error", this.#onError);
    if (this.input.listenerCount("data") === 0) this.input.pause();
    this.#parts = [];
    this.onclose?.();
  }

  #parts: Buffer[] = [];
  #size = 0;
  /** Over-long line being skipped: its first and last bytes, where an id would be. */
  #skipping: { head: string; tail: string } | undefined;

  #transform(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      if (this.#size === 0 && !this.#skipping && end - start <= MAX_LINE_BYTES) {
        // A whole line in this chunk (the usual case): decoded where it lies.
        this.#message(chunk.toString("utf8", start, chunk[end - 1] === 13 ? end - 1 : end));
      } else {
        this.#take(chunk.subarray(start, end));
        this.#line();
      }
      start = end + 1;
    }
    this.#take(chunk.subarray(start));
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
    this.#message(line);
  }

  #message(line: string): void {
    const read = readMessage(line);
    if (!("message" in read)) {
      // Blank lines are skipped; anything else that cannot be read is answered.
      if ("error" in read) this.#answer(read.id ?? null, read.code, read.error);
      else if (line.trim() !== "")
        this.#answer(null, -32700, "Parse error: a line on stdin that is not JSON");
      return;
    }
    const { message } = read;
    let checked: JSONRPCMessage;
    try {
      checked = parseJSONRPCMessage(message);
    } catch {
      const id = (message as { id?: unknown } | null)?.id;
      const known = typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
      this.#answer(known ? id : null, -32600, "Invalid Request: not a JSON-RPC 2.0 message");
      return;
    }
    const { id, method } = message as { id?: string | number; method?: string };
    const invalid = invalidParams(message, claimedEra(message));
    if (invalid !== undefined) {
      this.#answer(id, -32602, invalid);
      return;
    }
    const refused = refusedArguments(message);
    if (refused !== undefined && id !== undefined) {
      void this.send({ jsonrpc: "2.0", id, result: refused }).catch(() => undefined);
      return;
    }
    if (id !== undefined && method !== undefined) this.#pending.add(id);
    this.onmessage?.(checked);
  }

  #answer(id: unknown, code: number, message: string): void {
    void this.send({ jsonrpc: "2.0", id: id as string | number, error: { code, message } }).catch(
      () => undefined,
    );
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
