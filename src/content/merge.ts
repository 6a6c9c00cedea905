/**
 * A changed block written back as a three-way merge, so that an edit changes only what the agent
 * changed, down to the character.
 *
 * Three versions of the same blocks meet here: the nodes as stored (S), the nodes the Markdown the
 * agent was shown reads as (B, the base), and the nodes the agent's new Markdown reads as (N).
 * Wherever B and N agree, the agent changed nothing, and S is kept exactly as stored: its node
 * types (a table's plain cells stay plain cells), its attributes Markdown does not show (column
 * widths, node ids, a list's `start: 1`), its marks with all their attributes, its atoms. Where
 * they differ, the difference is applied to S: attributes key by key, child blocks by common
 * prefix and suffix, and inline content character by character (text and atoms flattened into one
 * sequence), so that a one-word edit inside a paragraph touches that word's text alone.
 *
 * The merge needs S and B to line up (same blocks, same characters and atoms in the same places);
 * where they do not, Markdown cannot show S faithfully, and the caller falls back to the new nodes
 * (and the write-time guard decides whether that loses anything).
 */
import { isDeepStrictEqual } from "node:util";
import { isNodeJSON, isRecord, type MarkJSON, type NodeJSON } from "./nodes.js";

const TEXTBLOCKS = new Set(["paragraph", "heading", "codeBlock"]);
const CELLS = new Set(["tableCell", "tableHeader"]);

/** Node types that stand for each other in Markdown (GFM shows every first row as a header). */
function kindOf(type: string): string {
  return CELLS.has(type) ? "cell" : type;
}

function children(node: NodeJSON): NodeJSON[] {
  return Array.isArray(node.content) ? node.content.filter(isNodeJSON) : [];
}

function isInlineContainer(node: NodeJSON): boolean {
  if (TEXTBLOCKS.has(node.type)) return true;
  const list = children(node);
  return list.length > 0 && list.every((child) => child.type === "text" || isInlineAtom(child));
}

function isInlineAtom(node: NodeJSON): boolean {
  return (
    node.type === "hardBreak" ||
    node.type === "ph-mention" ||
    node.type === "ph-replay-timestamp" ||
    node.type === "ph-backlink"
  );
}

// ---------------------------------------------------------------------------------------------
// Inline content as one sequence of items: each UTF-16 unit of text with its marks, each atom.

/** A mark as Markdown shows it: what decides whether two marks are the same to an agent. */
function markKey(mark: MarkJSON): string {
  if (mark.type === "link") return `link:${String(mark.attrs?.href ?? "")}`;
  if (mark.type === "comment") return `comment:${String(mark.attrs?.id ?? "")}`;
  if (mark.type === "strong") return "bold";
  if (mark.type === "em") return "italic";
  return mark.type;
}

function marksKey(marks: readonly MarkJSON[] | undefined): string {
  return (marks ?? []).map(markKey).sort().join("\u0000");
}

/** Items of inline content: text units with their node, or whole atoms. */
interface Flat {
  nodes: NodeJSON[];
  /** For each item, its node's index. */
  node: Int32Array;
  /** For each item, its offset in its node's text (0 for an atom). */
  offset: Int32Array;
}

function flatten(nodes: NodeJSON[]): Flat {
  let length = 0;
  for (const node of nodes) length += node.type === "text" ? (node.text ?? "").length : 1;
  const node = new Int32Array(length);
  const offset = new Int32Array(length);
  let at = 0;
  nodes.forEach((n, i) => {
    const size = n.type === "text" ? (n.text ?? "").length : 1;
    for (let k = 0; k < size; k++, at++) {
      node[at] = i;
      offset[at] = k;
    }
  });
  return { nodes, node, offset };
}

function itemNode(flat: Flat, i: number): NodeJSON {
  return flat.nodes[flat.node[i] as number] as NodeJSON;
}

function itemChar(flat: Flat, i: number): string | null {
  const node = itemNode(flat, i);
  return node.type === "text" ? ((node.text ?? "")[flat.offset[i] as number] as string) : null;
}

