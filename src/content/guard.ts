/**
 * The last line of defence before a write: the document about to be stored is compared with the
 * stored one and with what the agent asked for, independently of how it was made.
 *
 * The agent's change is where the Markdown it sent differs from the Markdown it was shown. Every
 * top-level block whose Markdown lies wholly outside that passage must be stored exactly as it is
 * (same JSON, same place). Inside it, what the document gains and loses must be what the Markdown
 * gains and loses: every node (by type: components, atoms, cells, list items…), every mark (by
 * characters carrying it) and the characters of text, counted in the stored and new documents, and
 * in what the old and new passages read as (marks on spaces aside: Markdown cannot always show them). A node turned into text, a node dropped, a mark lost,
 * literal syntax characters added to people's text: the counts disagree, and the write is refused
 * with a sentence naming the line and what would be lost. A converter bug becomes a refused write,
 * never a damaged notebook.
 */
import { isDeepStrictEqual } from "node:util";
import { childNodes, type DocJSON, isRecord, type MarkJSON, type NodeJSON } from "./nodes.js";
import { sanitize } from "./sanitize.js";
import { NODE_TYPE_TO_TAG } from "./tags.js";
import { markdownToDocument } from "./to-document.js";
import type { MarkdownUnit } from "./to-markdown.js";

export interface Refusal {
  /** 1-based line in the Markdown that was sent. */
  line: number;
  message: string;
  /** Why, for the tool error: the guard's refusals leave it out ("would_damage"). */
  reason?: "too_large" | "invalid_arguments";
}

/** Legacy node types, counted as what their Markdown reads back as. */
const READS_AS: Readonly<Record<string, string>> = {
  "ph-insight": "ph-query",
  query: "ph-query",
  callout: "blockquote",
  "ph-text": "paragraph",
  "ph-dashboard": "paragraph",
  "ph-link": "paragraph",
};

type Counts = Map<string, number>;

