/**
 * PostHog notebook Markdown → v1 TipTap JSON, via prosemirror-markdown's MarkdownParser on a
 * markdown-it instance (CommonMark + GFM tables + strikethrough; a newline inside a paragraph is a
 * hard break, as in PostHog's grammar). markdown-it rules add PostHog's extensions only:
 *
 * - block: component tags on their own line(s) (`<Query … />`, `<UnknownNode nodeType=… />`,
 *   `<RawNode node={…} />`, `<Divider />`), and `&nbsp;` alone on a line (an empty paragraph);
 * - inline: `<u>…</u>`, `<ref …>…</ref>`, `<mention id="5">…</mention>`, `<br>`, and the inline
 *   component tags (`<ReplayTimestamp … />`, `<Backlink … />`, `<RawInlineNode … />`);
 * - core: GFM task items (`- [ ]` / `- [x]` on every item of a bullet list), table cells wrapped in
 *   paragraphs, a top-level line holding one space as an empty paragraph (PostHog's convention),
 *   a paragraph holding only an image as a `ph-image` node, and unmatched inline tags kept as text.
 *
 * The parser is built on first use.
 */

import type { StateBlock, StateCore, StateInline, Token } from "markdown-it";
import MarkdownIt from "markdown-it";
import { MarkdownParser } from "prosemirror-markdown";
import { type DocJSON, isNodeJSON, type NodeJSON } from "./json.js";
import { isAllowedLink } from "./markdown-serialize.js";
import { parseTag } from "./props.js";
import { getNotebookSchema, toNotebookJSON } from "./schema.js";
import {
  DIVIDER_TAG,
  DROPPED_TAGS,
  INLINE_TAGS,
  isBlockTag,
  RAW_BLOCK_TAG,
  RAW_INLINE_TAG,
  TAG_TO_NODE_TYPE,
  UNKNOWN_NODE_TAG,
} from "./tags.js";

type BlockMeta =
  | { kind: "ph"; nodeType: string; attrs: Record<string, unknown> }
  | { kind: "raw"; json: NodeJSON }
  | { kind: "hr" }
  | { kind: "drop" };

function blockMeta(name: string, props: Record<string, unknown>): BlockMeta | null {
  if (name === DIVIDER_TAG) return { kind: "hr" };
  if (DROPPED_TAGS.has(name)) return { kind: "drop" };
  if (name === RAW_BLOCK_TAG) return isNodeJSON(props.node) ? { kind: "raw", json: props.node } : null;
  if (name === UNKNOWN_NODE_TAG) {
    const { nodeType, ...attrs } = props;
    return typeof nodeType === "string" && nodeType !== "" ? { kind: "ph", nodeType, attrs } : null;
  }
  const nodeType = TAG_TO_NODE_TYPE[name];
  return nodeType ? { kind: "ph", nodeType, attrs: props } : null;
}

/** Start of a line's content (after its container prefix and indentation). */
function contentStart(state: StateBlock, line: number): number {
  return (state.bMarks[line] ?? 0) + (state.tShift[line] ?? 0);
}

function lineIndent(state: StateBlock, line: number): number {
  return state.sCount[line] ?? 0;
}

function componentBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  if (lineIndent(state, startLine) - state.blkIndent >= 4) return false;
  const start = contentStart(state, startLine);
  if (state.src.charCodeAt(start) !== 0x3c /* < */) return false;
  const name = /^<([A-Z][A-Za-z0-9]*)/.exec(state.src.slice(start, start + 80))?.[1];
  if (!name || !isBlockTag(name)) return false;
  // A tag may span lines (never a blank one); it must end a line.
  const parts: string[] = [];
  let tag: ReturnType<typeof parseTag> = null;
  for (let line = startLine; line < endLine && !tag; line += 1) {
    const from = contentStart(state, line);
    const to = state.eMarks[line] ?? from;
    if (line > startLine && (from >= to || lineIndent(state, line) < state.blkIndent)) break;
    const content = state.src.slice(from, to);
    parts.push(content);
    if (content.trimEnd().endsWith("/>")) {
      const text = parts.join("\n");
      const parsed = parseTag(text, 0);
      if (parsed?.selfClosing && text.slice(parsed.end).trim() === "") tag = parsed;
    }
  }
  if (!tag) return false;
  const used = parts.length;
  const meta = blockMeta(tag.name, tag.props);
  if (!meta) return false;
  if (silent) return true;
  const map: [number, number] = [startLine, startLine + used];
  if (meta.kind === "hr") {
    const token = state.push("hr", "hr", 0);
    token.map = map;
    token.markup = "---";
  } else if (meta.kind === "ph") {
    const token = state.push("ph_block", "", 0);
    token.map = map;
    token.meta = { nodeType: meta.nodeType, attrs: meta.attrs };
  } else if (meta.kind === "raw") {
    const token = state.push("raw_block", "", 0);
    token.map = map;
    token.meta = { json: meta.json };
  }
  state.line = startLine + used;
  return true;
}

