/**
 * What agents write is cleaned of what a browser would execute: link marks and `href`/`src`
 * attributes holding a script (javascript:, vbscript:), a file or a non-image data URL are dropped,
 * and each drop is reported. Everything else stays exactly as it was (unchanged parts are not
 * even copied).
 */
import { isRecord } from "./nodes.js";

/** Whether a link or source is safe to keep: not a script, a file or a non-image data URL (spaces and controls cannot hide the scheme). */
export function isAllowedLink(href: string): boolean {
  let squashed = "";
  for (const ch of href)
    if (ch !== " " && ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f) squashed += ch;
  squashed = squashed.toLowerCase();
  if (/^(?:javascript|vbscript|file):/.test(squashed)) return false;
  if (/^data:/.test(squashed)) return /^data:image\/(?:gif|png|jpeg|webp);/.test(squashed);
  return true;
}

export const URL_ATTRS: readonly string[] = ["href", "src"];

/** What was dropped: the node type, the attribute or mark, and its value. */
export interface Dropped {
  type: string;
  what: string;
  value: string;
}

function clean(value: unknown, owner: string, dropped: Dropped[]): unknown {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      if (isRecord(item) && item.type === "link" && isRecord(item.attrs)) {
        const href = item.attrs.href;
        if (typeof href === "string" && !isAllowedLink(href)) {
          dropped.push({ type: owner, what: "link", value: href });
          out ??= value.slice(0, i);
          return;
        }
      }
      const cleaned = clean(item, owner, dropped);
      if (cleaned !== item) out ??= value.slice(0, i);
      out?.push(cleaned);
    });
    return out ?? value;
  }
  if (!isRecord(value)) return value;
  const type = typeof value.type === "string" ? value.type : owner;
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    if (URL_ATTRS.includes(key) && typeof item === "string" && !isAllowedLink(item)) {
      dropped.push({ type, what: key, value: item });
      out ??= { ...value };
      delete out[key];
      continue;
    }
    const cleaned = clean(item, type, dropped);
    if (cleaned !== item) {
      out ??= { ...value };
      out[key] = cleaned;
    }
  }
  return out ?? value;
}

/** `value` without executable links or sources (the same object when it has none), and what went. */
export function sanitize<T>(value: T): { value: T; dropped: Dropped[] } {
  const dropped: Dropped[] = [];
  return { value: clean(value, "document", dropped) as T, dropped };
}

/** A copy of `doc` without executable links or sources. */
export function sanitizeDocument<T>(doc: T): T {
  return sanitize(doc).value;
}
