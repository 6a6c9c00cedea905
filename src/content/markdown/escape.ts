/**
 * Escaping in PostHog's notebook Markdown (frontend/src/lib/components/MarkdownNotebook/markdown.ts):
 * what the serializer backslash-escapes so that the parser reads back the same text, and the
 * link rule both directions share (http and https only).
 */

/** Every character a backslash escapes; `\X` for any other X is a literal backslash and X. */
export const ESCAPABLE = new Set([
  "\\",
  "`",
  "*",
  "_",
  "~",
  "[",
  "]",
  "(",
  ")",
  "<",
  ">",
  "#",
  "+",
  "-",
  ".",
  "|",
  "!",
  "•",
]);

export function isAsciiAlphaNumeric(ch: string | undefined): boolean {
  if (ch === undefined) return false;
  const c = ch.charCodeAt(0);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

const WHITESPACE = /\s/;

/** JavaScript's `\s`, which PostHog's grammar uses throughout. */
export function isWhitespace(ch: string | undefined): boolean {
  return ch !== undefined && WHITESPACE.test(ch);
}

const INLINE_SYNTAX = /[\\`*[\]|~_<]/;
const LINE_START_SYNTAX = /^\s*(?:[0-9#>\-+•<])/;

/**
 * Text in running Markdown: everything the inline parser would read as syntax is escaped, as
 * PostHog's `escapeInlineMarkdownText` does it (its four passes, in one): `\`, a backtick, `*`,
 * `[`, `]` and `|` always; `~` in runs of two or more; `_` unless between two ASCII letters or
 * digits (snake_case stays readable); `<` where it would open `<u>`, `<ref …>` or `<mention …>`,
 * and (this server's v1 grammar) where it would open `<ReplayTimestamp` or `<Backlink`.
 */
export function escapeInline(text: string): string {
  return INLINE_SYNTAX.test(text) ? text.replace(INLINE_ESCAPES, "\\$&") : text;
}

const INLINE_ESCAPES =
  /[\\`*[\]|]|~(?=~)|(?<=~)~|_(?![A-Za-z0-9])|(?<![A-Za-z0-9])_|<(?=\/?(?:u>|ref[\s>]|mention[\s>])|(?:ReplayTimestamp|Backlink)[\s/>])/g;

/** Text with every character a backslash escapes escaped: it reads back as itself wherever it stands. */
export function escapeAll(text: string): string {
  let out = "";
  for (const ch of text) out += ESCAPABLE.has(ch) ? `\\${ch}` : ch;
  return out;
}

/** Text inside a code span: only backslashes and backticks. */
export function escapeCodeSpan(text: string): string {
  return text.replace(/[\\`]/g, "\\$&");
}

export function unescapeCodeSpan(text: string): string {
  if (!text.includes("\\")) return text;
  return text.replace(/\\([\\`])/g, "$1");
}

/** A line of a paragraph that would otherwise start another block (heading, list, quote, rule, tag). */
export function escapeLineStart(line: string): string {
  if (!LINE_START_SYNTAX.test(line)) return line;
  const leading = /^\s*/.exec(line)?.[0] ?? "";
  const content = line.slice(leading.length);
  const ordered = /^(\d+)([.)])(\s|$)/.exec(content);
  if (ordered?.[1]) return `${leading}${ordered[1]}\\${content.slice(ordered[1].length)}`;
  // A line may open with an inline tag: text never does (escapeInline escapes its `<`).
  if (/^(#{1,6}\s|>|[-+•](\s|$)|-{3,}\s*$|<(?!(?:ReplayTimestamp|Backlink)[\s/>])[A-Z]|<!--)/.test(content))
    return `${leading}\\${content}`;
  return line;
}

export function escapeBlockLines(text: string): string {
  let out = "";
  let from = 0;
  for (let start = 0; start <= text.length; ) {
    const newline = text.indexOf("\n", start);
    const end = newline === -1 ? text.length : newline;
    // Only a line that opens with one of these (after spaces) can need escaping.
    if (LINE_START_SYNTAX.test(text.slice(start, end))) {
      const line = text.slice(start, end);
      const escaped = escapeLineStart(line);
      if (escaped !== line) {
        out += text.slice(from, start) + escaped;
        from = end;
      }
    }
    if (newline === -1) break;
    start = newline + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** A link's destination as PostHog keeps it: http(s) only, trimmed, or null. */
export function sanitizeHref(href: string): string | null {
  const trimmed = href.trim();
  if (!/^https?:\/\/\S+$/i.test(trimmed)) return null;
  try {
    const url = new URL(trimmed);
    return url.protocol === "http:" || url.protocol === "https:" ? trimmed : null;
  } catch {
    return null;
  }
}

export function escapeImageAlt(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\]/g, "\\]");
}

export function escapeImageSrc(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\)/g, "\\)");
}

export function unescapeImageValue(text: string): string {
  return text.replace(/\\([\\\])])/g, "$1");
}

/** A code fence longer than any backtick run anywhere in `text`, and at least three. */
export function codeFence(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return "`".repeat(Math.max(3, longest + 1));
}