/** Whether item i of a and item j of b are the same to Markdown (same text and marks, or equal atoms). */
function sameItem(a: Flat, i: number, b: Flat, j: number, keys: Map<NodeJSON, string>): boolean {
  const x = itemNode(a, i);
  const y = itemNode(b, j);
  if (x.type !== y.type) return false;
  if (x.type !== "text") return isDeepStrictEqual(x, y);
  return itemChar(a, i) === itemChar(b, j) && cachedKey(x, keys) === cachedKey(y, keys);
}

function cachedKey(node: NodeJSON, keys: Map<NodeJSON, string>): string {
  let key = keys.get(node);
  if (key === undefined) {
    key = marksKey(node.marks);
    keys.set(node, key);
  }
  return key;
}

/**
 * Whether inline content reads back as itself: the same characters and atoms in the same places,
 * and (with `marks`) the same marks on every character, as Markdown shows marks — or, with
 * `"but-spaces"`, on every character but white space (whose marks at a mark's edge Markdown
 * cannot always show).
 */
export function sameInline(a: NodeJSON[], b: NodeJSON[], marks: boolean | "but-spaces"): boolean {
  const x = flatten(a);
  const y = flatten(b);
  const aligned = alignment(x, y);
  if (!aligned) return false;
  if (!marks) return true;
  const keys = new Map<NodeJSON, string>();
  for (let i = 0; i < y.node.length; i++) {
    const p = itemNode(x, aligned.lead + i);
    const q = itemNode(y, i);
    if (p.type !== "text" || cachedKey(p, keys) === cachedKey(q, keys)) continue;
    if (marks === "but-spaces" && isSpaceItem(y, i)) continue;
    return false;
  }
  return true;
}

function isSpaceItem(flat: Flat, i: number): boolean {
  const ch = itemChar(flat, i);
  return ch !== null && /\s/.test(ch);
}

/**
 * Whether stored inline content and the base line up: the same characters and atoms in the same
 * places, but for spaces at either end that Markdown cannot show (a list item's or a cell's edges).
 * The stored items the base lacks at each end, or null.
 */
function alignment(s: Flat, b: Flat): { lead: number; trail: number } | null {
  const ls = s.node.length;
  const lb = b.node.length;
  if (ls < lb) return null;
  const spaces = (flat: Flat, length: number) => {
    let k = 0;
    while (k < length && isSpaceItem(flat, k)) k++;
    return k;
  };
  // The base is the stored items less some spaces at either end: one place fits.
  const lead = Math.min(spaces(s, ls) - spaces(b, lb), ls - lb);
  if (lead < 0) return null;
  const trail = ls - lb - lead;
  for (let k = 0; k < trail; k++) if (!isSpaceItem(s, ls - 1 - k)) return null;
  return sameAt(s, lead, b) ? { lead, trail } : null;
}

/**
 * Whether stored items from `offset` on hold the base's characters and atoms. A stored hard break
 * may read as a space: list items, cells and headings are one line each in Markdown.
 */
function sameAt(s: Flat, offset: number, b: Flat): boolean {
  for (let i = 0; i < b.node.length; i++) {
    const x = itemNode(s, offset + i);
    const y = itemNode(b, i);
    if (x.type === "hardBreak" && y.type === "text" && itemChar(b, i) === " ") continue;
    if (x.type !== y.type) return false;
    if (x.type === "text" && itemChar(s, offset + i) !== itemChar(b, i)) return false;
  }
  return true;
}

function inlineCorresponds(s: Flat, b: Flat): boolean {
  return alignment(s, b) !== null;
}

/** The nodes covering items [from, to) of a flattened sequence, text nodes cut where needed. */
function slice(flat: Flat, from: number, to: number): NodeJSON[] {
  const out: NodeJSON[] = [];
  let i = from;
  while (i < to) {
    const index = flat.node[i] as number;
    const node = flat.nodes[index] as NodeJSON;
    let j = i;
    while (j < to && flat.node[j] === index) j++;
    if (node.type === "text") {
      const text = node.text ?? "";
      const start = flat.offset[i] as number;
      const end = (flat.offset[j - 1] as number) + 1;
      out.push(start === 0 && end === text.length ? node : { ...node, text: text.slice(start, end) });
    } else out.push(node);
    i = j;
  }
  return out;
}

