/**
 * v1 TipTap JSON → PostHog's notebook Markdown.
 *
 * The output follows PostHog's grammar (frontend/src/lib/components/MarkdownNotebook/README.md):
 * blocks joined by a blank line, `#` headings, `- ` / `N. ` lists, `- [ ] ` tasks, `> ` quotes,
 * `---`, fenced code, GFM tables, `**bold**`, `*italic*`, `<u>…</u>`, `~~strike~~`, `` `code` ``,
 * `[text](href)`, `<ref id="…">…</ref>`, `<mention id="5">@member</mention>`, and component tags
 * for PostHog nodes. Where PostHog's own converter is lossy, this writer stays within CommonMark so
 * that `markdownToDoc` (markdown-it based) reads back the same document up to `normalizeDoc`:
 *
 * - Nested blocks inside a list item are indented under the item (CommonMark) instead of being
 *   split out of the list; ordered-list children are indented to the marker width.
 * - An empty paragraph is a line holding a single space at the top level (PostHog's convention)
 *   and `&nbsp;` on a line of its own elsewhere.
 * - A hard break is a newline; where a newline cannot carry it (line start, before another break
 *   or the end, headings, table cells, next to emphasis delimiters) it is written `<br>`.
 * - Text is backslash-escaped; whitespace and characters that CommonMark would otherwise trim or
 *   mis-read next to emphasis delimiters are written as numeric character references (`&#32;`).
 * - Emphasis uses `*`, or `_` where a `*` run could pair with the wrong delimiter (bold and italic
 *   together are `**_x_**`, as PostHog writes them). Code spans use a backtick fence that differs
 *   from every backtick run inside (CommonMark), not PostHog's backslash escapes.
 * - Anything Markdown cannot express (unknown node types or marks, table cells with spans or
 *   several blocks, non-default attributes, …) is written as `<RawNode node={…JSON…} />` (block)
 *   or `<RawInlineNode node={…} />` (inline), which `markdownToDoc` restores verbatim. PostHog
 *   nodes without a PostHog tag use PostHog's own `<UnknownNode nodeType="ph-…" …attrs />`.
 */

import MarkdownIt from "markdown-it";
import { childNodes, isNodeJSON, type MarkJSON, markdownNotebookNode, type NodeJSON } from "./json.js";
import { normalizeContent } from "./normalize.js";
import { serializeProps } from "./props.js";
import {
  INLINE_PH_NODE_TYPES,
  NODE_TYPE_TO_TAG,
  RAW_BLOCK_TAG,
  RAW_INLINE_TAG,
  UNKNOWN_NODE_TAG,
} from "./tags.js";

// ---------------------------------------------------------------------------------------------
// Helpers.

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) if (isControl(text.charCodeAt(i))) return true;
  return false;
}

/** Whether text holds a character Markdown cannot carry literally in a single-line context. */
function hasBreakOrNul(text: string): boolean {
  return text.includes("\n") || text.includes("\r") || text.includes("\u0000");
}

/**
 * markdown-it's link validation (no javascript:, vbscript:, file:, or data: other than images),
 * hardened so that spaces and control characters cannot hide the scheme.
 */
export function isAllowedLink(href: string): boolean {
  let squashed = "";
  for (const ch of href) if (ch !== " " && !isControl(ch.charCodeAt(0))) squashed += ch;
  squashed = squashed.toLowerCase();
  if (/^(?:javascript|vbscript|file):/.test(squashed)) return false;
  if (/^data:/.test(squashed)) return /^data:image\/(?:gif|png|jpeg|webp);/.test(squashed);
  return true;
}

const ENTITY_LIKE = /^&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]*);/;

function escapeAmpersands(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] as string;
    out += ch === "&" && ENTITY_LIKE.test(text.slice(i)) ? "\\&" : ch;
  }
  return out;
}

/** A link/image destination, or null when it cannot be written (a newline inside). */
function linkDestination(href: string): string | null {
  if (hasBreakOrNul(href)) return null;
  if (/[\s<>]/.test(href) || hasControl(href)) {
    return `<${escapeAmpersands(href.replace(/[\\<>]/g, "\\$&"))}>`;
  }
  return escapeAmpersands(href.replace(/[\\()]/g, "\\$&"));
}

