/**
 * Block Markdown as PostHog's notebook parser reads it (`parseMarkdownNotebook` in
 * frontend/src/lib/components/MarkdownNotebook/markdown.ts): a line-based grammar, not CommonMark.
 * A line holding one space is an empty paragraph; blank lines separate; a block is, by its first
 * line, a code fence, an image, a divider, an `<!-- comment -->`, a component tag, a heading, a
 * table, a list (items one line each, nested by indentation), a quote, or else a paragraph (lines
 * up to the next blank line or block start, joined by hard breaks).
 *
 * The same results in linear time: every check looks at one or two lines (PostHog's search for
 * a comment's end and its component scan re-read lines, quadratic on adversarial input), and the
 * regular expressions that could backtrack on long lines are spelled out by hand.
 */
import { isWhitespace, unescapeImageValue } from "./escape.js";
import { type Inline, type InlineOptions, parseInline } from "./inline.js";
import { type Props, parseProps } from "./props.js";

export interface ListItem {
  depth: number;
  ordered: boolean;
  start?: number;
  checked?: boolean;
  children: Inline[];
  /** The item's line (0-based). */
  line: number;
}

export type Block =
  /** `fallback`: the source of a tag that could not be read, kept as text. */
  (
    | { type: "paragraph"; children: Inline[]; fallback?: true }
    | { type: "heading"; level: number; children: Inline[] }
    /** `blocks`: what the quote holds, in this server's v1 grammar (any blocks, read recursively). */
    | { type: "blockquote"; children: Inline[]; blocks?: Block[] }
    | { type: "list"; ordered: boolean; start?: number; items: ListItem[]; blockquote?: boolean }
    | { type: "table"; headers: Inline[][]; rows: Inline[][][] }
    | { type: "code"; language?: string; text: string; closed: boolean }
    | {
        type: "component";
        tagName: string;
        props: Props;
        /** The tag as written, for tags read from a tag (not `---`, images or comments). */
        raw?: string;
        errors?: string[];
        /** Props whose `{…}` was not JSON and became its text. */
        notJson?: string[];
      }
  ) & {
    /** First line (0-based) and the line after the last. */
    line: number;
    end: number;
  };

export interface BlockIssue {
  /** Line number (1-based) in the Markdown. */
  line: number;
  message: string;
}

export interface ParsedMarkdown {
  blocks: Block[];
  issues: BlockIssue[];
  /** The lines, as the parser split them (`\r\n` and `\r` read as `\n`). */
  lines: string[];
}

/** The (empty) children of every block of an outline: one array, not one per block. */
const NO_TEXT: Inline[] = [];
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;
const COMPONENT_START = /^<[A-Z][A-Za-z0-9]*(\s|>|\/)/;
const ORDERED_LIST = /^\s*\d+[.)](?:\s+|$)/;
const BULLET_LIST = /^\s*[-*+•](?:\s+|$)/;
const DIVIDER = /^(?:-{3,}|\*{3,}|_{3,})$/;
const IMAGE = /^!\[((?:\\.|[^\]\\])*)\]\(((?:\\.|[^)\\])*)\)$/;
const SEPARATOR_CELL = /^:?-{3,}:?$/;
const BLOCK_OPENERS = new Set([..."`!-*_<#|>+•0123456789"]);

function leadingSpace(text: string, from = 0): number {
  let i = from;
  while (i < text.length && isWhitespace(text[i])) i++;
  return i;
}

/**
 * `\s+(.*)$` after `from`, as PostHog's regular expressions read it: the text after the whitespace
 * (which `.` reads only when it holds no line terminator), `undefined` when nothing follows `from`,
 * or null when the rest does not match.
 */
function restAfterSpace(text: string, from: number): string | undefined | null {
  if (from >= text.length) return undefined;
  const start = leadingSpace(text, from);
  if (start === from) return null;
  const rest = text.slice(start);
  return LINE_TERMINATOR.test(rest) ? null : rest;
}

/** `^(#{1,6})\s+(.*)$` */
function heading(line: string): { level: number; text: string } | null {
  let level = 0;
  while (level < line.length && line[level] === "#") level++;
  if (level < 1 || level > 6) return null;
  const text = restAfterSpace(line, level);
  return typeof text === "string" ? { level, text } : null;
}