function emptyParagraphBlock(
  state: StateBlock,
  startLine: number,
  _endLine: number,
  silent: boolean,
): boolean {
  if (lineIndent(state, startLine) - state.blkIndent >= 4) return false;
  const from = contentStart(state, startLine);
  if (state.src.slice(from, state.eMarks[startLine]).trimEnd() !== "&nbsp;") return false;
  if (silent) return true;
  const open = state.push("paragraph_open", "p", 1);
  open.map = [startLine, startLine + 1];
  state.push("paragraph_close", "p", -1);
  state.line = startLine + 1;
  return true;
}

const LIST_CONTAINERS = new Set(["bullet_list_open", "ordered_list_open", "list_item_open"]);

/** A top-level line holding exactly one space is an empty paragraph (PostHog's own convention). */
function topLevelEmptyParagraphs(state: StateCore): void {
  const lines = state.src.split("\n");
  const tokens = state.tokens;
  const out: Token[] = [];
  let cursor = 0;
  const emit = (from: number, to: number): void => {
    for (let line = from; line < to; line += 1) {
      if (lines[line] !== " ") continue;
      const open = new state.Token("paragraph_open", "p", 1);
      open.block = true;
      open.map = [line, line + 1];
      const close = new state.Token("paragraph_close", "p", -1);
      close.block = true;
      out.push(open, close);
    }
  };
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i] as Token;
    let j = i;
    if (first.nesting === 1) {
      let depth = 0;
      for (j = i; j < tokens.length; j += 1) {
        depth += (tokens[j] as Token).nesting;
        if (depth === 0) break;
      }
    }
    const startLine = first.map?.[0] ?? cursor;
    emit(cursor, startLine);
    let end = first.map?.[1] ?? startLine;
    if (first.type === "bullet_list_open" || first.type === "ordered_list_open") {
      end = startLine;
      for (let k = i; k <= j && k < tokens.length; k += 1) {
        const token = tokens[k] as Token;
        if (token.map && !LIST_CONTAINERS.has(token.type)) end = Math.max(end, token.map[1]);
      }
    }
    for (let k = i; k <= j && k < tokens.length; k += 1) out.push(tokens[k] as Token);
    cursor = Math.max(cursor, end);
    i = j + 1;
  }
  emit(cursor, lines.length);
  state.tokens = out;
}

const TASK_MARKER = /^\[([ xX])\](?:[ \t]|\n|$)/;

/** GFM task lists: a bullet list whose every item starts with `[ ]` or `[x]`. */
function taskLists(state: StateCore): void {
  const tokens = state.tokens;
  for (let i = 0; i < tokens.length; i += 1) {
    const list = tokens[i] as Token;
    if (list.type !== "bullet_list_open") continue;
    const items: { open: Token; close?: Token; inline: Token | null }[] = [];
    let close: Token | undefined;
    for (let j = i + 1; j < tokens.length; j += 1) {
      const token = tokens[j] as Token;
      if (token.level === list.level && token.type === "bullet_list_close") {
        close = token;
        break;
      }
      if (token.level !== list.level + 1) continue;
      if (token.type === "list_item_open") {
        const paragraph = tokens[j + 1];
        const inline = tokens[j + 2];
        items.push({
          open: token,
          inline: paragraph?.type === "paragraph_open" && inline?.type === "inline" ? inline : null,
        });
      } else if (token.type === "list_item_close") {
        const last = items[items.length - 1];
        if (last) last.close = token;
      }
    }
    if (!close || items.length === 0) continue;
    const markers = items.map((item) => (item.inline ? TASK_MARKER.exec(item.inline.content) : null));
    if (!markers.every((marker) => marker !== null)) continue;
    list.type = "task_list_open";
    close.type = "task_list_close";
    items.forEach((item, k) => {
      const marker = markers[k] as RegExpExecArray;
      item.open.type = "task_item_open";
      item.open.meta = { checked: marker[1] !== " " };
      if (item.close) item.close.type = "task_item_close";
      const inline = item.inline as Token;
      const cut = marker[0].endsWith("\n") ? marker[0].length - 1 : marker[0].length;
      inline.content = inline.content.slice(cut);
    });
  }
}

/** TipTap table cells hold blocks: wrap each cell's inline content in a paragraph. */
function tableCellParagraphs(state: StateCore): void {
  const out: Token[] = [];
  const tokens = state.tokens;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    out.push(token);
    if ((token.type === "th_open" || token.type === "td_open") && tokens[i + 1]?.type === "inline") {
      const open = new state.Token("paragraph_open", "p", 1);
      open.block = true;
      const close = new state.Token("paragraph_close", "p", -1);
      close.block = true;
      out.push(open, tokens[i + 1] as Token, close);
      i += 1;
    }
  }
  state.tokens = out;
}

