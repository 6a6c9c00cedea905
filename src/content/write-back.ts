/**
 * Writing Markdown back into a notebook without touching what the agent did not change.
 *
 * The notebook's Markdown, as the agent was shown it, is compared with the Markdown it sends, in
 * pieces between blank lines: the blocks kept are the longest chain of old blocks found whole in
 * the new pieces, in order (align.ts). A v1
 * notebook keeps, exactly as stored, every top-level node whose Markdown comes back unchanged
 * (its JSON, its attributes, its node ids, invisible characters and all), including nodes moved
 * elsewhere whole and the nodes Markdown does not show (empty paragraphs, which stay after the
 * node they followed); only the changed pieces are converted, as PostHog's own downgrade converts
 * them. A v2 notebook is one Markdown string: the unchanged pieces are the stored bytes, and only
 * the changed pieces are checked and cleaned. This is PostHog's MCP's "smallest block-level
 * replacement", computed here against the version the agent read.
 *
 * When a changed piece replaces one node by one node of the same kind, what Markdown cannot
 * express is carried over from the old node: a table's column widths and spans, a link's target,
 * an image's other attributes, a block's alignment. The agent changed the words, not those.
 */

import { alignBlocks } from "./align.js";
import { checkAppend, checkRewrite, type Refusal } from "./guard.js";
import { parseBlocks } from "./markdown/blocks.js";
import type { Inline } from "./markdown/inline.js";
import { corresponds, mergeList } from "./merge.js";
import {
  type DocJSON,
  isNodeJSON,
  isRecord,
  MARKDOWN_NOTEBOOK_NODE_ID,
  MARKDOWN_NOTEBOOK_NODE_TYPE,
  markdownNotebookNode,
  type NodeJSON,
} from "./nodes.js";
import { isAllowedLink, sanitize, URL_ATTRS } from "./sanitize.js";
import { NODE_TYPE_TO_TAG } from "./tags.js";
import { blockStartLines, type Diagnostic, markdownToDocument } from "./to-document.js";
import { documentToMarkdown, documentUnits } from "./to-markdown.js";

export interface WriteBack {
  /** The document to store. */
  content: DocJSON;
  /** What the changed Markdown held that could not be understood, with its line in what was sent. */
  diagnostics: Diagnostic[];
  /** Top-level blocks kept exactly as stored, and blocks written from Markdown. */
  kept: number;
  written: number;
  /** Why the document must not be stored (the write-time guard), or null. */
  refused: Refusal | null;
}

/** A v2 document holding `markdown`. */
export function markdownNotebook(markdown: string, nodeId: string = MARKDOWN_NOTEBOOK_NODE_ID): DocJSON {
  return { type: "doc", content: [{ type: MARKDOWN_NOTEBOOK_NODE_TYPE, attrs: { nodeId, markdown } }] };
}

function nodeIdOf(node: NodeJSON): string {
  return typeof node.attrs?.nodeId === "string" ? node.attrs.nodeId : MARKDOWN_NOTEBOOK_NODE_ID;
}

/** A stretch of Markdown between blank lines, and where it lies in the text it came from. */
interface Piece {
  /** The stretch without newlines at its ends: how it is compared. */
  text: string;
  start: number;
  end: number;
}

/**
 * Markdown in pieces between blank lines (runs of two or more newlines). A newline at a piece's
 * end or start belongs to the blank line around it: blocks of PostHog's Markdown can end in one (a
 * trailing hard break), and joined with a blank line it reads the same.
 */
function pieces(markdown: string): Piece[] {
  const out: Piece[] = [];
  const separator = /\n{2,}/g;
  let start = 0;
  const push = (from: number, to: number) => {
    let a = from;
    let b = to;
    while (a < b && markdown[a] === "\n") a++;
    while (b > a && markdown[b - 1] === "\n") b--;
    if (a < b) out.push({ text: markdown.slice(a, b), start: a, end: b });
  };
  for (let match = separator.exec(markdown); match; match = separator.exec(markdown)) {
    push(start, match.index);
    start = match.index + match[0].length;
  }
  push(start, markdown.length);
  return out;
}

