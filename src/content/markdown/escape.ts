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

/** Text in running Markdown: everything the inline parser would read as syntax is escaped. */
export function escapeInline(text: string): string {
  const step1 = text
    .replace(/[\\`*[\]|]/g, (match) => `\\${match}`)
    .replace(/~~+/g, (run) => "\\~".repeat(run.length));
  return step1
    .replace(/_/g, (_match, offset: number, source: string) =>
      // Intraword underscores (snake_case) stay readable.
      isAsciiAlphaNumeric(source[offset - 1]) && isAsciiAlphaNumeric(source[offset + 1]) ? "_" : "\\_",
    )
    .replace(/<(?=\/?(?:u>|ref[\s>]|mention[\s>]))/g, "\\<");
}

/** Text inside a code span: only backslashes and backticks. */
export function escapeCodeSpan(text: string): string {
  return text.replace(/[\\`]/g, (match) => `\\${match}`);
}

export function unescapeCodeSpan(text: string): string {
  return text.replace(/\\([\\`])/g, "$1");
}

/** A line of a paragraph that would otherwise start another block (heading, list, quote, rule, tag). */
export function escapeLineStart(line: string): string {
  const leading = /^\s*/.exec(line)?.[0] ?? "";
  const content = line.slice(leading.length);
  const ordered = /^(\d+)([.)])(\s|$)/.exec(content);
  if (ordered?.[1]) return `${leading}${ordered[1]}\\${content.slice(ordered[1].length)}`;
  if (/^(#{1,6}\s|>|[-+•](\s|$)|-{3,}\s*$|<[A-Z]|<!--)/.test(content)) return `${leading}\\${content}`;
  return line;
}

export function escapeBlockLines(text: string): string {
  return text.split("\n").map(escapeLineStart).join("\n");
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