/** `^(\s*)(\d+[.)]|[-*+•])(?:\s+(.*))?$` */
function listItem(
  line: string,
): { indent: string; ordered: boolean; start?: number; text: string | undefined } | null {
  const markerAt = leadingSpace(line);
  let i = markerAt;
  let ordered = false;
  const digit = (at: number) => {
    const c = line.charCodeAt(at);
    return c >= 48 && c <= 57;
  };
  if (digit(i)) {
    while (digit(i)) i++;
    if (line[i] !== "." && line[i] !== ")") return null;
    ordered = true;
    i++;
  } else if (line[i] === "-" || line[i] === "*" || line[i] === "+" || line[i] === "•") i++;
  else return null;
  const text = restAfterSpace(line, i);
  if (text === null) return null;
  const indent = line.slice(0, markerAt);
  return ordered
    ? { indent, ordered, start: Number(line.slice(markerAt, i - 1)), text }
    : { indent, ordered, text };
}

/** `^\[([ xX])\](?:\s+(.*))?$` on a bullet item's text. */
function task(text: string): { checked: boolean; text: string } | null {
  if (text[0] !== "[" || text[2] !== "]" || !" xX".includes(text[1] ?? "?") || text.length < 3) return null;
  const rest = restAfterSpace(text, 3);
  if (rest === null) return null;
  return { checked: text[1] !== " ", text: rest ?? "" };
}

function isListLine(line: string): boolean {
  return ORDERED_LIST.test(line) || BULLET_LIST.test(line);
}

/** A block read from a part of the text, placed at `offset` lines into the whole. */
function shifted(block: Block, offset: number): Block {
  const out = { ...block, line: block.line + offset, end: block.end + offset } as Block;
  if (out.type === "list") out.items = out.items.map((item) => ({ ...item, line: item.line + offset }));
  if (out.type === "blockquote" && out.blocks) out.blocks = out.blocks.map((b) => shifted(b, offset));
  return out;
}

function stripQuote(line: string): string {
  return line.trim().replace(/^>\s?/, "");
}