let mdUtils: MarkdownIt["utils"] | undefined;

/** markdown-it's own character classes, so that flanking is judged exactly as the parser will. */
function utils(): MarkdownIt["utils"] {
  mdUtils ??= new MarkdownIt("zero").utils;
  return mdUtils;
}

function entityFor(ch: string): string | null {
  const code = ch.codePointAt(0) ?? 0;
  if (
    (code >= 0x00 && code <= 0x08) ||
    code === 0x0b ||
    (code >= 0x0e && code <= 0x1f) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0xd800 && code <= 0xdfff) ||
    (code >= 0xfdd0 && code <= 0xfdef) ||
    (code & 0xfffe) === 0xfffe
  ) {
    return null;
  }
  return `&#${code};`;
}

// ---------------------------------------------------------------------------------------------
// Inline content.

type Mode = "paragraph" | "heading" | "cell";

interface CharUnit {
  k: "char";
  c: string;
  /** 0 plain, 1 backslash-escaped, 2 character reference; "_" is decided late (-1). */
  enc: -1 | 0 | 1 | 2;
}
interface DelimUnit {
  k: "delim";
  s: "**" | "*" | "__" | "_" | "~~";
  open: boolean;
}
interface RawUnit {
  k: "raw";
  s: string;
  linkOpen?: boolean;
}
interface BreakUnit {
  k: "nl";
  br: boolean;
}
type Unit = CharUnit | DelimUnit | RawUnit | BreakUnit;

class Unrepresentable extends Error {}

const ALWAYS_ESCAPED = new Set(["\\", "`", "*", "[", "]", "<", "~", "|"]);

function charUnits(text: string): CharUnit[] {
  const out: CharUnit[] = [];
  const chars = [...text];
  let offset = 0;
  for (const c of chars) {
    let enc: CharUnit["enc"] = 0;
    if (c === "\u0000") throw new Unrepresentable("NUL");
    if (ALWAYS_ESCAPED.has(c)) enc = 1;
    else if (c === "_") enc = -1;
    else if (c === "\n" || c === "\r") enc = 2;
    else if (c === "&" && ENTITY_LIKE.test(text.slice(offset))) enc = 1;
    out.push({ k: "char", c, enc });
    offset += c.length;
  }
  return out;
}

function renderUnit(unit: Unit): string {
  switch (unit.k) {
    case "char":
      if (unit.enc === 1) return `\\${unit.c}`;
      if (unit.enc === 2) return entityFor(unit.c) ?? unit.c;
      return unit.c;
    case "delim":
      return unit.s;
    case "raw":
      return unit.s;
    case "nl":
      return unit.br ? "<br>" : "\n";
  }
}

function sameMark(a: MarkJSON, b: MarkJSON): boolean {
  return a.type === b.type && JSON.stringify(a.attrs ?? null) === JSON.stringify(b.attrs ?? null);
}

/** Whether a mark can be written as Markdown (code is handled separately as a code span). */
function expressibleMark(mark: MarkJSON): boolean {
  switch (mark.type) {
    case "bold":
    case "italic":
    case "strike":
    case "underline":
    case "code":
      return mark.attrs === undefined;
    case "link": {
      const attrs = mark.attrs ?? {};
      const keys = Object.keys(attrs);
      const href = attrs.href;
      return (
        keys.length === 1 && typeof href === "string" && isAllowedLink(href) && linkDestination(href) !== null
      );
    }
    case "comment":
      return serializeProps(mark.attrs ?? {}) !== null;
    default:
      return false;
  }
}

interface OpenMark {
  mark: MarkJSON;
  /** The delimiter an emphasis mark was opened with (closing must use the same). */
  delim?: DelimUnit["s"];
}

/**
 * Open a mark. Emphasis uses `*` (bold `**`, italic `*`) unless that could go wrong, then `_`:
 * - right after a closing `*` run, which an opening `*` would merge with;
 * - while another emphasis is open with `*`, except inside a word: there the rule of 3 keeps a
 *   `*`/`**` pair from matching, while `_` could not open at all.
 * Strike is always `~~`.
 */