function imageAlt(image: Token): string {
  return (image.children ?? []).map((child) => child.content).join("");
}

/** A paragraph holding nothing but an image is a `ph-image` node. */
function imageBlocks(state: StateCore): void {
  const out: Token[] = [];
  const tokens = state.tokens;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    const inline = tokens[i + 1];
    const image = inline?.children?.length === 1 ? inline.children[0] : undefined;
    if (token.type === "paragraph_open" && inline?.type === "inline" && image?.type === "image") {
      const block = new state.Token("ph_block", "", 0);
      block.block = true;
      block.map = token.map;
      const alt = imageAlt(image);
      block.meta = {
        nodeType: "ph-image",
        attrs: alt === "" ? { src: image.attrGet("src") ?? "" } : { src: image.attrGet("src") ?? "", alt },
      };
      out.push(block);
      i += 2;
      continue;
    }
    out.push(token);
  }
  state.tokens = out;
}

const PAIRED = new Map([
  ["underline_close", "underline_open"],
  ["comment_close", "comment_open"],
]);

function asText(token: Token): void {
  token.type = "text";
  token.content = token.markup;
  token.nesting = 0;
}

/** Unmatched `<u>` / `<ref>` tags stay literal text; inline images become links. */
function inlineFixups(state: StateCore): void {
  for (const block of state.tokens) {
    if (block.type !== "inline" || !block.children) continue;
    const children: Token[] = [];
    const open: Token[] = [];
    for (const child of block.children) {
      if (child.type === "image") {
        const src = child.attrGet("src") ?? "";
        const text = new state.Token("text", "", 0);
        text.content = imageAlt(child);
        const linkOpen = new state.Token("link_open", "a", 1);
        linkOpen.attrs = [["href", src]];
        const linkClose = new state.Token("link_close", "a", -1);
        children.push(...(text.content ? [linkOpen, text, linkClose] : []));
        continue;
      }
      children.push(child);
      if (child.type === "underline_open" || child.type === "comment_open") {
        open.push(child);
      } else {
        const opener = PAIRED.get(child.type);
        if (!opener) continue;
        let k = open.length - 1;
        while (k >= 0 && (open[k] as Token).type !== opener) k -= 1;
        if (k < 0) asText(child);
        else {
          for (const unmatched of open.splice(k)) if (unmatched.type !== opener) asText(unmatched);
        }
      }
    }
    for (const unmatched of open) asText(unmatched);
    block.children = children;
  }
}

const BR = /^<br\s*\/?>/i;

function inlineTags(state: StateInline, silent: boolean): boolean {
  const { src, pos } = state;
  const max = state.posMax;
  if (src.charCodeAt(pos) !== 0x3c /* < */) return false;
  const head = src.slice(pos, Math.min(max, pos + 16));
  const br = BR.exec(head);
  if (br) {
    if (!silent) state.push("hardbreak", "br", 0);
    state.pos += br[0].length;
    return true;
  }
  for (const [markup, type] of [
    ["<u>", "underline_open"],
    ["</u>", "underline_close"],
    ["</ref>", "comment_close"],
  ] as const) {
    if (head.startsWith(markup)) {
      if (!silent) state.push(type, "", 0).markup = markup;
      state.pos += markup.length;
      return true;
    }
  }
  const tag = parseTag(src, pos, max);
  if (!tag) return false;
  if (tag.name === "ref" && !tag.selfClosing) {
    if (!silent) {
      const token = state.push("comment_open", "", 0);
      token.markup = src.slice(pos, tag.end);
      token.meta = { attrs: tag.props };
    }
    state.pos = tag.end;
    return true;
  }
  if (tag.name === "mention" && !tag.selfClosing) {
    const close = src.indexOf("</mention>", tag.end);
    if (close < 0 || close + 10 > max) return false;
    if (!silent) {
      const id = tag.props.id;
      const numeric =
        typeof id === "number" ? id : typeof id === "string" && /^-?\d+$/.test(id) ? Number(id) : NaN;
      if (Number.isSafeInteger(numeric)) {
        state.push("ph_inline", "", 0).meta = { nodeType: "ph-mention", attrs: { id: numeric } };
      } else {
        state.push("text", "", 0).content = src.slice(tag.end, close);
      }
    }
    state.pos = close + 10;
    return true;
  }
  if (!tag.selfClosing || !INLINE_TAGS.has(tag.name)) return false;
  if (tag.name === RAW_INLINE_TAG) {
    if (!isNodeJSON(tag.props.node)) return false;
    if (!silent) state.push("raw_inline", "", 0).meta = { json: tag.props.node };
  } else {
    const nodeType = TAG_TO_NODE_TYPE[tag.name] as string;
    if (!silent) state.push("ph_inline", "", 0).meta = { nodeType, attrs: tag.props };
  }
  state.pos = tag.end;
  return true;
}