/** `|`-separated cells: one outer `|` each side removed, `\|` a literal pipe. */
function splitRow(line: string): string[] {
  if (!line.includes("|")) return [];
  let source = line.trim();
  if (source.startsWith("|")) source = source.slice(1);
  if (source.endsWith("|")) source = source.slice(0, -1);
  const cells: string[] = [];
  let cell = "";
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === "\\" && source[i + 1] === "|") {
      cell += "|";
      i++;
    } else if (ch === "|") {
      cells.push(cell.trim());
      cell = "";
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

/** Depth from indentation: two columns a level, a tab four columns. */
function depthOf(indent: string): number {
  let columns = 0;
  for (const ch of indent) columns += ch === "\t" ? 4 : 1;
  return Math.floor(columns / 2);
}

export interface ParseOptions extends InlineOptions {
  /**
   * Only where blocks lie: their text is not read into inline nodes (children come back empty,
   * and no inline issue is reported). For cutting Markdown between blocks.
   */
  outline?: boolean;
  /** Quotes this text lies in (this server's v1 grammar reads a quote's lines as blocks again). */
  quoteDepth?: number;
}

/**
 * Quotes inside quotes read as blocks, at most: a quote deeper than this is read as PostHog's own
 * grammar reads every quote (its lines as text, their deeper `>` included). Each level reads its
 * lines again, so the depth bounds the cost: a thousand levels in 2 KB held the server for
 * seconds, and overflowed the stack at 1,400. PostHog's editor nests a few.
 */
export const MAX_QUOTE_DEPTH = 16;

/** PostHog notebook Markdown → blocks, with what the parser could not read as meant. */
export function parseBlocks(markdown: string, options: ParseOptions = {}): ParsedMarkdown {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  const trimmed = lines.map((line) => line.trim());
  const blocks: Block[] = [];
  const issues: BlockIssue[] = [];

  const inline = (text: string, line: number): Inline[] => {
    if (options.outline) return NO_TEXT;
    const parsed = parseInline(text, options);
    if (parsed.issues.length === 0) return parsed.nodes;
    // Issues come in the order of their offsets: each line break is passed once, on from the one
    // before (from the start again only for an issue out of order), not from the start for each.
    let at = line;
    let counted = 0;
    let nextBreak = text.indexOf("\n");
    for (const issue of parsed.issues) {
      if (issue.offset < counted) {
        at = line;
        nextBreak = text.indexOf("\n");
      }
      while (nextBreak !== -1 && nextBreak < issue.offset) {
        at++;
        nextBreak = text.indexOf("\n", nextBreak + 1);
      }
      counted = issue.offset;
      issues.push({ line: at + 1, message: issue.message });
    }
    return parsed.nodes;
  };

  // Where a comment opened on line i ends: the first `-->` from there must end its line.
  const arrows = trimmed.map((line) => line.indexOf("-->"));
  const nextArrowLine = new Int32Array(lines.length + 1).fill(-1);
  for (let i = lines.length - 1; i >= 0; i--)
    nextArrowLine[i] = arrows[i] !== -1 ? i : (nextArrowLine[i + 1] as number);
  const commentEnd = (i: number): number | null => {
    const first = (trimmed[i] as string).indexOf("-->", 4);
    if (first !== -1) return first === (trimmed[i] as string).length - 3 ? i : null;
    const j = nextArrowLine[i + 1] as number;
    if (j === -1) return null;
    return arrows[j] === (trimmed[j] as string).length - 3 ? j : null;
  };

  const isTableStart = (i: number): boolean => {
    if (!(trimmed[i] as string).startsWith("|")) return false;
    const separator = splitRow(lines[i + 1] ?? "");
    return (
      splitRow(lines[i] as string).length >= 1 &&
      separator.length >= 1 &&
      separator.every((c) => SEPARATOR_CELL.test(c.trim()))
    );
  };

  /**
   * Whether line i opens with an inline tag this parse reads inside lines (`<ReplayTimestamp …/>`,
   * `<Backlink …/>`), closed on that line: it is a line of a paragraph, the tag one of its nodes.
   */
  const inlineTagLine = (i: number): boolean => {
    if (!options.inlineTags) return false;
    const t = trimmed[i] as string;
    const name = /^<([A-Z][A-Za-z0-9]*)/.exec(t)?.[1];
    return name !== undefined && options.inlineTags.has(name) && t.includes("/>");
  };

  /** Whether line i starts a block other than a paragraph (a paragraph stops before it). */
  const startsBlock = (i: number): boolean => {
    const line = lines[i] as string;
    const t = trimmed[i] as string;
    // Every block but a paragraph opens with one of these (after spaces), or is blank.
    if (t && !BLOCK_OPENERS.has(t[0] as string)) return false;
    return (
      !t ||
      t.startsWith("```") ||
      IMAGE.test(t) ||
      DIVIDER.test(t) ||
      (t.startsWith("<!--") && commentEnd(i) !== null) ||
      (COMPONENT_START.test(t) && !inlineTagLine(i)) ||
      heading(line) !== null ||
      isTableStart(i) ||
      isListLine(line) ||
      t.startsWith(">")
    );
  };

  const list = (
    source: string[],
    first: number,
    lineOf: (k: number) => number,
  ): { block: Omit<Extract<Block, { type: "list" }>, "line" | "end">; used: number } => {
    const ordered = ORDERED_LIST.test(source[first] as string);
    const items: ListItem[] = [];
    let k = first;
    for (; k < source.length; k++) {
      const match = listItem(source[k] as string);
      if (!match) break;
      const checkedTask = match.ordered ? null : task(match.text ?? "");
      const item: ListItem = {
        depth: depthOf(match.indent),
        ordered: match.ordered,
        children: inline(checkedTask ? checkedTask.text : (match.text ?? ""), lineOf(k)),
        line: lineOf(k),
      };
      if (match.start !== undefined) item.start = match.start;
      if (checkedTask) item.checked = checkedTask.checked;
      items.push(item);
    }
    let previous = -1;
    for (const item of items) {
      item.depth = Math.min(item.depth, previous + 1);
      previous = item.depth;
    }
    const start = ordered ? items.find((item) => item.depth === 0 && item.ordered)?.start : undefined;
    return {
      block: { type: "list", ordered, ...(start === undefined ? {} : { start }), items },
      used: k - first,
    };
  };

  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    const t = trimmed[i] as string;
    if (line === " ") {
      blocks.push({ type: "paragraph", children: [], line: i, end: i + 1 });
      i++;
      continue;
    }
    if (!t) {
      i++;
      continue;
    }
    const at = i;
    const push = (block: Block) => blocks.push(block);

    if (t.startsWith("```")) {
      const fence = /^`+/.exec(t)?.[0].length ?? 3;
      const language = t.slice(fence).trim();
      const code: string[] = [];
      let j = i + 1;
      const closes = (text: string) => text.length >= fence && /^`+$/.test(text);
      while (j < lines.length && !closes(trimmed[j] as string)) code.push(lines[j++] as string);
      const closed = j < lines.length;
      if (!closed)
        issues.push({ line: at + 1, message: "a code block that is never closed: it runs to the end" });
      push({
        type: "code",
        ...(language ? { language } : {}),
        text: code.join("\n"),
        closed,
        line: at,
        end: closed ? j + 1 : j,
      });
      i = closed ? j + 1 : j;
      continue;
    }
    const image = IMAGE.exec(t);
    if (image) {
      push({
        type: "component",
        tagName: "Image",
        props: { alt: unescapeImageValue(image[1] ?? ""), src: unescapeImageValue(image[2] ?? "") },
        line: at,
        end: at + 1,
      });
      i++;
      continue;
    }
    if (DIVIDER.test(t)) {
      push({ type: "component", tagName: "Divider", props: {}, line: at, end: at + 1 });
      i++;
      continue;
    }
    if (t.startsWith("<!--")) {
      const last = commentEnd(i);
      if (last !== null) {
        const raw = lines
          .slice(i, last + 1)
          .join("\n")
          .trim();
        push({
          type: "component",
          tagName: "Comment",
          props: { text: raw.slice(4, raw.length - 3).trim() },
          line: at,
          end: last + 1,
        });
        i = last + 1;
        continue;
      }
    }
    if (COMPONENT_START.test(t) && !inlineTagLine(i)) {
      const name = /^<([A-Z][A-Za-z0-9]*)/.exec(t)?.[1] as string;
      const closing = `</${name}>`;
      let j = i;
      let terminated = false;
      // A tag ends at the first line after which it ends with `/>` or holds its closing tag; a
      // blank line ends the scan, so an unterminated tag never swallows the document.
      while (j < lines.length && (j === i || trimmed[j])) {
        if ((trimmed[j] as string).endsWith("/>") || (lines[j] as string).includes(closing)) {
          terminated = true;
          break;
        }
        j++;
      }
      const raw = lines
        .slice(i, terminated ? j + 1 : j)
        .join("\n")
        .trim();
      const tag = terminated ? componentTag(raw, name) : null;
      if (!tag) {
        issues.push({
          line: at + 1,
          message:
            terminated || t.includes("/>")
              ? `a <${name}> tag that is not well formed (text after it on its line, or a closing tag that does not match)`
              : `a <${name}> tag that is never closed with "/>" before a blank line`,
        });
        push({
          type: "paragraph",
          children: rawParagraph(raw),
          fallback: true,
          line: at,
          end: terminated ? j + 1 : j,
        });
        i = terminated ? j + 1 : j;
        continue;
      }
      push({ ...tag, line: at, end: j + 1 });
      i = j + 1;
      continue;
    }
    const head = heading(line);
    if (head) {
      push({ type: "heading", level: head.level, children: inline(head.text, at), line: at, end: at + 1 });
      i++;
      continue;
    }
    if (isTableStart(i)) {
      const headers = splitRow(line).map((cell) => inline(cell, at));
      const rows: Inline[][][] = [];
      let j = i + 2;
      while (j < lines.length && (trimmed[j] as string).startsWith("|")) {
        const cells = splitRow(lines[j] as string);
        if (cells.length < 1) break;
        const row = j;
        rows.push(cells.map((cell) => inline(cell, row)));
        j++;
      }
      push({ type: "table", headers, rows, line: at, end: j });
      i = j;
      continue;
    }
    if (isListLine(line)) {
      const { block, used } = list(lines, i, (k) => k);
      push({ ...block, line: at, end: at + Math.max(used, 1) });
      i += Math.max(used, 1);
      continue;
    }
    const depth = options.quoteDepth ?? 0;
    if (t.startsWith(">") && options.inlineTags && depth >= MAX_QUOTE_DEPTH) {
      issues.push({ line: at + 1, message: `a quote inside more than ${MAX_QUOTE_DEPTH} quotes` });
    }
    if (t.startsWith(">") && options.inlineTags && depth < MAX_QUOTE_DEPTH) {
      // This server's v1 grammar: a quote holds blocks, as it does in the editor (paragraphs
      // apart by a line of `>` alone, lists, code, components), read as a document of its own.
      let j = i;
      while (j < lines.length && (trimmed[j] as string).startsWith(">")) j++;
      const inner = parseBlocks(
        lines
          .slice(i, j)
          .map((quoted) => quoted.replace(/^\s*>\s?/, ""))
          .join("\n"),
        { ...options, quoteDepth: depth + 1 },
      );
      for (const issue of inner.issues) issues.push({ line: issue.line + at, message: issue.message });
      push({
        type: "blockquote",
        children: [],
        blocks: inner.blocks.map((b) => shifted(b, at)),
        line: at,
        end: j,
      });
      i = j;
      continue;
    }
    if (t.startsWith(">")) {
      if (isListLine(stripQuote(line))) {
        const quoted: string[] = [];
        let j = i;
        while (
          j < lines.length &&
          (trimmed[j] as string).startsWith(">") &&
          isListLine(stripQuote(lines[j] as string))
        ) {
          quoted.push(stripQuote(lines[j] as string));
          j++;
        }
        const { block, used } = list(quoted, 0, (k) => at + k);
        push({ ...block, blockquote: true, line: at, end: at + used });
        i = at + Math.max(used, 1);
        continue;
      }
      const quoted: string[] = [];
      let j = i;
      while (
        j < lines.length &&
        (trimmed[j] as string).startsWith(">") &&
        !isListLine(stripQuote(lines[j] as string))
      ) {
        quoted.push(stripQuote(lines[j] as string));
        j++;
      }
      push({ type: "blockquote", children: inline(quoted.join("\n"), at), line: at, end: j });
      i = j;
      continue;
    }
    const paragraph: string[] = [];
    let j = i;
    while (j < lines.length && (j === i || !startsBlock(j))) paragraph.push(lines[j++] as string);
    push({ type: "paragraph", children: inline(paragraph.join("\n"), at), line: at, end: j });
    i = j;
  }
  return { blocks, issues, lines };
}