function openMark(
  mark: MarkJSON,
  previous: Unit | undefined,
  stack: OpenMark[],
  intraword: boolean,
): { unit: Unit; open: OpenMark } {
  if (mark.type === "bold" || mark.type === "italic" || mark.type === "strike") {
    let delim: DelimUnit["s"] = "~~";
    if (mark.type !== "strike") {
      const afterClosingStar = previous?.k === "delim" && !previous.open && previous.s[0] === "*";
      const starOpen = stack.some((open) => open.delim?.[0] === "*");
      const ch = afterClosingStar || (starOpen && !intraword) ? "_" : "*";
      delim = (mark.type === "bold" ? ch.repeat(2) : ch) as DelimUnit["s"];
    }
    return { unit: { k: "delim", s: delim, open: true }, open: { mark, delim } };
  }
  if (mark.type === "underline") return { unit: { k: "raw", s: "<u>" }, open: { mark } };
  if (mark.type === "link") return { unit: { k: "raw", s: "[", linkOpen: true }, open: { mark } };
  return { unit: { k: "raw", s: `<ref${serializeProps(mark.attrs ?? {}) ?? ""}>` }, open: { mark } };
}

function closeMark({ mark, delim }: OpenMark): Unit {
  if (delim) return { k: "delim", s: delim, open: false };
  if (mark.type === "underline") return { k: "raw", s: "</u>" };
  if (mark.type === "link")
    return { k: "raw", s: `](${linkDestination(String(mark.attrs?.href ?? "")) ?? ""})` };
  return { k: "raw", s: "</ref>" };
}