function texts(list: readonly Piece[]): string[] {
  return list.map((piece) => piece.text);
}

/**
 * Lines before an offset in `text` (the 0-based line of the offset), for many offsets: where the
 * lines break is found once, and each offset by binary search (a scan from the start for each of
 * them would cost the text's length times their number).
 */
function linesOf(text: string): (offset: number) => number {
  const breaks: number[] = [];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) breaks.push(i);
  return (offset) => {
    let lo = 0;
    let hi = breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((breaks[mid] as number) < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Markdown written into a v2 notebook: exactly as sent, but its changed pieces checked and cleaned of script links. */
function rewriteMarkdownNotebook(current: NodeJSON, markdown: string): WriteBack {
  const stored = typeof current.attrs?.markdown === "string" ? current.attrs.markdown : "";
  const newPieces = pieces(markdown);
  const at = alignBlocks(
    texts(pieces(stored)).map((piece) => [piece]),
    texts(newPieces),
  );
  const kept = new Uint8Array(newPieces.length);
  for (const start of at) if (start !== -1) kept[start] = 1;
  const lineAt = linesOf(markdown);
  let out = "";
  let last = 0;
  const diagnostics: Diagnostic[] = [];
  let keptCount = 0;
  let written = 0;
  for (let i = 0; i < newPieces.length; ) {
    if (kept[i]) {
      keptCount++;
      i++;
      continue;
    }
    let j = i;
    while (j < newPieces.length && !kept[j]) j++;
    const from = (newPieces[i] as Piece).start;
    const to = (newPieces[j - 1] as Piece).end;
    const checked = checkMarkdown(markdown.slice(from, to), lineAt(from));
    diagnostics.push(...checked.diagnostics);
    out += markdown.slice(last, from) + checked.markdown;
    last = to;
    written += j - i;
    i = j;
  }
  out += markdown.slice(last);
  return {
    content: markdownNotebook(out, nodeIdOf(current)),
    diagnostics,
    kept: keptCount,
    written,
    refused: null,
  };
}

/**
 * Markdown for a v2 notebook, read with PostHog's own grammar: what it could not understand, and
 * the Markdown with every block that links to a script rewritten without the link (the rest of
 * the text exactly as sent).
 */
export function checkMarkdown(
  markdown: string,
  lineOffset = 0,
): { markdown: string; diagnostics: Diagnostic[] } {
  const converted = markdownToDocument(markdown);
  const diagnostics = converted.diagnostics.map((d) => ({ line: d.line + lineOffset, message: d.message }));
  const parsed = parseBlocks(markdown);
  const badLines = new Set(
    converted.diagnostics.filter((d) => d.message.startsWith("a link to ")).map((d) => d.line - 1),
  );
  const lines = parsed.lines;
  // The lines as they are stored: each bad block's rewritten, the rest as sent (built in one pass).
  const out: string[] = [];
  let next = 0;
  for (const block of parsed.blocks) {
    let bad = false;
    for (let line = block.line; line < block.end; line++) if (badLines.has(line)) bad = true;
    if (block.type === "component") {
      for (const name of URL_ATTRS) {
        const value = block.props[name];
        if (typeof value === "string" && !isAllowedLink(value)) {
          bad = true;
          diagnostics.push({
            line: block.line + 1 + lineOffset,
            message: `the ${name} of <${block.tagName}> is a script or file address (${clip(value)}): dropped`,
          });
        }
      }
    }
    if (!bad) continue;
    // The block again, from what PostHog reads of it: links it cannot keep are its text.
    const again = sanitize(markdownToDocument(lines.slice(block.line, block.end).join("\n")).doc).value;
    for (let line = next; line < block.line; line++) out.push(lines[line] as string);
    for (const line of documentToMarkdown(again).split("\n")) out.push(line);
    next = block.end;
  }
  let text = markdown;
  if (next > 0) {
    for (let line = next; line < lines.length; line++) out.push(lines[line] as string);
    text = out.join("\n");
  }
  diagnostics.sort((a, b) => a.line - b.line);
  return { markdown: text, diagnostics };
}

function clip(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 59)}…` : text);
}

/** Nodes converted from changed Markdown, cleaned, with their diagnostics placed in what was sent. */
function convert(markdown: string, lineOffset: number, diagnostics: Diagnostic[]): NodeJSON[] {
  const converted = markdownToDocument(markdown, { inlineTags: true });
  for (const d of converted.diagnostics) diagnostics.push({ line: d.line + lineOffset, message: d.message });
  const cleaned = sanitize(converted.doc);
  // What was dropped comes in the order it was written: each is looked for after the one before,
  // and once one is not found, the rest are placed where the search stopped.
  const lineAt = cleaned.dropped.length > 0 ? linesOf(markdown) : () => 0;
  let from = 0;
  let searching = true;
  for (const drop of cleaned.dropped) {
    const at = searching ? markdown.indexOf(drop.value, from) : -1;
    if (at === -1) searching = false;
    else from = at + drop.value.length;
    const tag = NODE_TYPE_TO_TAG[drop.type];
    diagnostics.push({
      line: lineOffset + 1 + lineAt(at === -1 ? from : at),
      message: `the ${drop.what} of ${tag ? `<${tag}>` : drop.type} is a script or file address (${clip(drop.value)}): dropped`,
    });
  }
  diagnostics.sort((a, b) => a.line - b.line);
  return cleaned.value.content;
}

/** What Markdown cannot say about a node, kept from the node it replaces. */
const HIDDEN_ATTRS: Readonly<Record<string, (key: string) => boolean>> = {
  heading: (key) => key !== "level",
  paragraph: () => true,
  blockquote: () => true,
  codeBlock: (key) => key !== "language",
  bulletList: () => true,
  orderedList: (key) => key !== "start",
  taskList: () => true,
  listItem: () => true,
  taskItem: (key) => key !== "checked",
  table: () => true,
  tableRow: () => true,
  tableHeader: () => true,
  tableCell: () => true,
  "ph-image": (key) => key !== "src" && key !== "alt",
};

function carryOver(old: NodeJSON, next: NodeJSON): NodeJSON {
  if (old.type !== next.type) return next;
  const hidden = HIDDEN_ATTRS[next.type];
  let out = next;
  if (hidden && isRecord(old.attrs)) {
    const sameImage = next.type !== "ph-image" || old.attrs.src === next.attrs?.src;
    const carried = Object.entries(old.attrs).filter(
      ([key]) => sameImage && hidden(key) && !(isRecord(next.attrs) && key in next.attrs),
    );
    if (carried.length > 0) out = { ...out, attrs: { ...next.attrs, ...Object.fromEntries(carried) } };
  }
  const oldChildren = (old.content ?? []).filter(isNodeJSON);
  const newChildren = (next.content ?? []).filter(isNodeJSON);
  if (newChildren.length > 0) {
    const links = new Map<string, Record<string, unknown>>();
    for (const child of oldChildren) {
      for (const mark of child.marks ?? []) {
        if (mark.type === "link" && isRecord(mark.attrs) && typeof mark.attrs.href === "string") {
          links.set(mark.attrs.href, mark.attrs);
        }
      }
    }
    const sameShape =
      oldChildren.length === newChildren.length &&
      oldChildren.every((child, i) => child.type === newChildren[i]?.type);
    const content = newChildren.map((child, i) => {
      let updated = sameShape ? carryOver(oldChildren[i] as NodeJSON, child) : child;
      if (links.size > 0 && child.marks?.some((mark) => mark.type === "link")) {
        updated = {
          ...updated,
          marks: (updated.marks ?? []).map((mark) => {
            const href = mark.attrs?.href;
            const before = mark.type === "link" && typeof href === "string" ? links.get(href) : undefined;
            return before ? { ...mark, attrs: { ...before, ...mark.attrs } } : mark;
          }),
        };
      }
      return updated;
    });
    if (content.some((child, i) => child !== newChildren[i])) out = { ...out, content };
  }
  return out;
}

/**
 * Markdown written over a notebook's document: only the top-level blocks whose Markdown changed
 * are replaced (v2 stays v2; anything else becomes or stays v1).
 */
export function rewriteDocument(current: unknown, markdown: string): WriteBack {
  const v2 = markdownNotebookNode(current);
  if (v2) return rewriteMarkdownNotebook(v2, markdown);
  const units = isRecord(current) ? documentUnits(current) : [];
  const list = typeof units === "string" ? [] : units;
  const unitPieces = list.map((unit) => texts(pieces(unit.markdown)));
  const newPieces = pieces(markdown);
  const lineAt = linesOf(markdown);
  const newTexts = texts(newPieces);
  // The units found whole, in order (a unit without Markdown is placed by the unit before it).
  const starts = alignBlocks(unitPieces, newTexts);
  const keptAt = new Map<number, number>();
  /** For each new piece, the unit it belongs to when that unit is kept, else -1. */
  const owner = new Int32Array(newPieces.length).fill(-1);
  starts.forEach((start, u) => {
    if (start === -1) return;
    keptAt.set(start, u);
    for (let k = 0; k < (unitPieces[u] as string[]).length; k++) owner[start + k] = u;
  });
  const keptUnits = new Set(keptAt.values());
  // Units not kept whose whole Markdown shows up elsewhere: moved, not rewritten.
  const movable = new Map<string, number[]>();
  unitPieces.forEach((own, u) => {
    if (own.length === 0 || keptUnits.has(u)) return;
    const list = movable.get(own[0] as string);
    if (list) list.push(u);
    else movable.set(own[0] as string, [u]);
  });

  const out: NodeJSON[] = [];
  const diagnostics: Diagnostic[] = [];
  let kept = 0;
  let written = 0;
  const emitted = new Set<number>();
  const node = (u: number) => (list[u] as { node: NodeJSON }).node;
  const emptyAfter = (u: number) => {
    for (let e = u + 1; e < list.length && (unitPieces[e] as string[]).length === 0; e++) {
      out.push(node(e));
      emitted.add(e);
    }
  };
  // Nodes without Markdown before the first unit with some stay first.
  emptyAfter(-1);
  /** Nodes without Markdown that followed units rewritten or deleted, up to old unit `u` (rising). */
  let orphan = 0;
  const orphansBefore = (u: number) => {
    for (; orphan < u; orphan++) {
      if (emitted.has(orphan) || (unitPieces[orphan] as string[]).length > 0) continue;
      out.push(node(orphan));
      emitted.add(orphan);
    }
  };
  /** Units rewritten between the kept units around new pieces [from, to). */
  const replacedUnits = (from: number, to: number): number[] => {
    const before = from > 0 ? (owner[from - 1] as number) : -1;
    const after = to < newPieces.length ? (owner[to] as number) : list.length;
    if ((from > 0 && before === -1) || after === -1) return [];
    const gone: number[] = [];
    for (let u = before + 1; u < after; u++) {
      if ((unitPieces[u] as string[]).length > 0 && !keptUnits.has(u) && !emitted.has(u)) gone.push(u);
    }
    return gone;
  };
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const first = run[0] as number;
    const lastPiece = run[run.length - 1] as number;
    const start = (newPieces[first] as Piece).start;
    const nodes = convert(
      markdown.slice(start, (newPieces[lastPiece] as Piece).end),
      lineAt(start),
      diagnostics,
    );
    // The blocks replaced, merged three ways: the change from what their Markdown reads as to
    // what the new Markdown reads as, applied to them as stored.
    const replaced = replacedUnits(first, lastPiece + 1);
    const gone = replaced.map(node);
    const base = replaced.flatMap((u) => convert((list[u] as { markdown: string }).markdown, 0, []));
    if (corresponds(gone, base)) out.push(...mergeList(gone, base, nodes));
    else {
      // Node for node of the same kinds: what Markdown cannot say is carried over.
      const pairwise = gone.length === nodes.length && gone.every((old, k) => old.type === nodes[k]?.type);
      out.push(...(pairwise ? nodes.map((fresh, k) => carryOver(gone[k] as NodeJSON, fresh)) : nodes));
    }
    written += nodes.length;
    run = [];
  };
  for (let i = 0; i < newPieces.length; ) {
    const u = keptAt.get(i);
    if (u !== undefined) {
      flush();
      orphansBefore(u);
      out.push(node(u));
      emitted.add(u);
      emptyAfter(u);
      kept++;
      i += (unitPieces[u] as string[]).length;
      continue;
    }
    const moved = (movable.get(newTexts[i] as string) ?? []).find(
      (candidate) =>
        !emitted.has(candidate) &&
        (unitPieces[candidate] as string[]).every((piece, k) => newTexts[i + k] === piece),
    );
    if (moved !== undefined) {
      flush();
      out.push(node(moved));
      emitted.add(moved);
      emptyAfter(moved);
      kept++;
      i += (unitPieces[moved] as string[]).length;
      continue;
    }
    run.push(i);
    i++;
  }
  flush();
  orphansBefore(list.length);
  const base = isRecord(current) && current.type === "doc" ? current : {};
  const content: DocJSON = { ...base, type: "doc", content: out };
  return { content, diagnostics, kept, written, refused: checkRewrite(current, list, markdown, content) };
}

/** Markdown added at the end of a notebook (a v2 notebook gets it after a blank line, as PostHog appends). */
export function appendToDocument(current: unknown, markdown: string): WriteBack {
  const v2 = markdownNotebookNode(current);
  if (v2) {
    const stored = typeof v2.attrs?.markdown === "string" ? v2.attrs.markdown : "";
    const offset = stored.trim() === "" ? 0 : stored.split("\n").length + 1;
    const checked = checkMarkdown(markdown, offset);
    const joined = [stored, checked.markdown].filter((part) => part.trim() !== "").join("\n\n");
    return {
      content: markdownNotebook(joined, nodeIdOf(v2)),
      diagnostics: checked.diagnostics,
      kept: 1,
      written: 1,
      refused: null,
    };
  }
  const diagnostics: Diagnostic[] = [];
  const added = convert(markdown, 0, diagnostics);
  const base = isRecord(current) && current.type === "doc" ? current : {};
  const existing = isRecord(current) && Array.isArray(current.content) ? (current.content as NodeJSON[]) : [];
  const content: DocJSON = { ...base, type: "doc", content: [...existing, ...added] };
  return {
    content,
    diagnostics,
    kept: existing.length,
    written: added.length,
    refused: checkAppend(current, markdown, content),
  };
}

/**
 * Bytes of a request body PostHog takes, at most (Django's DATA_UPLOAD_MAX_MEMORY_SIZE in
 * posthog/settings/web.py): a bigger body is refused before it is sent, and a create stops
 * converting once its document alone is over it.
 */
export const POSTHOG_BODY_LIMIT = 20 * 1024 * 1024;

export function tooLarge(bytes: number, partly: boolean): Refusal {
  const mb = (bytes / 1024 / 1024).toFixed(1);
  return {
    line: 1,
    reason: "too_large",
    message: `This notebook would be ${partly ? "more than " : ""}${mb} MB as PostHog stores it (its document as JSON), and PostHog takes at most 20 MB in one request, so nothing was sent. Every write sends the whole notebook: split the content into several notebooks. (Blocks of many short lines, list items or table cells take far more room as PostHog's JSON than as Markdown.)`,
  };
}