function add(counts: Counts, key: string, n = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

function markKey(mark: MarkJSON): string {
  if (mark.type === "link") return `link ${String(mark.attrs?.href ?? "")}`;
  if (mark.type === "comment") return `comment ${String(mark.attrs?.id ?? "")}`;
  return mark.type;
}

const SPACE = /\s/g;

/** Nodes by type, marks by the characters (not spaces) that carry them, and text's characters. */
function count(nodes: readonly NodeJSON[], counts: Counts = new Map()): Counts {
  for (const node of nodes) {
    if (node.type === "text") {
      const text = typeof node.text === "string" ? node.text : "";
      const visible = text.length - (text.match(SPACE)?.length ?? 0);
      add(counts, "text", text.length);
      for (const mark of node.marks ?? []) add(counts, `mark ${markKey(mark)}`, visible);
      continue;
    }
    // A hard break counts as a node even where Markdown shows it as a space (list items, cells,
    // headings): a write that turns it into a space is refused, whoever asked for it.
    add(counts, `node ${READS_AS[node.type] ?? node.type}`);
    for (const mark of node.marks ?? []) add(counts, `mark ${markKey(mark)}`);
    count(childNodes(node), counts);
  }
  return counts;
}

/** What a passage of Markdown reads as, as a write converts it. */
function read(markdown: string): NodeJSON[] {
  // Nothing but line ends reads as nothing; a line of spaces is an empty paragraph, as in a whole write.
  if (/^[\r\n]*$/.test(markdown)) return [];
  return sanitize(markdownToDocument(markdown, { inlineTags: true }).doc).value.content;
}

function describe(key: string, n: number): string {
  const [kind, ...rest] = key.split(" ");
  const name = rest.join(" ");
  if (kind === "text") return `${n} character${n === 1 ? "" : "s"} of text`;
  if (kind === "mark") {
    const [type, value] = [name.split(" ")[0] as string, name.slice(name.indexOf(" ") + 1)];
    if (type === "link") return `the link to ${value} (on ${n} character${n === 1 ? "" : "s"})`;
    if (type === "comment") return `a comment's highlight (on ${n} character${n === 1 ? "" : "s"})`;
    return `${type} formatting (on ${n} character${n === 1 ? "" : "s"})`;
  }
  const tag = NODE_TYPE_TO_TAG[name];
  const what = tag ? `<${tag}> component` : `${name} node`;
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/** 1-based line of `offset` in `text`. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * Whether a write's middle passage changes the document as its Markdown changes: `storedMiddle`
 * → `resultMiddle` must gain and lose what `oldPassage` → `newPassage` reads as gaining and losing.
 */
function checkMiddle(
  storedMiddle: readonly NodeJSON[],
  resultMiddle: readonly NodeJSON[],
  oldPassage: string,
  newPassage: string,
  line: number,
): Refusal | null {
  const stored = count(storedMiddle);
  const result = count(resultMiddle);
  const before = count(read(oldPassage));
  const after = count(read(newPassage));
  const lost: string[] = [];
  const gained: string[] = [];
  for (const key of new Set([...stored.keys(), ...result.keys(), ...before.keys(), ...after.keys()])) {
    const actual = (result.get(key) ?? 0) - (stored.get(key) ?? 0);
    const asked = (after.get(key) ?? 0) - (before.get(key) ?? 0);
    if (actual < asked) lost.push(describe(key, asked - actual));
    else if (actual > asked) gained.push(describe(key, actual - asked));
  }
  if (lost.length === 0 && gained.length === 0) return null;
  const parts = [
    lost.length > 0 ? `lose ${lost.slice(0, 3).join(", ")}` : "",
    gained.length > 0 ? `add ${gained.slice(0, 3).join(", ")} you did not write` : "",
  ].filter(Boolean);
  return {
    line,
    message: `This write would ${parts.join(" and ")} around line ${line} of your Markdown, so nothing was sent: the notebook holds something there that its Markdown cannot carry through this change. Make a smaller edit that leaves that part as it is, or change it with notebooks-partial-update and content JSON.`,
  };
}

/** Top-level nodes of a v1 document. */
function topLevel(doc: unknown): NodeJSON[] {
  return isRecord(doc) ? childNodes(doc) : [];
}

/** Whether a blank line (or an end) is at `at` in `text`: a block boundary. */
function boundary(text: string, at: number, after: boolean): boolean {
  return after
    ? at >= text.length || text.startsWith("\n\n", at)
    : at <= 0 || text.startsWith("\n\n", at - 2);
}

/**
 * Checks a Markdown write over a v1 document: `units` are the stored document's blocks with their
 * Markdown (as shown, joined by blank lines), `markdown` what the agent sent (invisible characters
 * restored), `result` the document about to be stored.
 */
export function checkRewrite(
  stored: unknown,
  units: readonly MarkdownUnit[],
  markdown: string,
  result: DocJSON,
): Refusal | null {
  const nodes = topLevel(stored);
  // Where each unit's Markdown lies in the Markdown the agent was shown.
  const spans: { unit: number; start: number; end: number }[] = [];
  let shown = "";
  units.forEach((unit, u) => {
    if (unit.markdown === "") return;
    if (shown !== "") shown += "\n\n";
    spans.push({ unit: u, start: shown.length, end: shown.length + unit.markdown.length });
    shown += unit.markdown;
  });
  // The passage the agent changed: all but the common start and end.
  const limit = Math.min(shown.length, markdown.length);
  let prefix = 0;
  while (prefix < limit && shown.charCodeAt(prefix) === markdown.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (
    suffix < limit - prefix &&
    shown.charCodeAt(shown.length - 1 - suffix) === markdown.charCodeAt(markdown.length - 1 - suffix)
  )
    suffix++;
  const shift = markdown.length - shown.length;
  // Blocks wholly before the passage (with the blank line after them intact), and after it;
  // blocks without Markdown at the very start stay first.
  const firstShown = spans[0]?.unit ?? nodes.length;
  let head = Math.min(firstShown, nodes.length);
  let headEnd = 0;
  for (const span of spans) {
    if (span.end > prefix || !boundary(shown, span.end, true) || !boundary(markdown, span.end, true)) break;
    head = span.unit + 1;
    headEnd = span.end;
  }
  let tail = nodes.length;
  let tailStart = shown.length;
  for (let k = spans.length - 1; k >= 0; k--) {
    const span = spans[k] as { unit: number; start: number; end: number };
    if (span.unit < head || span.start < shown.length - suffix) break;
    if (!boundary(shown, span.start, false) || !boundary(markdown, span.start + shift, false)) break;
    tail = span.unit;
    tailStart = span.start;
  }
  // Empty blocks (no Markdown) right after the last block before the passage stay with it, as do
  // those at the very start.
  if (headEnd > 0) while (head < tail && units[head]?.markdown === "") head++;
  return checkKept(
    nodes,
    result.content,
    head,
    tail,
    shown.slice(headEnd, tailStart),
    markdown.slice(headEnd, tailStart + shift),
    lineOf(markdown, headEnd + (headEnd > 0 ? 2 : 0)),
  );
}

/** Markdown added after a document's blocks. */
export function checkAppend(stored: unknown, added: string, result: DocJSON, lineOffset = 0): Refusal | null {
  const nodes = topLevel(stored);
  return checkKept(nodes, result.content, nodes.length, nodes.length, "", added, lineOffset + 1);
}

/**
 * The stored blocks before `head` and from `tail` on must open and close the result exactly;
 * what lies between must change as the passage's Markdown does.
 */
function checkKept(
  stored: readonly NodeJSON[],
  result: readonly NodeJSON[],
  head: number,
  tail: number,
  oldPassage: string,
  newPassage: string,
  line: number,
): Refusal | null {
  const after = stored.length - tail;
  const resultTail = result.length - after;
  if (resultTail < head) return untouched(line);
  for (let i = 0; i < head; i++) if (!isDeepStrictEqual(stored[i], result[i])) return untouched(line);
  for (let i = 0; i < after; i++) {
    if (!isDeepStrictEqual(stored[tail + i], result[resultTail + i])) return untouched(line);
  }
  return checkMiddle(stored.slice(head, tail), result.slice(head, resultTail), oldPassage, newPassage, line);
}

function untouched(line: number): Refusal {
  return {
    line,
    message: `This write would change blocks of the notebook outside the passage you changed (around line ${line} of your Markdown), so nothing was sent. Retrieve the notebook again and repeat the change; if it happens again, make the change with notebooks-partial-update and content JSON.`,
  };
}