/** New text's marks, in the stored form where the stored content has the same mark (link targets, order). */
function restoredMarks(node: NodeJSON, stored: readonly NodeJSON[], keys: Map<NodeJSON, string>): NodeJSON {
  if (node.type !== "text" || !node.marks || node.marks.length === 0) return node;
  const key = cachedKey(node, keys);
  const same = stored.find((s) => s.type === "text" && s.marks && cachedKey(s, keys) === key);
  if (same?.marks) return { ...node, marks: same.marks };
  const byKey = new Map<string, MarkJSON>();
  for (const s of stored)
    for (const mark of s.marks ?? []) if (!byKey.has(markKey(mark))) byKey.set(markKey(mark), mark);
  return { ...node, marks: node.marks.map((mark) => byKey.get(markKey(mark)) ?? mark) };
}

/** Whether two neighbouring text nodes are one in ProseMirror's normal form (equal marks). */
function joinable(a: NodeJSON, b: NodeJSON): boolean {
  return a.type === "text" && b.type === "text" && isDeepStrictEqual(a.marks ?? [], b.marks ?? []);
}

function mergeInline(stored: NodeJSON[], base: NodeJSON[], next: NodeJSON[]): NodeJSON[] | null {
  const s = flatten(stored);
  const b = flatten(base);
  const n = flatten(next);
  const aligned = alignment(s, b);
  if (!aligned) return null;
  const keys = new Map<NodeJSON, string>();
  const lb = b.node.length;
  const ln = n.node.length;
  const ls = s.node.length;
  let p = 0;
  while (p < lb && p < ln && sameItem(b, p, n, p, keys)) p++;
  let q = 0;
  while (q < lb - p && q < ln - p && sameItem(b, lb - 1 - q, n, ln - 1 - q, keys)) q++;
  // Stored spaces Markdown does not show stay at the ends.
  const headEnd = aligned.lead + p;
  const tailStart = ls - aligned.trail - q;
  const head = slice(s, 0, headEnd);
  const tail = slice(s, tailStart, ls);
  // New text takes the stored form of its marks: from the text it replaces first, then from its
  // neighbours (two runs may differ only in a link's target).
  const near = [...slice(s, headEnd, tailStart), head[head.length - 1], tail[0], ...stored].filter(
    (node): node is NodeJSON => node !== undefined,
  );
  const middle = slice(n, p, ln - q).map((node) => restoredMarks(node, near, keys));
  // Pieces meet at two places at most: there, text with equal marks is one node again (as
  // ProseMirror keeps it); stored nodes elsewhere stay as they are, even side by side.
  const out = [...head];
  const meet = (node: NodeJSON | undefined, join: boolean) => {
    if (!node) return;
    const last = out[out.length - 1];
    if (join && last && joinable(last, node))
      out[out.length - 1] = { ...last, text: `${last.text ?? ""}${node.text ?? ""}` };
    else out.push(node);
  };
  middle.forEach((node, i) => {
    meet(node, i === 0);
  });
  // With nothing new in between, stored text rejoins only the node it was cut from.
  const cut = headEnd > 0 && tailStart < ls && s.node[headEnd - 1] === s.node[tailStart];
  tail.forEach((node, i) => {
    meet(node, i === 0 && (middle.length > 0 || cut));
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Blocks.

/** Whether stored nodes and the base line up block for block (and character for character within). */
export function corresponds(stored: readonly NodeJSON[], base: readonly NodeJSON[]): boolean {
  const shown = stored.filter((node) => !isEmptyParagraph(node));
  const read = base.filter((node) => !isEmptyParagraph(node));
  if (shown.length !== read.length) return false;
  return shown.every((s, i) => nodeCorresponds(s, read[i] as NodeJSON));
}

/** An empty paragraph: Markdown has nothing to show for it, so it stays where it was. */
function isEmptyParagraph(node: NodeJSON): boolean {
  return node.type === "paragraph" && children(node).length === 0;
}

function nodeCorresponds(s: NodeJSON, b: NodeJSON): boolean {
  if (kindOf(s.type) !== kindOf(b.type)) return false;
  const sc = children(s);
  const bc = children(b);
  if (isInlineContainer(s) || isInlineContainer(b)) return inlineCorresponds(flatten(sc), flatten(bc));
  return corresponds(sc, bc);
}

function mergeAttrs(
  stored: Record<string, unknown> | undefined,
  base: Record<string, unknown> | undefined,
  next: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const b = isRecord(base) ? base : {};
  const n = isRecord(next) ? next : {};
  let out = stored;
  for (const key of new Set([...Object.keys(b), ...Object.keys(n)])) {
    if (isDeepStrictEqual(b[key], n[key])) continue;
    out = { ...(out ?? {}) };
    if (key in n) out[key] = n[key];
    else delete out[key];
  }
  return out;
}

function mergeNode(s: NodeJSON, b: NodeJSON, n: NodeJSON): NodeJSON {
  if (isDeepStrictEqual(b, n)) return s;
  if (kindOf(b.type) !== kindOf(n.type)) return n;
  const out: NodeJSON = { ...s, type: b.type === n.type ? s.type : n.type };
  const attrs = mergeAttrs(s.attrs, b.attrs, n.attrs);
  if (attrs === undefined) delete out.attrs;
  else out.attrs = attrs;
  const sc = children(s);
  const bc = children(b);
  const nc = children(n);
  let content: NodeJSON[] | null;
  if (isInlineContainer(s) || isInlineContainer(b) || isInlineContainer(n)) content = mergeInline(sc, bc, nc);
  else content = mergeList(sc, bc, nc);
  content ??= nc;
  // Emptied, it is stored as ProseMirror writes an empty node: without `content`.
  if (content.length > 0) out.content = content;
  else delete out.content;
  return out;
}

/**
 * Stored blocks with the change from `base` to `next` applied: blocks equal in base and next at
 * either end are the stored ones; the changed middle is merged block for block when it keeps its
 * length, else it is the new blocks. `stored` and `base` must correspond (see `corresponds`).
 */
export function mergeList(stored: NodeJSON[], baseNodes: NodeJSON[], next: NodeJSON[]): NodeJSON[] {
  // Stored nodes Markdown shows, each with the empty paragraphs that follow it.
  const leading: NodeJSON[] = [];
  const shown: { node: NodeJSON; empties: NodeJSON[] }[] = [];
  for (const node of stored) {
    if (!isEmptyParagraph(node)) shown.push({ node, empties: [] });
    else (shown[shown.length - 1]?.empties ?? leading).push(node);
  }
  const base = baseNodes.filter((node) => !isEmptyParagraph(node));
  const lb = base.length;
  const ln = next.length;
  let p = 0;
  while (p < lb && p < ln && isDeepStrictEqual(base[p], next[p])) p++;
  let q = 0;
  while (q < lb - p && q < ln - p && isDeepStrictEqual(base[lb - 1 - q], next[ln - 1 - q])) q++;
  const kept = (from: number, to: number) => shown.slice(from, to).flatMap((s) => [s.node, ...s.empties]);
  const middle: NodeJSON[] = [];
  if (lb - p - q === ln - p - q) {
    for (let k = p; k < ln - q; k++) {
      const b = base[k] as NodeJSON;
      const n = next[k] as NodeJSON;
      const s = shown[k] as { node: NodeJSON; empties: NodeJSON[] };
      middle.push(kindOf(b.type) === kindOf(n.type) ? mergeNode(s.node, b, n) : n, ...s.empties);
    }
  } else {
    middle.push(...next.slice(p, ln - q));
    for (const s of shown.slice(p, lb - q)) middle.push(...s.empties);
  }
  return [...leading, ...kept(0, p), ...middle, ...kept(lb - q, lb)];
}
