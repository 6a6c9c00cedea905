/**
 * Small, dependency-free helpers that reproduce the Python/Django/DRF details the sandbox has
 * to match byte for byte: timestamps with microseconds, `urllib.parse` query handling (which
 * DRF uses to build `next`/`previous` links), Postgres JSONB containment, and ids.
 */

import { createHash, randomInt, randomUUID } from "node:crypto";
import { isRecord } from "../is-record.js";

// ---------------------------------------------------------------------------------------------
// Time. Every timestamp is an integer number of microseconds since the epoch (UTC), because
// PostHog's timestamps carry microseconds and ordering/filters compare at that precision.
// ---------------------------------------------------------------------------------------------

export type Micros = number;

/** A clock that never returns the same (or an earlier) microsecond twice. */
export class MonotonicClock {
  private last = 0;
  constructor(private readonly nowMs: () => number = Date.now) {}

  /** Current wall-clock milliseconds (the injectable clock, unadjusted). */
  ms(): number {
    return this.nowMs();
  }

  /** Strictly increasing microseconds, anchored to the wall clock. */
  next(): Micros {
    const candidate = Math.floor(this.nowMs()) * 1000;
    this.last = candidate > this.last ? candidate : this.last + 1;
    return this.last;
  }

  /** Make sure later `next()` values are after `t` (used after loading persisted state). */
  observe(t: Micros): void {
    if (t > this.last) this.last = t;
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** DRF's DateTimeField output: ISO 8601, microseconds only when non-zero, `Z` for UTC. */
export function formatIso(us: Micros): string {
  const ms = Math.floor(us / 1000);
  const micro = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  const base = new Date(ms).toISOString().slice(0, 19);
  return micro === 0 ? `${base}Z` : `${base}.${pad(micro, 6)}Z`;
}

/** Python's `str(datetime)` for an aware UTC datetime (what DRF's CursorPagination encodes). */
export function formatPythonDatetime(us: Micros): string {
  const ms = Math.floor(us / 1000);
  const micro = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  const base = new Date(ms).toISOString().slice(0, 19).replace("T", " ");
  return micro === 0 ? `${base}+00:00` : `${base}.${pad(micro, 6)}+00:00`;
}

export function msToMicros(ms: number): Micros {
  return Math.round(ms * 1000);
}

/** Parse an ISO string (as produced by `formatIso` or `Date#toISOString`) into microseconds. */
export function isoToMicros(iso: string): Micros | null {
  const m = /^(.*?)(?:\.(\d{1,6})\d*)?(Z|[+-]\d{2}:\d{2})$/.exec(iso.trim());
  if (!m) {
    const t = Date.parse(iso);
    return Number.isNaN(t) ? null : t * 1000;
  }
  const [, head = "", frac = "", tz = "Z"] = m;
  const t = Date.parse(`${head}${tz}`);
  if (Number.isNaN(t)) return null;
  return t * 1000 + Number(frac.padEnd(6, "0") || "0");
}

// ---------------------------------------------------------------------------------------------
// Query strings, the way Python's urllib.parse (and therefore Django/DRF) handles them.
// ---------------------------------------------------------------------------------------------

/** `urllib.parse.unquote_plus`: `+` is a space, then percent-decoding (bad escapes kept). */
export function unquotePlus(s: string): string {
  const spaced = s.replace(/\+/g, " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Decode what can be decoded, keep malformed escapes literally (errors="replace"-ish).
    return spaced.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** `urllib.parse.quote_plus` with the default `safe=''`: only `[A-Za-z0-9_.~-]` stay as they are. */
export function quotePlus(s: string): string {
  let out = "";
  for (const byte of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.~-]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** `urllib.parse.parse_qsl(query, keep_blank_values=True)`: ordered pairs, `&` separated. */
export function parseQsl(query: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const field of query.split("&")) {
    if (field === "") continue;
    const eq = field.indexOf("=");
    const k = eq === -1 ? field : field.slice(0, eq);
    const v = eq === -1 ? "" : field.slice(eq + 1);
    pairs.push([unquotePlus(k), unquotePlus(v)]);
  }
  return pairs;
}

/** Django's `request.GET.dict()`: the last value wins for a repeated key. */
export function queryDict(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of parseQsl(query)) out[k] = v;
  return out;
}

/**
 * DRF's `replace_query_param` / `remove_query_param`: parse the query with `parse_qs`, set or
 * delete one key, and re-encode with `urlencode(sorted(...), doseq=True)`. The sort (by key,
 * code-point order) and `quote_plus` encoding are what make PostHog's `next` links look the way
 * they do.
 */
export function rewriteQuery(
  url: string,
  set: Record<string, string | number>,
  remove: string[] = [],
): string {
  const qIndex = url.indexOf("?");
  const base = qIndex === -1 ? url : url.slice(0, qIndex);
  const query = qIndex === -1 ? "" : url.slice(qIndex + 1);
  const grouped = new Map<string, string[]>();
  for (const [k, v] of parseQsl(query)) {
    const list = grouped.get(k);
    if (list) list.push(v);
    else grouped.set(k, [v]);
  }
  for (const [k, v] of Object.entries(set)) grouped.set(k, [String(v)]);
  for (const k of remove) grouped.delete(k);
  const keys = [...grouped.keys()].sort(comparePython);
  const encoded = keys
    .flatMap((k) => (grouped.get(k) ?? []).map((v) => `${quotePlus(k)}=${quotePlus(v)}`))
    .join("&");
  return encoded ? `${base}?${encoded}` : base;
}

/** Python's default string ordering (by code point), unlike `localeCompare`. */
export function comparePython(a: string, b: string): number {
  const ac = [...a];
  const bc = [...b];
  const n = Math.min(ac.length, bc.length);
  for (let i = 0; i < n; i++) {
    const x = ac[i]?.codePointAt(0) ?? 0;
    const y = bc[i]?.codePointAt(0) ?? 0;
    if (x !== y) return x - y;
  }
  return ac.length - bc.length;
}

/**
 * PostHog's `format_query_params_absolute_url`: regex-replace (or append) `page`/`offset` and
 * `limit` in the URL exactly as the client sent it (no re-encoding, no sorting). Falsy values
 * leave the URL alone, as in the Python.
 */
export function formatQueryParamsAbsoluteUrl(
  url: string,
  offset: number | null,
  limit: number | null,
  offsetAlias = "offset",
  limitAlias = "limit",
): string {
  let out = url;
  const apply = (alias: string, value: number | null) => {
    if (!value) return;
    const re = new RegExp(`([&?]${alias}=)(\\d+)`, "g");
    if (re.test(out)) out = out.replace(re, `$1${value}`);
    else out = `${out}${out.includes("?") ? "&" : "?"}${alias}=${value}`;
  };
  apply(offsetAlias, offset);
  apply(limitAlias, limit);
  return out;
}

/** Python's `int(str)` for query strings: optional sign, digits with single `_` separators, spaces. */
export function pythonInt(s: string): number | null {
  const m = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(s);
  if (!m) return null;
  const n = Number(`${m[1]}${(m[2] ?? "").replace(/_/g, "")}`);
  return Number.isFinite(n) ? n : null;
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Postgres `jsonb @>` (containment): does `container` contain `contained`? */
export function jsonbContains(container: unknown, contained: unknown): boolean {
  if (Array.isArray(contained)) {
    if (!Array.isArray(container)) return false;
    return contained.every((want) => container.some((have) => jsonbContains(have, want)));
  }
  if (isRecord(contained)) {
    if (!isRecord(container)) return false;
    return Object.entries(contained).every(
      ([k, want]) => Object.hasOwn(container, k) && jsonbContains(container[k], want),
    );
  }
  if (Array.isArray(container) || isRecord(container)) return false;
  return container === contained;
}

/**
 * Python's `str()` of a JSON-decoded value, used where PostHog formats values into a string
 * (the recording-comment id hash). Floats that happen to be integral print without `.0` here,
 * because JSON parsing in JavaScript cannot tell `1000` from `1000.0`.
 */
export function sha256Hex(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function randomAlnum(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

export function newUuid(): string {
  return randomUUID();
}

/** A stable UUID-shaped id derived from a string (for users and keys that need fixed ids). */
export function stableUuid(seed: string): string {
  const h = sha256Hex(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Normalise a UUID the way Python's `uuid.UUID()` accepts it; `null` if it is not one. */
export function normalizeUuid(s: string): string | null {
  let v = s.trim().toLowerCase();
  if (v.startsWith("urn:uuid:")) v = v.slice(9);
  v = v.replace(/^\{|\}$/g, "").replace(/-/g, "");
  return /^[0-9a-f]{32}$/.test(v) ? v : null;
}

/** Count characters as Python does (code points, not UTF-16 units). */
export function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
