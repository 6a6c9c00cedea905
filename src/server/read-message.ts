/**
 * Reading one JSON-RPC message (or batch) from its text, as every transport does before anything
 * else: on the server's thread for stdio and short HTTP bodies, in a conversion worker for long
 * HTTP bodies (server/request-body.ts), so this module loads nothing but the JSON reader.
 */
import { parseWithContentAsText, RequestShapeError, valueAt } from "../json-fields.js";

/** A message read, or why it is not taken (plain data: it crosses from a worker). */
export type ReadMessage =
  | { message: unknown }
  | { code: -32700 }
  | { code: -32600; error: string; id?: string | number };

/** The messages of a body: a batch's, or the one message it is. */
export function messagesOf(body: unknown): unknown[] {
  return Array.isArray(body) ? body : [body];
}

/**
 * Messages in one JSON-RPC batch, at most (2025-03-26 clients may batch; later ones do not). A
 * batch's messages are answered one after another with nothing else in between: 100 `tools/list`
 * in a 3 KB request held every other tenant up for half a second.
 */
const MAX_BATCH = 10;

/**
 * A message as every transport reads it: parsed, a tool's `content` document left as its text
 * (json-fields.ts), however short, to be parsed and checked where it is converted (so the rest of
 * a message is a few values, and is bounded so); or why it is not taken: -32700 when it is not
 * JSON (each transport words that), -32600 with a sentence when its shape, batch or id is past
 * what this server takes.
 */
export function readMessage(text: string): ReadMessage {
  let message: unknown;
  try {
    message = parseWithContentAsText(text, 0);
  } catch (error) {
    if (!(error instanceof RequestShapeError)) return { code: -32700 };
    return { code: -32600, error: error.message, ...idIn(text) };
  }
  if (Array.isArray(message) && message.length > MAX_BATCH) {
    return {
      code: -32600,
      error: `Invalid Request: a batch of ${message.length} messages; this server takes at most ${MAX_BATCH} in one (MCP since 2025-06-18 sends none): send them in several requests.`,
    };
  }
  const overlong = overlongId(message);
  if (overlong) return { code: -32600, error: overlong };
  const crowded = crowdedEnvelope(message) ?? oversizedEnvelope(text, message);
  return crowded ? { code: -32600, error: crowded, ...usableId(message) } : { message };
}

/** Characters of a message outside a tool's arguments, at most. */
const MAX_ENVELOPE = 64 * 1024;

/**
 * Why a message cannot be taken: it holds more outside a tool's arguments than MCP's own fields
 * ever take (an initialize's client name and capabilities, `_meta`, a listen stream's filter of a
 * thousand notebooks: some kilobytes). What is there may be kept for as long as a session or a
 * stream lasts: 300 sessions whose initialize named the client in 4 MB held 1.3 GB. (A batch, of
 * 2025-03-26 clients, is bounded by its values only: nothing in one is kept past its answer.)
 */
function oversizedEnvelope(text: string, message: unknown): string | undefined {
  if (text.length <= MAX_ENVELOPE || Array.isArray(message)) return undefined;
  const args = valueAt(text, ["params", "arguments"]);
  const outside = text.length - (args ? args.end - args.start : 0);
  if (outside <= MAX_ENVELOPE) return undefined;
  return `Invalid Request: the message holds ${outside.toLocaleString("en-US")} characters outside a tool's arguments; this server takes at most ${MAX_ENVELOPE.toLocaleString("en-US")} there (what MCP sends besides arguments is short): send less.`;
}

/**
 * The id of a message refused for its shape, found without parsing the rest, so that the client
 * hears which of its requests was refused (a stdio client otherwise waits out its own timeout);
 * nothing when there is none to read, or it is no id a client would use.
 */
function idIn(text: string): { id?: string | number } {
  const span = valueAt(text, ["id"]);
  if (!span || span.end - span.start > MAX_ID + 2) return {};
  try {
    return usableId({ id: JSON.parse(text.slice(span.start, span.end)) });
  } catch {
    return {};
  }
}

/** A message's id, when it is one to answer with (a number, or a string of at most MAX_ID). */
function usableId(message: unknown): { id?: string | number } {
  const id = (message as { id?: unknown } | null)?.id;
  if (typeof id === "number" && Number.isFinite(id)) return { id };
  return typeof id === "string" && id.length <= MAX_ID ? { id } : {};
}

/** Fields of a message, of its params, of their `_meta` and of a tool's arguments, at most. */
const MAX_FIELDS = 100;

/**
 * Why a message (or a batch) cannot be taken: one of the objects every request is checked through
 * field by field (by the SDK's schemas, more than once) holds more fields than any client sends.
 * 9,990 `_meta` fields in a 100 KB request cost the server's thread about 60 ms a request in those
 * checks: eight sessions sending them in a loop held every other tenant up for 0.6 s. (Values
 * nested deeper are not walked field by field; they count in the shape's bound of values.)
 */
function crowdedEnvelope(message: unknown): string | undefined {
  for (const one of messagesOf(message)) {
    const params = fieldsOf(one)?.params;
    const places: Array<[string, unknown]> = [
      ["the message", one],
      ["params", params],
      ["params._meta", fieldsOf(params)?._meta],
      ["params.arguments", fieldsOf(params)?.arguments],
    ];
    for (const [where, value] of places) {
      const fields = fieldsOf(value);
      if (!fields) continue;
      const count = Object.keys(fields).length;
      if (count > MAX_FIELDS) {
        return `Invalid Request: ${where} holds ${count.toLocaleString("en-US")} fields; this server takes at most ${MAX_FIELDS} there (MCP clients send a few): send less at a time.`;
      }
    }
  }
  return undefined;
}

function fieldsOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Characters of a request's id, at most, when it is a string: it is sent back with every answer. */
const MAX_ID = 256;

/**
 * Why a message (or a batch) cannot be answered by its id: a string id longer than any client
 * needs, sent back whole with the answer (a 4 MB id came back with a 4 MB answer, redacted and
 * framed on the server's thread). Undefined when every id is fine.
 */
function overlongId(message: unknown): string | undefined {
  for (const one of messagesOf(message)) {
    const id = (one as { id?: unknown } | null)?.id;
    if (typeof id === "string" && id.length > MAX_ID) {
      return `Invalid Request: an id of ${id.length.toLocaleString("en-US")} characters; this server takes ids of at most ${MAX_ID} (a number, or a short string).`;
    }
  }
  return undefined;
}