function codeSpan(text: string): string {
  // The fence must differ in length from every backtick run inside the span.
  const runs = new Set((text.match(/`+/g) ?? []).map((run) => run.length));
  let length = 1;
  while (runs.has(length)) length += 1;
  const fence = "`".repeat(length);
  // markdown-it strips one space from each end when the content starts and ends with one and has
  // something in between (even if only spaces); pad so that the stripping only removes the padding.
  const pad = text.startsWith("`") || text.endsWith("`") || /^ [\s\S]+ $/.test(text);
  return pad ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`;
}

function rawInline(node: NodeJSON): string {
  return `<${RAW_INLINE_TAG} node={${JSON.stringify(node)}} />`;
}

interface InlineItem {
  marks: MarkJSON[];
  units: Unit[];
}

function inlineItem(node: NodeJSON): InlineItem {
  const marks = node.marks ?? [];
  const raw: InlineItem = { marks: [], units: [{ k: "raw", s: rawInline(node) }] };
  if (!marks.every(expressibleMark)) return raw;
  const hasCode = marks.some((mark) => mark.type === "code");
  const stackMarks = marks.filter((mark) => mark.type !== "code");
  if (node.type === "text") {
    const text = node.text ?? "";
    if (node.attrs !== undefined || node.content !== undefined || text.includes("\u0000")) return raw;
    if (hasCode) {
      if (hasBreakOrNul(text)) return raw;
      return { marks: stackMarks, units: [{ k: "raw", s: codeSpan(text) }] };
    }
    return { marks: stackMarks, units: charUnits(text) };
  }
  if (hasCode || node.content !== undefined || node.text !== undefined) return raw;
  if (node.type === "hardBreak") {
    if (node.attrs !== undefined) return raw;
    return { marks: stackMarks, units: [{ k: "nl", br: false }] };
  }
  if (node.type === "ph-mention") {
    const attrs = node.attrs ?? {};
    const id = attrs.id;
    if (Object.keys(attrs).length !== 1 || typeof id !== "number" || !Number.isSafeInteger(id)) return raw;
    return { marks: stackMarks, units: [{ k: "raw", s: `<mention id="${id}">@member</mention>` }] };
  }
  const tag = NODE_TYPE_TO_TAG[node.type];
  if (tag && INLINE_PH_NODE_TYPES.has(node.type)) {
    const props = serializeProps(node.attrs ?? {});
    if (props === null) return raw;
    return { marks: stackMarks, units: [{ k: "raw", s: `<${tag}${props} />` }] };
  }
  return raw;
}

/** How many consecutive items, starting at `from`, carry `mark`. */
function markSpan(items: InlineItem[], from: number, mark: MarkJSON): number {
  let n = 0;
  for (let i = from; i < items.length; i += 1) {
    if (!(items[i] as InlineItem).marks.some((m) => sameMark(m, mark))) break;
    n += 1;
  }
  return n;
}

function markOrder(type: string): number {
  return ["comment", "link", "underline", "bold", "italic", "strike"].indexOf(type);
}

function buildUnits(nodes: NodeJSON[]): Unit[] {
  const items = nodes.map(inlineItem);
  const units: Unit[] = [];
  let stack: OpenMark[] = [];
  items.forEach((item, index) => {
    let keep = 0;
    while (keep < stack.length && item.marks.some((m) => sameMark(m, (stack[keep] as OpenMark).mark)))
      keep += 1;
    for (let j = stack.length - 1; j >= keep; j -= 1) units.push(closeMark(stack[j] as OpenMark));
    stack = stack.slice(0, keep);
    const toOpen = item.marks
      .filter((m) => !stack.some((s) => sameMark(s.mark, m)))
      .map((m) => ({ m, span: markSpan(items, index, m) }))
      .sort((a, b) => b.span - a.span || markOrder(a.m.type) - markOrder(b.m.type));
    toOpen.forEach(({ m }, k) => {
      const previous = units[units.length - 1];
      const intraword =
        k === toOpen.length - 1 &&
        classify(lastChar(previous)) === "other" &&
        classify(firstChar(item.units[0])) === "other";
      const { unit, open } = openMark(m, previous, stack, intraword);
      units.push(unit);
      stack.push(open);
    });
    units.push(...item.units);
  });
  for (let j = stack.length - 1; j >= 0; j -= 1) units.push(closeMark(stack[j] as OpenMark));
  return units;
}

function firstChar(unit: Unit | undefined): string | null {
  if (!unit) return null;
  const s = renderUnit(unit);
  return s.length > 0 ? (String.fromCodePoint(s.codePointAt(0) ?? 0x20) as string) : null;
}

function lastChar(unit: Unit | undefined): string | null {
  if (!unit) return null;
  const s = renderUnit(unit);
  if (s.length === 0) return null;
  const chars = [...s];
  return chars[chars.length - 1] as string;
}

type CharClass = "space" | "punct" | "other";
const classes = new Map<string, CharClass>();

/** A character as markdown-it's delimiter scanning sees it (a missing one counts as whitespace). */
function classify(ch: string | null): CharClass {
  if (ch === null) return "space";
  let found = classes.get(ch);
  if (found === undefined) {
    const code = ch.codePointAt(0) ?? 0x20;
    const { isWhiteSpace, isMdAsciiPunct, isPunctChar } = utils();
    found = isWhiteSpace(code) ? "space" : isMdAsciiPunct(code) || isPunctChar(ch) ? "punct" : "other";
    if (classes.size < 4096) classes.set(ch, found);
  }
  return found;
}

/** Encode a character unit as a character reference; false when impossible. */
function toEntity(unit: Unit | undefined): boolean {
  if (unit?.k !== "char" || unit.enc === 2) return false;
  if (entityFor(unit.c) === null) throw new Unrepresentable("character without a reference");
  unit.enc = 2;
  return true;
}

function lineBounds(units: Unit[]): [number, number][] {
  const lines: [number, number][] = [];
  let start = 0;
  units.forEach((unit, i) => {
    if (unit.k === "nl" && !unit.br) {
      lines.push([start, i]);
      start = i + 1;
    }
  });
  lines.push([start, units.length]);
  return lines;
}

function isSpaceChar(unit: Unit | undefined): boolean {
  return unit?.k === "char" && unit.enc === 0 && /\s/u.test(unit.c);
}

/** Make edge whitespace and emphasis delimiters survive CommonMark; returns whether it changed. */
function fixPass(units: Unit[], mode: Mode): boolean {
  let changed = false;
  // Hard breaks that would not hold as a newline.
  units.forEach((unit, i) => {
    if (unit.k !== "nl" || unit.br) return;
    const prev = units[i - 1];
    const next = units[i + 1];
    const lineStart = prev === undefined || (prev.k === "nl" && !prev.br);
    if (mode !== "paragraph" || lineStart || next === undefined || next.k === "nl") {
      unit.br = true;
      changed = true;
    }
  });
  // Whitespace at a line's edges is trimmed by markdown-it.
  for (const [start, end] of lineBounds(units)) {
    if (end > start) {
      if (isSpaceChar(units[start])) changed = toEntity(units[start]) || changed;
      if (isSpaceChar(units[end - 1])) changed = toEntity(units[end - 1]) || changed;
    }
  }
  // Delimiter runs must be left-flanking to open and right-flanking to close.
  let i = 0;
  while (i < units.length) {
    const unit = units[i] as Unit;
    if (unit.k !== "delim") {
      i += 1;
      continue;
    }
    const ch = unit.s[0];
    let j = i;
    let opens = false;
    let closes = false;
    while (j < units.length) {
      const u = units[j] as Unit;
      if (u.k !== "delim" || u.s[0] !== ch) break;
      if (u.open) opens = true;
      else closes = true;
      j += 1;
    }
    const prevUnit = units[i - 1];
    const nextUnit = units[j];
    const prevNl = prevUnit?.k === "nl" && !prevUnit.br;
    const nextNl = nextUnit?.k === "nl" && !nextUnit.br;
    const prev = classify(prevNl ? "\n" : lastChar(prevUnit));
    const next = classify(nextNl ? "\n" : firstChar(nextUnit));
    const left = next !== "space" && (next !== "punct" || prev !== "other");
    const right = prev !== "space" && (prev !== "punct" || next !== "other");
    if (ch === "_" && opens && left && right && prev !== "punct") {
      // `_` cannot open inside a word: make the character before it punctuation.
      if (toEntity(prevUnit)) changed = true;
      else throw new Unrepresentable("opening underscore");
    } else if (ch === "_" && closes && !opens && right && left && next !== "punct") {
      if (toEntity(nextUnit)) changed = true;
      else throw new Unrepresentable("closing underscore");
    } else if (opens && !left) {
      if (next === "space") {
        if (nextNl && nextUnit?.k === "nl") {
          nextUnit.br = true;
          changed = true;
        } else if (toEntity(nextUnit)) changed = true;
        else throw new Unrepresentable("opening delimiter");
      } else if (toEntity(prevUnit)) changed = true;
      else throw new Unrepresentable("opening delimiter");
    } else if (closes && !right) {
      if (prev === "space") {
        if (prevNl && prevUnit?.k === "nl") {
          prevUnit.br = true;
          changed = true;
        } else if (toEntity(prevUnit)) changed = true;
        else throw new Unrepresentable("closing delimiter");
      } else if (toEntity(nextUnit)) changed = true;
      else throw new Unrepresentable("closing delimiter");
    }
    i = j;
  }
  return changed;
}

const ORDERED_START = /^\d{1,9}[.)](?:[ \t]|\n)/;

/** Escape what would otherwise start a block at the beginning of a paragraph line. */
function escapeLineStarts(units: Unit[]): void {
  lineBounds(units).forEach(([start, end], lineIndex) => {
    let prefix = "";
    let k = start;
    while (k < end) {
      const unit = units[k] as Unit;
      if (unit.k !== "char" || unit.enc !== 0) break;
      prefix += unit.c;
      k += 1;
    }
    if (k === end) prefix += "\n";
    const first = units[start];
    if (first?.k !== "char" || first.enc !== 0) return;
    if (
      /^#{1,6}(?:[ \t]|\n)/.test(prefix) ||
      prefix.startsWith(">") ||
      /^[-+](?:[ \t]|\n)/.test(prefix) ||
      /^-+[ \t]*\n/.test(prefix) ||
      /^(?:-[ \t]*){3,}\n/.test(prefix) ||
      (lineIndex > 0 && /^=+[ \t]*\n/.test(prefix))
    ) {
      first.enc = 1;
      return;
    }
    const ordered = ORDERED_START.exec(prefix);
    if (ordered) {
      const digits = /^\d+/.exec(prefix)?.[0].length ?? 0;
      const punct = units[start + digits];
      if (punct?.k === "char") punct.enc = 1;
    }
  });
}

function isAsciiAlnumUnit(unit: Unit | undefined): boolean {
  return unit?.k === "char" && unit.enc === 0 && /^[A-Za-z0-9]$/.test(unit.c);
}

/**
 * Render inline nodes as Markdown. Throws Unrepresentable when no faithful form exists (the
 * enclosing block then falls back to a raw node).
 */
function renderInline(nodes: NodeJSON[], mode: Mode): string {
  const units = buildUnits(nodes);
  for (let pass = 0; pass < 64 && fixPass(units, mode); pass += 1) {
    // iterate until stable
  }
  if (mode === "paragraph") escapeLineStarts(units);
  units.forEach((unit, i) => {
    if (unit.k !== "char") return;
    if (unit.enc === -1) {
      unit.enc = isAsciiAlnumUnit(units[i - 1]) && isAsciiAlnumUnit(units[i + 1]) ? 0 : 1;
    } else if (unit.c === "!" && unit.enc === 0) {
      const next = units[i + 1];
      if (next?.k === "raw" && next.linkOpen) unit.enc = 1;
    }
  });
  if (mode === "heading") {
    let k = units.length - 1;
    let runStart = -1;
    while (k >= 0) {
      const unit = units[k] as Unit;
      if (unit.k !== "char" || unit.c !== "#" || unit.enc !== 0) break;
      runStart = k;
      k -= 1;
    }
    if (runStart >= 0) (units[runStart] as CharUnit).enc = 1;
  }
  return units
    .map((unit) => {
      const s = renderUnit(unit);
      return mode === "cell" && unit.k === "raw" ? s.replace(/\|/g, "\\|") : s;
    })
    .join("");
}

// ---------------------------------------------------------------------------------------------
// Blocks.

function rawBlock(node: NodeJSON): string {
  return `<${RAW_BLOCK_TAG} node={${JSON.stringify(node)}} />`;
}

const LIST_TYPES = new Set(["bulletList", "orderedList", "taskList"]);

function attrKeys(node: NodeJSON): string[] {
  return node.attrs ? Object.keys(node.attrs) : [];
}

function onlyAttrs(node: NodeJSON, allowed: readonly string[]): boolean {
  return attrKeys(node).every((key) => allowed.includes(key));
}

function isPlainParagraph(node: NodeJSON | undefined): node is NodeJSON {
  return (
    node !== undefined && node.type === "paragraph" && node.attrs === undefined && node.marks === undefined
  );
}

function listIsRepresentable(list: NodeJSON): boolean {
  const items = list.content ?? [];
  if (items.length === 0 || list.marks !== undefined) return false;
  if (list.type === "orderedList") {
    const start = list.attrs?.start;
    if (!onlyAttrs(list, ["start"]) || typeof start !== "number" || !Number.isInteger(start)) return false;
    if (start < 0 || start + items.length - 1 > 999_999_999) return false;
  } else if (list.attrs !== undefined) {
    return false;
  }
  const itemType = list.type === "taskList" ? "taskItem" : "listItem";
  return items.every((item) => {
    if (item.type !== itemType || item.marks !== undefined || !isPlainParagraph(item.content?.[0]))
      return false;
    if (itemType === "taskItem") {
      return onlyAttrs(item, ["checked"]) && typeof item.attrs?.checked === "boolean";
    }
    return item.attrs === undefined;
  });
}

function isEmptyParagraph(node: NodeJSON): boolean {
  return isPlainParagraph(node) && node.content === undefined;
}

/** Whether a list, written right under a paragraph line, starts a list (rather than continuing the text). */
function canInterruptParagraph(list: NodeJSON): boolean {
  if (!LIST_TYPES.has(list.type) || !listIsRepresentable(list)) return false;
  if (list.type === "orderedList" && list.attrs?.start !== 1) return false;
  const first = list.content?.[0];
  if (!first) return false;
  if (list.type === "taskList") return true;
  return !(first.content?.length === 1 && isEmptyParagraph(first.content[0] as NodeJSON));
}

function indent(text: string, pad: string): string {
  return text
    .split("\n")
    .map((line, i) => (i === 0 || line === "" ? line : pad + line))
    .join("\n");
}

interface SequenceState {
  bullet: string | null;
  ordered: string | null;
}

function serializeList(list: NodeJSON, marker: string): string {
  const ordered = list.type === "orderedList";
  const task = list.type === "taskList";
  let n = ordered ? (list.attrs?.start as number) : 0;
  return (list.content ?? [])
    .map((item) => {
      const [first, ...rest] = item.content ?? [];
      const mark = ordered ? `${n++}${marker}` : marker;
      const text = first?.content ? renderInline(first.content, "paragraph") : "";
      let head: string;
      if (task) head = `${mark} [${item.attrs?.checked === true ? "x" : " "}]${text ? ` ${text}` : ""}`;
      else if (text) head = `${mark} ${text}`;
      else head = rest.length > 0 ? `${mark} &nbsp;` : mark;
      let body = head;
      const state: SequenceState = { bullet: null, ordered: null };
      let prev: NodeJSON | undefined = first;
      for (const child of rest) {
        const sep = prev?.type === "paragraph" && canInterruptParagraph(child) ? "\n" : "\n\n";
        body += sep + serializeInSequence(child, false, state);
        prev = child;
      }
      return indent(body, " ".repeat(mark.length + 1));
    })
    .join("\n");
}

/** Serialize a block as part of a sibling sequence (lists alternate markers so they don't merge). */
function serializeInSequence(node: NodeJSON, top: boolean, state: SequenceState): string {
  if (LIST_TYPES.has(node.type) && listIsRepresentable(node)) {
    if (node.type === "orderedList") {
      const delim = state.ordered === "." ? ")" : ".";
      state.ordered = delim;
      state.bullet = null;
      return withFallback(node, () => serializeList(node, delim));
    }
    const bullet = state.bullet === "-" ? "*" : "-";
    state.bullet = bullet;
    state.ordered = null;
    return withFallback(node, () => serializeList(node, bullet));
  }
  // A top-level empty paragraph is a blank line to CommonMark: it does not separate lists.
  if (!(top && isEmptyParagraph(node))) {
    state.bullet = null;
    state.ordered = null;
  }
  return serializeBlock(node, top);
}

function serializeSequence(nodes: NodeJSON[], top: boolean): string {
  const state: SequenceState = { bullet: null, ordered: null };
  return nodes.map((node) => serializeInSequence(node, top, state)).join("\n\n");
}

function withFallback(node: NodeJSON, write: () => string | null): string {
  try {
    return write() ?? rawBlock(node);
  } catch (error) {
    if (error instanceof Unrepresentable) return rawBlock(node);
    throw error;
  }
}

function serializeCodeBlock(node: NodeJSON): string | null {
  if (!onlyAttrs(node, ["language"]) || node.marks !== undefined) return null;
  const children = node.content ?? [];
  if (
    !children.every(
      (child) => child.type === "text" && child.marks === undefined && child.attrs === undefined,
    )
  ) {
    return null;
  }
  const text = children.map((child) => child.text ?? "").join("");
  const language = node.attrs?.language ?? null;
  if (language !== null && typeof language !== "string") return null;
  const lang = language ?? "";
  if (text.includes("\r") || text.includes("\u0000") || hasBreakOrNul(lang) || lang !== lang.trim())
    return null;
  const fenceChar = lang.includes("`") ? "~" : "`";
  let longest = 0;
  for (const run of text.match(fenceChar === "`" ? /`+/g : /~+/g) ?? [])
    longest = Math.max(longest, run.length);
  const fence = fenceChar.repeat(Math.max(3, longest + 1));
  const info = escapeAmpersands(lang.replace(/\\/g, "\\\\"));
  return `${fence}${info}\n${text}\n${fence}`;
}

function cellIsRepresentable(cell: NodeJSON, type: string): boolean {
  if (cell.type !== type || cell.marks !== undefined) return false;
  const attrs = cell.attrs ?? {};
  if (!onlyAttrs(cell, ["colspan", "rowspan", "colwidth"])) return false;
  if (attrs.colspan !== 1 || attrs.rowspan !== 1 || attrs.colwidth !== null) return false;
  return cell.content?.length === 1 && isPlainParagraph(cell.content[0]);
}

function serializeTable(table: NodeJSON): string | null {
  if (table.attrs !== undefined || table.marks !== undefined) return null;
  const rows = table.content ?? [];
  const width = rows[0]?.content?.length ?? 0;
  if (rows.length === 0 || width === 0) return null;
  const ok = rows.every(
    (row, r) =>
      row.type === "tableRow" &&
      row.attrs === undefined &&
      row.marks === undefined &&
      row.content?.length === width &&
      row.content.every((cell) => cellIsRepresentable(cell, r === 0 ? "tableHeader" : "tableCell")),
  );
  if (!ok) return null;
  const lines = rows.map(
    (row) =>
      `| ${(row.content ?? []).map((cell) => renderInline(cell.content?.[0]?.content ?? [], "cell")).join(" | ")} |`,
  );
  lines.splice(1, 0, `| ${Array.from({ length: width }, () => "---").join(" | ")} |`);
  return lines.join("\n");
}

const IMAGE_ALT_ESCAPE = /[!-/:-@[-`{-~]/g;

function serializeImage(attrs: Record<string, unknown>): string | null {
  const keys = Object.keys(attrs);
  if (!keys.includes("src") || !keys.every((key) => key === "src" || key === "alt")) return null;
  const { src, alt } = attrs;
  if (typeof src !== "string" || !isAllowedLink(src)) return null;
  if (
    alt !== undefined &&
    (typeof alt !== "string" || alt === "" || hasBreakOrNul(alt) || alt.trim() !== alt)
  ) {
    return null;
  }
  const dest = linkDestination(src);
  if (dest === null) return null;
  return `![${(alt ?? "").replace(IMAGE_ALT_ESCAPE, "\\$&")}](${dest})`;
}

function serializeComponent(node: NodeJSON): string | null {
  if (node.content !== undefined || node.marks !== undefined || node.text !== undefined) return null;
  if (INLINE_PH_NODE_TYPES.has(node.type)) return null;
  const attrs = node.attrs ?? {};
  if (node.type === "ph-image") {
    const image = serializeImage(attrs);
    if (image !== null) return image;
  }
  const tag = NODE_TYPE_TO_TAG[node.type];
  if (tag) {
    const props = serializeProps(attrs);
    return props === null ? null : `<${tag}${props} />`;
  }
  if (!node.type.startsWith("ph-") || Object.hasOwn(attrs, "nodeType")) return null;
  const props = serializeProps(attrs);
  return props === null ? null : `<${UNKNOWN_NODE_TAG} nodeType=${JSON.stringify(node.type)}${props} />`;
}

function serializeBlock(node: NodeJSON, top: boolean): string {
  return withFallback(node, () => {
    switch (node.type) {
      case "paragraph": {
        if (node.attrs !== undefined || node.marks !== undefined) return null;
        if (!node.content) return top ? " " : "&nbsp;";
        return renderInline(node.content, "paragraph");
      }
      case "heading": {
        const level = node.attrs?.level;
        if (!onlyAttrs(node, ["level"]) || node.marks !== undefined) return null;
        if (typeof level !== "number" || !Number.isInteger(level) || level < 1 || level > 6) return null;
        const text = node.content ? renderInline(node.content, "heading") : "";
        return `${"#".repeat(level)}${text ? ` ${text}` : ""}`;
      }
      case "blockquote": {
        if (node.attrs !== undefined || node.marks !== undefined || !node.content) return null;
        return serializeSequence(node.content, false)
          .split("\n")
          .map((line) => (line === "" ? ">" : `> ${line}`))
          .join("\n");
      }
      case "horizontalRule":
        return node.attrs === undefined && node.content === undefined && node.marks === undefined
          ? "---"
          : null;
      case "codeBlock":
        return serializeCodeBlock(node);
      case "table":
        return serializeTable(node);
      default:
        return node.type.startsWith("ph-") ? serializeComponent(node) : null;
    }
  });
}

/**
 * v1 TipTap JSON → PostHog notebook Markdown. For a v2 document (one `ph-markdown-notebook`
 * node) this is its stored Markdown, unchanged. Null or invalid content gives "".
 */
export function docToMarkdown(doc: unknown): string {
  const v2 = markdownNotebookNode(doc);
  if (v2) {
    const markdown = v2.attrs?.markdown;
    return typeof markdown === "string" ? markdown : "";
  }
  let blocks: unknown[];
  if (Array.isArray(doc)) blocks = doc;
  else if (isNodeJSON(doc)) blocks = doc.type === "doc" ? childNodes(doc) : [doc];
  else return "";
  return serializeSequence(normalizeContent(blocks), true);
}
