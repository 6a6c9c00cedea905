/**
 * Where each field of a JSON object's top level lies in its UTF-8 bytes, or a value along a path in
 * JSON text, found without parsing the values: for an answer whose few small fields are wanted on
 * the server's own thread while its big ones (a notebook's document) are kept as bytes, or parsed
 * elsewhere, and for a request whose document is parsed elsewhere. One pass, linear in the length,
 * a character (or byte) at a time. (Every byte of a multi-byte UTF-8 character is 0x80 or above,
 * so no structural character can hide inside one.)
 */
import { randomUUID } from "node:crypto";

/** Bytes of answers read only in part that were parsed on the server's thread (for tests). */
export const partlyParsed = { bytes: 0 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * JSON to scan: UTF-8 bytes or a string, read a character code at a time (past the end: NaN or
 * undefined, which no test below matches).
 */
interface Scanned {
  readonly length: number;
  at(i: number): number | undefined;
  /** The end (after its closing quote) of the string whose opening quote is at `start`, or -1. */
  stringEnd(start: number): number;
  text(start: number, end: number): string;
}

function scannedBytes(bytes: Uint8Array): Scanned {
  const decoder = new TextDecoder();
  return {
    length: bytes.length,
    at: (i) => bytes[i],
    // One byte at a time (see scannedString: a native search per quote is slow where they are many).
    stringEnd(start) {
      for (let i = start + 1; i < bytes.length; i++) {
        const c = bytes[i];
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) return i + 1;
      }
      return -1;
    },
    text: (start, end) => decoder.decode(bytes.subarray(start, end)),
  };
}

function scannedString(json: string): Scanned {
  return {
    length: json.length,
    at: (i) => json.charCodeAt(i),
    // One character at a time: a string may be quotes through and through (a native search per
    // quote took 30–70 ms for 2 million of them, this 5–15 ms), and costs the same for any other.
    stringEnd(start) {
      for (let i = start + 1; i < json.length; i++) {
        const c = json.charCodeAt(i);
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) return i + 1;
      }
      return -1;
    },
    text: (start, end) => json.slice(start, end),
  };
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(json: Scanned, i: number): number {
  while (isSpace(json.at(i))) i++;
  return i;
}

