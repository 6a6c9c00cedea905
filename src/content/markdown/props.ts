/**
 * Component tags' props in PostHog's notebook Markdown: `name="string"` (a JSON string literal),
 * `name={JSON}` for every other value, a bare `name` for `true`; PostHog's lenient forms are read
 * too (`name='text'`, unquoted `name=value`, HTML entities in quoted strings). The panel props are
 * PostHog's: `hideFilters`/`hideResults` first, the legacy `edit`/`view` written as those.
 */
import { plainObject } from "../nodes.js";

export type PropValue = string | number | boolean | null | PropValue[] | { [key: string]: PropValue };
export type Props = Record<string, PropValue>;

const NAME = /[A-Za-z_][A-Za-z0-9_-]*/y;
const BARE = /[^\s/>]+/y;
const SPACE = /\s/;

export interface ParsedProps {
  props: Props;
  errors: string[];
}

function isPropValue(value: unknown): value is PropValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPropValue);
  if (typeof value === "object") return Object.values(value as object).every(isPropValue);
  return false;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** An expression's value: true/false/null, a plain number, JSON, or else the raw text itself. */
export function expressionValue(raw: string): unknown {
  const trimmed = raw.trim();
  const inner = trimmed.startsWith("{") && trimmed.endsWith("}") ? trimmed.slice(1, -1).trim() : trimmed;
  if (inner === "true") return true;
  if (inner === "false") return false;
  if (inner === "null") return null;
  if (/^-?\d+(\.\d+)?$/.test(inner)) return Number(inner);
  try {
    return JSON.parse(inner) as unknown;
  } catch {
    return trimmed;
  }
}

interface Value {
  value: unknown;
  next: number;
  error?: string;
  /** The value was an expression that is not JSON, kept as its own text. */
  notJson?: boolean;
}

function quoted(source: string, start: number): Value {
  const quote = source[start];
  let value = "";
  for (let i = start + 1; i < source.length; i++) {
    const ch = source[i] as string;
    if (ch === "\\" && i + 1 < source.length) {
      value += source[i + 1];
      i++;
      continue;
    }
    if (ch === quote) {
      if (quote === '"') {
        try {
          const parsed: unknown = JSON.parse(source.slice(start, i + 1));
          if (typeof parsed === "string") return { value: decodeEntities(parsed), next: i + 1 };
        } catch {
          // the lenient reading below
        }
      }
      return { value: decodeEntities(value), next: i + 1 };
    }
    value += ch;
  }
  return { value: null, next: source.length, error: "Unclosed quoted prop value" };
}

/** A `{…}` expression with balanced braces (quotes inside are skipped); its end, or -1. */
function balancedEnd(source: string, start: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = start; i < source.length; i++) {
    const ch = source[i];
    if (quote) {
      if (ch === quote && source[i - 1] !== "\\") quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return i + 1;
  }
  return -1;
}

function value(source: string, start: number): Value {
  const first = source[start];
  if (first === '"' || first === "'") return quoted(source, start);
  if (first === "{") {
    const end = balancedEnd(source, start);
    if (end < 0) return { value: null, next: source.length, error: "Unclosed expression prop value" };
    const raw = source.slice(start, end);
    const parsed = expressionValue(raw);
    return { value: parsed, next: end, notJson: parsed === raw.trim() };
  }
  BARE.lastIndex = start;
  const raw = BARE.exec(source)?.[0] ?? "";
  return { value: expressionValue(raw), next: start + raw.length };
}

export interface PropIssue {
  prop: string;
  /** The expression as written, when it was not JSON and was kept as text. */
  raw?: string;
}

/**
 * Parses a tag's props source. Errors stop the parse (what was read so far is kept), as in
 * PostHog; `notJson` names the props whose `{…}` was not JSON and became a string.
 */
export function parseProps(source: string): ParsedProps & { notJson: PropIssue[] } {
  const entries = new Map<string, PropValue>();
  const errors: string[] = [];
  const notJson: PropIssue[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < source.length && SPACE.test(source[i] as string)) i++;
  };
  while (i < source.length) {
    skipSpace();
    if (i >= source.length) break;
    NAME.lastIndex = i;
    const name = NAME.exec(source)?.[0];
    if (!name) {
      errors.push(`Could not parse props near: ${source.slice(i, i + 24)}`);
      break;
    }
    i += name.length;
    skipSpace();
    if (source[i] !== "=") {
      entries.set(name, true);
      continue;
    }
    i++;
    skipSpace();
    const read = value(source, i);
    i = read.next;
    if (read.error) {
      errors.push(read.error);
      continue;
    }
    if (isPropValue(read.value)) {
      entries.set(name, read.value);
      if (read.notJson && typeof read.value === "string") notJson.push({ prop: name, raw: read.value });
    } else errors.push(`Unsupported value for prop "${name}"`);
  }
  return { props: plainObject(entries) as Props, errors, notJson };
}

function propText(value: PropValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return `{${String(value)}}`;
  return `{${JSON.stringify(value)}}`;
}

const PANEL = new Set(["view", "edit", "hideFilters", "hideResults"]);

/**
 * ` a="x" b={1} c` as PostHog writes props: `hideFilters` and `hideResults` first (from those or
 * from the legacy `edit`/`view` panels), `edit` and `view` never written, `undefined` skipped.
 */
export function serializeProps(props: Record<string, unknown>): string {
  const hideFilters = typeof props.hideFilters === "boolean" ? props.hideFilters : props.edit === false;
  const hideResults = typeof props.hideResults === "boolean" ? props.hideResults : props.view === false;
  let out = `${hideFilters ? " hideFilters" : ""}${hideResults ? " hideResults" : ""}`;
  for (const [key, value] of Object.entries(props)) {
    if (PANEL.has(key) || value === undefined) continue;
    out += value === true ? ` ${key}` : ` ${key}=${propText(value as PropValue)}`;
  }
  return out;
}

/** `<Tag … />` */
export function componentTag(tag: string, props: Record<string, unknown>): string {
  return `<${tag}${serializeProps(props)} />`;
}