/** A tag that could not be read, kept as a paragraph of its source: one text run per line. */
function rawParagraph(raw: string): Inline[] {
  const out: Inline[] = [];
  raw.split("\n").forEach((line, index) => {
    if (index > 0 && out[out.length - 1]?.type !== "hardBreak") out.push({ type: "hardBreak" });
    if (line) out.push({ type: "text", text: line });
  });
  return out;
}

/**
 * `<Name props />` or `<Name props>…</Name>` (what is between is dropped), as the whole of `raw`;
 * null when `raw` is neither.
 */
function componentTag(
  raw: string,
  name: string,
): Omit<Extract<Block, { type: "component" }>, "line" | "end"> | null {
  const after = 1 + name.length;
  let source: string;
  if (raw.endsWith("/>")) source = raw.slice(after, raw.length - 2);
  else if (raw.endsWith(`</${name}>`)) {
    const close = raw.indexOf(">", after);
    if (close === -1 || close > raw.length - name.length - 3) return null;
    source = raw.slice(after, close);
  } else return null;
  const parsed = parseProps(source);
  return {
    type: "component",
    tagName: name,
    props: parsed.props,
    raw,
    ...(parsed.errors.length > 0 ? { errors: parsed.errors } : {}),
    ...(parsed.notJson.length > 0 ? { notJson: parsed.notJson.map((issue) => issue.prop) } : {}),
  };
}
