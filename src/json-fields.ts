/**
 * Where each field of a JSON object's top level lies in its UTF-8 bytes, found without parsing
 * the values: for an answer whose few small fields are wanted on the server's own thread while its
 * big ones (a notebook's document) are kept as bytes, or parsed elsewhere. One pass, linear in the
 * bytes: strings are skipped with a native search for their closing quote, and only the bytes
 * between strings are looked at one by one. (Every byte of a multi-byte UTF-8 character is 0x80 or
 * above, so no structural character can hide inside one.)
 */

/** Bytes of answers read only in part that were parsed on the server's thread (for tests). */
export const partlyParsed = { bytes: 0 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(bytes: Uint8Array, i: number): number {
  while (isSpace(bytes[i])) i++;
  return i;
}

/** The end (after its closing quote) of the string whose opening quote is at `start`, or -1. */
function stringEnd(bytes: Uint8Array, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote === -1) return -1;
    // Escaped when an odd number of backslashes stands right before it.
    let slashes = 0;
    for (let k = quote - 1; k > start && bytes[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The end of the value starting at `start` (an object, array, string or primitive), or -1. */
function valueEnd(bytes: Uint8Array, start: number): number {
  const first = bytes[start];
  if (first === QUOTE) return stringEnd(bytes, start);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (let i = start; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === QUOTE) {
        const end = stringEnd(bytes, i);
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
  while (i < bytes.length) {
    const c = bytes[i];
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
 * Each top-level field of the JSON object in `bytes`, with where its value lies (the last one
 * wins, as JSON.parse has it), or undefined when `bytes` is not a JSON object's shape. Values are
 * not checked: parse the ones you read. `expected`: values likely there, by field (a document just
 * sent, which its echo holds): found whole in one native comparison, they are not read through.
 */
export function topLevelFields(
  bytes: Uint8Array,
  expected?: ReadonlyMap<string, Uint8Array>,
): Map<string, FieldSpan> | undefined {
  const fields = new Map<string, FieldSpan>();
  const decoder = new TextDecoder();
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== 0x7b) return undefined;
  i = skipSpace(bytes, i + 1);
  if (bytes[i] === 0x7d) return fields;
  for (;;) {
    if (bytes[i] !== QUOTE) return undefined;
    const keyEnd = stringEnd(bytes, i);
    if (keyEnd === -1) return undefined;
    let key: unknown;
    try {
      key = JSON.parse(decoder.decode(bytes.subarray(i, keyEnd)));
    } catch {
      return undefined;
    }
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== 0x3a) return undefined;
    const start = skipSpace(bytes, i + 1);
    const known = expected?.get(key as string);
    const after = known ? skipSpace(bytes, start + known.length) : -1;
    const end =
      known && (bytes[after] === 0x2c || bytes[after] === 0x7d) && holds(bytes, start, known)
        ? start + known.length
        : valueEnd(bytes, start);
    if (end === -1) return undefined;
    fields.set(key as string, { start, end });
    i = skipSpace(bytes, end);
    if (bytes[i] === 0x7d) return fields;
    if (bytes[i] !== 0x2c) return undefined;
    i = skipSpace(bytes, i + 1);
  }
}