/** The end of the value starting at `start` (an object, array, string or primitive), or -1. */
function valueEnd(json: Scanned, start: number): number {
  const first = json.at(start);
  if (first === QUOTE) return json.stringEnd(start);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (let i = start; i < json.length; i++) {
      const c = json.at(i);
      if (c === QUOTE) {
        const end = json.stringEnd(i);
        if (end === -1) return -1;
        i = end - 1;
      } else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  let i = start;
  while (i < json.length) {
    const c = json.at(i);
    if (c === 0x2c || c === 0x7d || c === 0x5d || isSpace(c)) break;
    i++;
  }
  return i > start ? i : -1;
}

export interface FieldSpan {
  start: number;
  end: number;
}

/** Whether `bytes` holds exactly `expected` at `at` (compared natively, not byte by byte in JS). */
function holds(bytes: Uint8Array, at: number, expected: Uint8Array): boolean {
  if (at + expected.length > bytes.length) return false;
  const here = Buffer.from(bytes.buffer, bytes.byteOffset + at, expected.length);
  return here.equals(expected);
}

/**
 * The fields of the JSON object at `from` (after any space), each with where its value lies (the
 * last one wins, as JSON.parse has it), or undefined when it is not a JSON object's shape.
 * `known(key, start)`: the end of a value found whole without reading it through, or -1. `until`: a
 * field at which to stop, with only its value's start read (its end is -1).
 */
function fieldsOf(
  json: Scanned,
  from: number,
  known?: (key: string, start: number) => number,
  until?: string,
): Map<string, FieldSpan> | undefined {
  const fields = new Map<string, FieldSpan>();
  let i = skipSpace(json, from);
  if (json.at(i) !== 0x7b) return undefined;
  i = skipSpace(json, i + 1);
  if (json.at(i) === 0x7d) return fields;
  // No object this is asked of has more fields than a request may hold values: past that, it is
  // not looked through (300,000 keys took the server's thread half a second before the bound).
  for (let count = 1; count <= MAX_REQUEST_VALUES; count++) {
    if (json.at(i) !== QUOTE) return undefined;
    const keyEnd = json.stringEnd(i);
    if (keyEnd === -1) return undefined;
    // A key is read as it is written, unless it holds an escape.
    let key = json.text(i + 1, keyEnd - 1);
    if (key.includes("\\")) {
      try {
        key = String(JSON.parse(json.text(i, keyEnd)));
      } catch {
        return undefined;
      }
    }
    i = skipSpace(json, keyEnd);
    if (json.at(i) !== 0x3a) return undefined;
    const start = skipSpace(json, i + 1);
    if (key === until) return fields.set(key, { start, end: -1 });
    const whole = known?.(key, start) ?? -1;
    const end = whole === -1 ? valueEnd(json, start) : whole;
    if (end === -1) return undefined;
    fields.set(key, { start, end });
    i = skipSpace(json, end);
    if (json.at(i) === 0x7d) return fields;
    if (json.at(i) !== 0x2c) return undefined;
    i = skipSpace(json, i + 1);
  }
  return undefined;
}

/**
 * Each top-level field of the JSON object in `bytes`, with where its value lies (the last one
 * wins, as JSON.parse has it), or undefined when `bytes` is not a JSON object's shape. Values are
 * not checked: parse the ones you read. `expected`: values likely there, by field (a document just
 * sent, which its echo holds): found whole in one native comparison, they are not read through.
 */
export function topLevelFields(
  bytes: Uint8Array,
  expected?: ReadonlyMap<string, Uint8Array>,
): Map<string, FieldSpan> | undefined {
  const json = scannedBytes(bytes);
  const known = (key: string, start: number) => {
    const value = expected?.get(key);
    if (!value) return -1;
    const after = skipSpace(json, start + value.length);
    const ends = bytes[after] === 0x2c || bytes[after] === 0x7d;
    return ends && holds(bytes, start, value) ? start + value.length : -1;
  };
  return fieldsOf(json, 0, known);
}

/**
 * Where the value at `path` (field names, from the top) lies in the JSON text `json`, found without
 * parsing anything but field names: only that value is read through, and each level only up to
 * the field wanted (the first of that name: a text whose fields repeat may hold another later).
 * Undefined when there is none, or `json` is not of a JSON object's shape along the way.
 */
export function valueAt(json: string, path: readonly string[]): FieldSpan | undefined {
  const scanned = scannedString(json);
  let from = 0;
  for (const [depth, name] of path.entries()) {
    const found = fieldsOf(scanned, from, undefined, name)?.get(name);
    if (!found) return undefined;
    if (depth === path.length - 1) {
      const end = valueEnd(scanned, found.start);
      return end === -1 ? undefined : { start: found.start, end };
    }
    from = found.start;
  }
  return undefined;
}

/**
 * Levels of nesting a request may have, at most, outside a document left as text: a document
 * nests up to 200 (100 levels of nodes; a deeper one is refused with the arguments, in words), its
 * message a few more. Far deeper, parsing it and everything that walks it after costs the server's
 * thread seconds (two million nested arrays: 0.6 s to parse, more to check), and showing a part of
 * it overflows the stack.
 */
export const MAX_REQUEST_DEPTH = 1_000;
/**
 * Values a request may hold, at most, outside a document left as text (every document is: see
 * server/read-message.ts): a tool's arguments are a few, MCP's `_meta` some dozens, a listen
 * stream's filter up to 1,000 notebooks (server/resources.ts). Three hundred
 * thousand keys in `_meta`, or a title of two million numbers, held the server's thread for 2–5 s
 * (parsed, then walked and validated); at 10,000, eight sessions sending arguments of 10,000 long
 * keys in a loop still held every other tenant up for a quarter of a second (each message copied
 * from the worker that read it, and walked).
 */
export const MAX_REQUEST_VALUES = 2_000;

/** A request whose shape is refused before it is parsed (see MAX_REQUEST_DEPTH and _VALUES). */
export class RequestShapeError extends Error {}

/**
 * Checks how deep the JSON text `json` nests and how many values it holds (every object, array
 * and item after a comma counted, strings skipped), leaving out `skip`; stops
 * at the first bound passed, with the error saying which.
 */
function checkShape(json: string, skip?: FieldSpan): void {
  const scanned = scannedString(json);
  let depth = 0;
  let values = 0;
  for (let i = 0; i < json.length; i++) {
    if (skip && i === skip.start) i = skip.end;
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      const end = scanned.stringEnd(i);
      if (end === -1) return; // (not JSON: JSON.parse says so)
      i = end - 1;
    } else if (c === 0x7b || c === 0x5b) {
      values++;
      if (++depth > MAX_REQUEST_DEPTH) {
        throw new RequestShapeError(
          `Invalid Request: the message nests more than ${MAX_REQUEST_DEPTH} levels deep. No MCP message needs that many: flatten what you send (a notebook document may nest 100 levels of nodes).`,
        );
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && ++values > MAX_REQUEST_VALUES) {
      throw new RequestShapeError(
        `Invalid Request: the message holds more than ${MAX_REQUEST_VALUES.toLocaleString("en-US")} values (objects, arrays, items) outside a notebook document. No MCP message needs that many: send less at a time.`,
      );
    }
  }
}

/** What stands in for a `content` argument while its message is parsed: no client can know it. */
const STAND_IN = `content kept as text ${randomUUID()}`;

/**
 * The JSON-RPC message `json`, parsed, with a tools/call's `content` argument, when it is a JSON
 * object, left as its JSON text: a string, which the tools that take `content` take in its place
 * and parse where they convert it (content/sent-document.ts). A long document sent as an object was
 * parsed into objects by the million on the server's thread, walked there and copied to a worker:
 * every other call waited most of a second. A message shorter than `from` characters is parsed
 * whole (a short document costs nothing). Throws as JSON.parse does, or a RequestShapeError for a
 * message nested or filled past what any MCP message needs (looked at before it is parsed); a
 * message not JSON only inside its document is parsed, and its document refused where it is read.
 */
export function parseWithContentAsText(json: string, from: number): unknown {
  // (A message naming no "content" is not walked for one: a native search says so.)
  const named = json.length >= from && json.includes('"content"');
  const found = named ? valueAt(json, ["params", "arguments", "content"]) : undefined;
  const span = found && json.charCodeAt(found.start) === 0x7b ? found : undefined;
  checkShape(json, span);
  if (!span) return JSON.parse(json);
  const message: unknown = JSON.parse(
    `${json.slice(0, span.start)}${JSON.stringify(STAND_IN)}${json.slice(span.end)}`,
  );
  const args = (message as { params?: { arguments?: Record<string, unknown> } } | null)?.params?.arguments;
  // Where a field is given twice, the later one counts, and the document stood in for is dropped
  // (as JSON.parse of the whole would drop it): the message is the same without it.
  if (args?.content === STAND_IN) args.content = json.slice(span.start, span.end);
  return message;
}