/** Characters of Markdown a new document is converted by at a time, about (`convertInPieces`). */
export const PIECE_CHARS = 128 * 1024;
/**
 * Lines of one block (paragraph, list, table, quote), at most, in a new document: its nodes cannot
 * be converted a piece at a time, and a hundred thousand of them make tens of megabytes of
 * PostHog's JSON (more than PostHog takes in one request) and several hundred of a worker's heap.
 * Code blocks, one text each, are not limited.
 */
export const MAX_BLOCK_LINES = 100_000;

const BLOCK_NAMES: Readonly<Record<string, string>> = {
  paragraph: "paragraph",
  list: "list",
  table: "table",
  blockquote: "quote",
};

/**
 * A new document's top-level nodes from Markdown, a piece at a time: the Markdown is cut between
 * top-level blocks into pieces of about `pieceChars` characters, and each piece's nodes are handed
 * to `take` before the next piece is read, so that a big notebook is never held whole as objects
 * (a 4 MB one would take a few hundred megabytes); `take` returning false stops it there. Returns
 * what could not be understood, by line, or why nothing was converted (a block over
 * `MAX_BLOCK_LINES`, or blocks that would make more than `maxBytes` of PostHog's JSON).
 */
export function convertInPieces(
  markdown: string,
  take: (nodes: NodeJSON[]) => boolean | undefined,
  pieceChars = PIECE_CHARS,
  maxBytes = Number.POSITIVE_INFINITY,
): { diagnostics: Diagnostic[]; refused?: Refusal } {
  const diagnostics: Diagnostic[] = [];
  if (markdown.length <= pieceChars) {
    take(convert(markdown, 0, diagnostics));
    return { diagnostics };
  }
  const { lines, blocks } = blockStartLines(markdown, { inlineTags: true });
  // Bytes of PostHog's JSON these blocks make at least: a node each (a list's, one per item).
  let least = 0;
  for (const block of blocks) {
    if (block.type === "list") least += 20 * block.items.length;
    else if (block.type !== "component" && block.type !== "blockquote") least += 21;
  }
  if (least > maxBytes) return { diagnostics, refused: tooLarge(least, true) };
  for (const block of blocks) {
    const name = BLOCK_NAMES[block.type];
    if (name && block.end - block.line > MAX_BLOCK_LINES) {
      return {
        diagnostics,
        refused: {
          line: block.line + 1,
          reason: "too_large",
          message: `The ${name} at line ${block.line + 1} of your Markdown runs ${block.end - block.line} lines, more than the ${MAX_BLOCK_LINES.toLocaleString("en-US")} one block may have (as PostHog's JSON it would be tens of megabytes, more than PostHog takes in one request), so nothing was sent. Split it with blank lines, or into several notebooks.`,
        },
      };
    }
  }
  let from = 0;
  let chars = 0;
  let line = 0;
  /** Converts the lines from `from` to `to`; false when `take` wants no more. */
  const piece = (to: number): boolean => {
    const found: Diagnostic[] = [];
    const more = take(convert(lines.slice(from, to).join("\n"), from, found));
    for (const diagnostic of found) diagnostics.push(diagnostic);
    from = to;
    chars = 0;
    return more !== false;
  };
  for (const block of blocks) {
    for (; line < block.line; line++) chars += (lines[line] as string).length + 1;
    if (chars >= pieceChars && !piece(block.line)) return { diagnostics };
  }
  piece(lines.length);
  return { diagnostics };
}

/**
 * A new v1 document from Markdown. No guard is run over it: a new notebook has nothing stored to
 * lose, and comparing what the Markdown reads as with the document made from it would compare the
 * conversion with itself (it once did, doubling a create's time and memory).
 */
export function documentFromMarkdown(markdown: string): { content: DocJSON; diagnostics: Diagnostic[] } {
  const content: NodeJSON[] = [];
  const { diagnostics } = convertInPieces(
    markdown,
    (nodes) => {
      for (const node of nodes) content.push(node);
      return true;
    },
    Number.POSITIVE_INFINITY,
  );
  return { content: { type: "doc", content }, diagnostics };
}

/** The text of a Markdown's first level-1 heading (PostHog's notebook title), or null. */
export function markdownTitle(markdown: string): string | null {
  const heading = parseBlocks(markdown).blocks.find((block) => block.type === "heading" && block.level === 1);
  if (heading?.type !== "heading") return null;
  const text = heading.children
    .map((node: Inline) => (node.type === "text" ? node.text : node.type === "hardBreak" ? "\n" : ""))
    .join("")
    .trim();
  return text || null;
}