function createMarkdownIt(): MarkdownIt {
  const md = new MarkdownIt("commonmark", {
    html: false,
    linkify: false,
    typographer: false,
  });
  md.enable(["table", "strikethrough"]);
  // CommonMark's preset stops nesting at 20 token levels (about nine nested lists); allow more.
  // (`maxNesting` is a markdown-it option its type definitions do not declare.)
  (md.options as { maxNesting?: number }).maxNesting = 100;
  // Keep destinations verbatim (no percent-encoding); refuse script-capable schemes.
  md.normalizeLink = (url: string) => url;
  md.normalizeLinkText = (text: string) => text;
  md.validateLink = (url: string) => isAllowedLink(url);
  md.block.ruler.before("lheading", "ph_component", componentBlock, {
    alt: ["paragraph", "reference", "blockquote", "list"],
  });
  md.block.ruler.before("lheading", "ph_empty_paragraph", emptyParagraphBlock);
  md.inline.ruler.before("autolink", "ph_tags", inlineTags);
  md.core.ruler.after("block", "ph_top_level_empty_paragraphs", topLevelEmptyParagraphs);
  md.core.ruler.after("ph_top_level_empty_paragraphs", "ph_task_lists", taskLists);
  md.core.ruler.after("ph_task_lists", "ph_table_cells", tableCellParagraphs);
  md.core.ruler.after("inline", "ph_image_blocks", imageBlocks);
  md.core.ruler.after("ph_image_blocks", "ph_inline_fixups", inlineFixups);
  return md;
}

let parser: MarkdownParser | undefined;
let unescapeAll: ((text: string) => string) | undefined;

function getParser(): MarkdownParser {
  if (parser) return parser;
  const md = createMarkdownIt();
  unescapeAll = md.utils.unescapeAll;
  const cell = { getAttrs: () => ({ colspan: 1, rowspan: 1, colwidth: null }) };
  parser = new MarkdownParser(getNotebookSchema(), md, {
    blockquote: { block: "blockquote" },
    paragraph: { block: "paragraph" },
    list_item: { block: "listItem" },
    bullet_list: { block: "bulletList" },
    ordered_list: { block: "orderedList", getAttrs: (tok) => ({ start: Number(tok.attrGet("start") ?? 1) }) },
    task_list: { block: "taskList" },
    task_item: { block: "taskItem", getAttrs: (tok) => ({ checked: tok.meta?.checked === true }) },
    heading: { block: "heading", getAttrs: (tok) => ({ level: Number(tok.tag.slice(1)) }) },
    code_block: { block: "codeBlock", noCloseToken: true },
    fence: {
      block: "codeBlock",
      noCloseToken: true,
      getAttrs: (tok) => ({ language: (unescapeAll?.(tok.info) ?? tok.info).trim() || null }),
    },
    hr: { node: "horizontalRule" },
    hardbreak: { node: "hardBreak" },
    // A newline inside a paragraph is a hard break in PostHog's grammar.
    softbreak: { node: "hardBreak" },
    table: { block: "table" },
    thead: { ignore: true },
    tbody: { ignore: true },
    tr: { block: "tableRow" },
    th: { block: "tableHeader", ...cell },
    td: { block: "tableCell", ...cell },
    ph_block: { node: "ph_block", getAttrs: (tok) => tok.meta },
    ph_inline: { node: "ph_inline", getAttrs: (tok) => tok.meta },
    raw_block: { node: "raw_block", getAttrs: (tok) => tok.meta },
    raw_inline: { node: "raw_inline", getAttrs: (tok) => tok.meta },
    em: { mark: "italic" },
    strong: { mark: "bold" },
    s: { mark: "strike" },
    underline: { mark: "underline" },
    comment: {
      mark: "comment",
      getAttrs: (tok) => {
        const { id, ...extra } = (tok.meta?.attrs ?? {}) as Record<string, unknown>;
        return { id: id ?? null, extra: Object.keys(extra).length > 0 ? extra : null };
      },
    },
    link: { mark: "link", getAttrs: (tok) => ({ href: tok.attrGet("href") }) },
    code_inline: { mark: "code", noCloseToken: true },
  });
  return parser;
}

/**
 * PostHog notebook Markdown → a v1 TipTap document (`{type: "doc", content: [...]}`) with
 * PostHog's node and mark names and TipTap's attribute defaults.
 */
export function markdownToDoc(md: string): DocJSON {
  const doc = getParser().parse(md);
  const content: NodeJSON[] = [];
  doc.forEach((child) => {
    content.push(toNotebookJSON(child));
  });
  return { type: "doc", content };
}
