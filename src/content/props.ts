/**
 * JSX-like component tags of PostHog's notebook Markdown: `<Query query={{"kind":"…"}} hideFilters />`.
 *
 * Props grammar (PostHog's `serializeComponentProps` / `parseComponentProps`): `name="string"` (a
 * JSON string literal), `name={JSON}` for every other value, and a bare `name` for `true`.
 * Parsing also accepts PostHog's lenient forms: `name='text'` and unquoted `name=value`.
 */

import { plainObject } from "./json.js";

const PROP_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function isPropName(name: string): boolean {
  return PROP_NAME.test(name);
}

function propValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : `{${JSON.stringify(value)}}`;
}

/**
 * ` a="x" b={1} c` for the given attributes, or null when some key cannot be written as a prop name
 * (the caller then falls back to a raw node). `undefined` values are skipped, as JSON would.
 */
export function serializeProps(attrs: Record<string, unknown>): string | null {
  let out = "";
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (!isPropName(key)) return null;
    out += value === true ? ` ${key}` : ` ${key}=${propValue(value)}`;
  }
  return out;
}

export interface ParsedTag {
  name: string;
  props: Record<string, unknown>;
  /** Index just past the tag. */
  end: number;
  selfClosing: boolean;
}

const TAG_NAME = /[A-Za-z][A-Za-z0-9]*/y;
const PROP_NAME_STICKY = /[A-Za-z_][A-Za-z0-9_-]*/y;
const BARE_VALUE = /[^\s/>]+/y;

function isSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r";
}

/** End index (exclusive) of a quoted string starting at `start`, or -1 when unterminated. */
function quotedEnd(src: string, start: number, max: number): number {
  const quote = src[start];
  let pos = start + 1;
  while (pos < max) {
    const ch = src[pos];
    if (ch === "\\") {
      pos += 2;
      continue;
    }
    if (ch === quote) return pos + 1;
    pos += 1;
  }
  return -1;
}

/** End index (exclusive) of a `{…}` expression with balanced braces, skipping quoted strings. */
function balancedEnd(src: string, start: number, max: number): number {
  let depth = 0;
  let pos = start;
  while (pos < max) {
    const ch = src[pos];
    if (ch === '"' || ch === "'") {
      const end = quotedEnd(src, pos, max);
      if (end < 0) return -1;
      pos = end;
      continue;
    }
    if (ch === "{") depth += 1;
    else if (ch === "}") {
      depth -= 1;
      if (depth === 0) return pos + 1;
    }
    pos += 1;
  }
  return -1;
}

function lenientUnescape(raw: string): string {
  return raw.replace(/\\([\s\S])/g, "$1");
}

function parseLoose(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * Parse one tag starting at `start` (which must hold `<`), reading no further than `max`.
 * `<Name props />` is self-closing; `<name props>` (an opening tag) is returned with
 * `selfClosing: false`. Returns null when the text is not a well-formed tag.
 */
export function parseTag(src: string, start: number, max: number = src.length): ParsedTag | null {
  if (src[start] !== "<") return null;
  TAG_NAME.lastIndex = start + 1;
  const nameMatch = TAG_NAME.exec(src);
  if (!nameMatch || nameMatch.index !== start + 1) return null;
  const name = nameMatch[0];
  let pos = start + 1 + name.length;
  if (pos > max) return null;
  const entries: [string, unknown][] = [];
  for (;;) {
    const before = pos;
    while (pos < max && isSpace(src[pos])) pos += 1;
    if (pos >= max) return null;
    if (src.startsWith("/>", pos) && pos + 2 <= max) {
      return { name, props: plainObject(entries), end: pos + 2, selfClosing: true };
    }
    if (src[pos] === ">") {
      return { name, props: plainObject(entries), end: pos + 1, selfClosing: false };
    }
    if (pos === before) return null;
    PROP_NAME_STICKY.lastIndex = pos;
    const propMatch = PROP_NAME_STICKY.exec(src);
    if (!propMatch) return null;
    const prop = propMatch[0];
    pos += prop.length;
    if (pos > max) return null;
    let look = pos;
    while (look < max && isSpace(src[look])) look += 1;
    if (src[look] !== "=") {
      entries.push([prop, true]);
      continue;
    }
    pos = look + 1;
    while (pos < max && isSpace(src[pos])) pos += 1;
    const first = src[pos];
    if (first === '"' || first === "'") {
      const end = quotedEnd(src, pos, max);
      if (end < 0) return null;
      const raw = src.slice(pos, end);
      let value: unknown;
      if (first === '"') {
        try {
          value = JSON.parse(raw) as unknown;
        } catch {
          value = lenientUnescape(raw.slice(1, -1));
        }
      } else {
        value = lenientUnescape(raw.slice(1, -1));
      }
      entries.push([prop, value]);
      pos = end;
    } else if (first === "{") {
      const end = balancedEnd(src, pos, max);
      if (end < 0) return null;
      const inner = src.slice(pos + 1, end - 1).trim();
      let value: unknown;
      try {
        value = JSON.parse(inner) as unknown;
      } catch {
        value = src.slice(pos, end);
      }
      entries.push([prop, value]);
      pos = end;
    } else {
      BARE_VALUE.lastIndex = pos;
      const bare = BARE_VALUE.exec(src);
      if (!bare || bare.index !== pos || pos + bare[0].length > max) return null;
      entries.push([prop, parseLoose(bare[0])]);
      pos += bare[0].length;
    }
  }
}
