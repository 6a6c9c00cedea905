/**
 * A v1 (TipTap JSON) notebook → PostHog's notebook Markdown, as PostHog's own converter writes it
 * (`convertNotebookContentToMarkdown` in frontend/src/scenes/notebooks/Notebook/markdownNotebookV2.ts,
 * the conversion PostHog runs when it moves a notebook to v2), block by block: each top-level node's
 * Markdown is kept apart, so that a write can tell which blocks an agent changed.
 *
 * Two differences, on purpose, both so that a block an agent edits keeps what it had:
 * - a replay timestamp or a backlink inside a paragraph is written as its tag inside the line
 *   (PostHog's converter leaves it out, and its grammar reads tags only on their own line);
 * - an ordered list is numbered from its `start` (PostHog's always counts from 1, though its
 *   Markdown → v1 conversion reads the start).
 */

import {
  codeFence,
  escapeAll,
  escapeBlockLines,
  escapeCodeSpan,
  escapeImageAlt,
  escapeImageSrc,
  escapeInline,
  sanitizeHref,
} from "./markdown/escape.js";
import { componentTag } from "./markdown/props.js";
import { corresponds, sameInline } from "./merge.js";
import { childNodes, isNodeJSON, isRecord, markdownNotebookNode, type NodeJSON } from "./nodes.js";
import { IMAGE_TAG, INLINE_NODE_TYPES, NODE_TYPE_TO_TAG, UNKNOWN_NODE_TAG } from "./tags.js";
import { inlineMarkdownNodes, markdownToDocument } from "./to-document.js";

const ALIASES: ReadonlyMap<string, string> = new Map([
  ["bullet_list", "bulletList"],
  ["ordered_list", "orderedList"],
  ["list_item", "listItem"],
  ["code_block", "codeBlock"],
  ["table_row", "tableRow"],
  ["table_cell", "tableCell"],
  ["table_header", "tableHeader"],
]);

const LISTS = new Set(["bulletList", "orderedList", "taskList"]);

function typeOf(node: NodeJSON | undefined): string {
  const type = node?.type ?? "";
  return ALIASES.get(type) ?? type;
}

/** Indentation of nested list items, by depth. */
const INDENTS: string[] = [];
function indentOf(depth: number): string {
  INDENTS[depth] ??= "  ".repeat(depth);
  return INDENTS[depth] as string;
}

function attrsOf(node: NodeJSON): Record<string, unknown> {
  return isRecord(node.attrs) ? node.attrs : {};
}

/** Attributes as props: JSON-encoded strings revived, values normalised through JSON, unwritable ones left out. */
function serializableAttrs(attrs: Record<string, unknown>): Record<string, unknown> {
  const out: [string, unknown][] = [];
  for (const [key, raw] of Object.entries(attrs)) {
    let value = raw;
    if (typeof value === "string") {
      const trimmed = value.trim();
      if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        try {
          const parsed: unknown = JSON.parse(trimmed);
          if (parsed !== null && typeof parsed === "object") value = parsed;
        } catch {
          // a string after all
        }
      }
    }
    const json = JSON.stringify(value);
    if (json === undefined) continue;
    out.push([key, JSON.parse(json)]);
  }
  return Object.fromEntries(out);
}

/** Legacy widgets open with their filters hidden: `hideFilters` unless a panel prop says otherwise. */
function defaultFilters(props: Record<string, unknown>): Record<string, unknown> {
  if (typeof props.hideFilters === "boolean" || typeof props.edit === "boolean") return props;
  return { ...props, hideFilters: true };
}

function unknownNode(node: NodeJSON): string {
  const props = { nodeType: node.type, ...serializableAttrs(attrsOf(node)) };
  props.nodeType = node.type;
  return componentTag(UNKNOWN_NODE_TAG, props);
}

function component(tag: string, props: Record<string, unknown>): string {
  if (tag === IMAGE_TAG) {
    const alt = typeof props.alt === "string" ? props.alt : "";
    const src = typeof props.src === "string" ? props.src : "";
    return `![${escapeImageAlt(alt)}](${escapeImageSrc(src)})`;
  }
  return componentTag(tag, props);
}

export interface ToMarkdownOptions {
  /** Labels of mentioned members, by member id (unknown members read `@member`). */
  mentionLabel?: (memberId: number) => string | null | undefined;
  /** The replies of each comment thread, by comment-mark id (none known: `[]`). */
  commentReplies?: Readonly<Record<string, unknown[]>>;
}

class Writer {
  constructor(private readonly options: ToMarkdownOptions) {}

  /**
   * Inline content as PostHog writes it, checked: what this server reads back must be the same
   * characters, atoms and marks. Where PostHog's form would read back otherwise (bold italic as
   * `***`, a mark ending in a space, a run of `~` inside a strike…), the careful form is written:
   * every syntax character escaped, italic inside bold as `_…_`, spaces at a mark's edges outside
   * it. Whatever reads back with the right characters wins, so an edit never turns text into other
   * text.
   */
  inlineContent(nodes: readonly NodeJSON[] | undefined): string {
    const list = (nodes ?? []).filter(isNodeJSON);
    const plain = list.map((node) => this.inline(node, false)).join("");
    if (!MAYBE_SYNTAX.test(plain)) return plain;
    const plainBack = inlineMarkdownNodes(plain);
    if (sameInline(list, plainBack, true)) return plain;
    const careful = list.map((node) => this.inline(node, true)).join("");
    const carefulBack = inlineMarkdownNodes(careful);
    if (sameInline(list, carefulBack, true)) return careful;
    // Neither keeps every mark: the one that loses marks only on spaces, else the one whose
    // characters read back (the merge keeps the stored marks on an edit).
    if (sameInline(list, plainBack, "but-spaces")) return plain;
    if (sameInline(list, carefulBack, "but-spaces")) return careful;
    return sameInline(list, plainBack, false) || !sameInline(list, carefulBack, false) ? plain : careful;
  }

  inline(node: NodeJSON, careful = false): string {
    const type = typeOf(node);
    let out: string;
    if (type === "text") {
      const text = typeof node.text === "string" ? node.text : "";
      const marks = node.marks ?? [];
      if (marks.some((mark) => mark.type === "code")) {
        out = escapeCodeSpan(text);
        for (const mark of marks) out = wrap(out, mark);
      } else if (careful) out = carefulText(text, marks);
      else {
        out = escapeInline(text);
        for (const mark of marks) out = wrap(out, mark);
      }
    } else if (type === "hardBreak") out = "\n";
    else if (type === "ph-mention") out = this.mention(node);
    else if (INLINE_NODE_TYPES.has(type)) {
      out = componentTag(NODE_TYPE_TO_TAG[type] as string, serializableAttrs(attrsOf(node)));
      for (const mark of node.marks ?? []) if (mark.type !== "code") out = wrap(out, mark);
    } else return this.inlineContent(node.content);
    for (const mark of node.marks ?? []) {
      if (mark.type === "comment" && typeof mark.attrs?.id === "string" && mark.attrs.id !== "") {
        out = `<ref id=${JSON.stringify(mark.attrs.id)}>${out}</ref>`;
      }
    }
    return out;
  }

  mention(node: NodeJSON): string {
    const attrs = attrsOf(node);
    const id = typeof attrs.id === "number" ? attrs.id : undefined;
    const own = typeof attrs.label === "string" && attrs.label.trim() !== "" ? attrs.label.trim() : undefined;
    const label = own ?? (id !== undefined ? this.options.mentionLabel?.(id) : undefined) ?? "@member";
    const display = label.startsWith("@") ? label : `@${label}`;
    if (id === undefined) return escapeInline(display);
    return `<mention id=${JSON.stringify(String(id))}>${escapeInline(display)}</mention>`;
  }

  block(node: NodeJSON, depth: number): string {
    const type = typeOf(node);
    const attrs = attrsOf(node);
    switch (type) {
      case "text":
        return escapeBlockLines(this.inline(node));
      case "heading": {
        const level = typeof attrs.level === "number" ? Math.min(Math.max(attrs.level, 1), 6) : 1;
        // One line, as list items and cells are: a hard break is a space (as a line break, the
        // rest would read as a paragraph of its own).
        const text = this.inlineContent(node.content).replace(/\n/g, " ");
        return `${"#".repeat(Number.isNaN(level) ? 0 : Math.trunc(level))} ${text}`;
      }
      case "paragraph":
        return escapeBlockLines(this.inlineContent(node.content));
      case "blockquote":
        return this.quote(node, depth);
      case "bulletList":
      case "orderedList":
      case "taskList":
        return this.list(node, type === "orderedList", depth);
      case "horizontalRule":
        return "---";
      case "codeBlock": {
        const text = childNodes(node)
          .map((child) =>
            typeOf(child) === "hardBreak" ? "\n" : typeof child.text === "string" ? child.text : "",
          )
          .join("");
        const language = typeof attrs.language === "string" ? attrs.language : "";
        const fence = codeFence(text);
        return `${fence}${language}\n${text}\n${fence}`;
      }
      case "table":
        return this.table(node);
      case "ph-text":
        return typeof attrs.body === "string" ? attrs.body : unknownNode(node);
      case "ph-insight": {
        const shortId = typeof attrs.short_id === "string" ? attrs.short_id : attrs.id;
        if (typeof shortId !== "string" || shortId === "") return unknownNode(node);
        return componentTag("Query", { query: { kind: "SavedInsightNode", shortId }, hideFilters: true });
      }
      case "ph-dashboard": {
        if (typeof attrs.id !== "string" && typeof attrs.id !== "number") return unknownNode(node);
        return escapeBlockLines(escapeInline(`Dashboard ${String(attrs.id)}`));
      }
      case "query": {
        const props = serializableAttrs(attrs);
        const query = props.query;
        if (isRecord(query) && query.kind === "HogQLQuery") {
          props.query = { kind: "DataVisualizationNode", source: query };
        }
        return componentTag("Query", defaultFilters(props));
      }
      case "ph-link": {
        const href = typeof attrs.href === "string" ? attrs.href : undefined;
        const safe = href === undefined ? null : sanitizeHref(href);
        const label = this.inlineContent(node.content).trim();
        if (safe) return `[${label || escapeInline(safe)}](${safe})`;
        if (label) return label;
        if (href?.trim()) return escapeBlockLines(escapeInline(href.trim()));
        return unknownNode(node);
      }
      case "callout":
        return this.callout(node);
      default: {
        const tag = NODE_TYPE_TO_TAG[type];
        if (tag) return component(tag, defaultFilters(serializableAttrs(attrs)));
        const children = childNodes(node)
          .map((child) => this.block(child, depth))
          .filter((md) => md !== "")
          .join("\n\n");
        return children !== "" || !node.type ? children : unknownNode(node);
      }
    }
  }

  /** Whether a child's Markdown can sit inside a quote. */
  #quotable(node: NodeJSON, markdown: string): boolean {
    const type = typeOf(node);
    if (type === "paragraph" || type === "text") return true;
    if (type === "heading") return !markdown.includes("\n");
    if (LISTS.has(type)) return !markdown.includes("\n\n");
    return false;
  }

  /**
   * A quote as PostHog writes it (its lines each behind `> `) where that reads back as this quote;
   * else this server's form, which keeps every child inside the quote (cards, code, nested
   * quotes), children apart by a line of `>` alone.
   */
  quote(node: NodeJSON, depth: number): string {
    const parts = childNodes(node).map((child) => ({ child, md: this.block(child, depth) }));
    if (parts.every(({ child, md }) => this.#quotable(child, md))) {
      const posthog = parts
        .flatMap(({ md }) => md.split("\n"))
        .map((line) => `> ${line}`)
        .join("\n");
      if (corresponds([node], markdownToDocument(posthog, { inlineTags: true }).doc.content)) return posthog;
    }
    const inner = parts
      .map(({ md }) => md)
      .filter((md) => md.trim() !== "")
      .join("\n\n");
    return inner === ""
      ? ""
      : inner
          .split("\n")
          .map((line) => (line === "" ? ">" : `> ${line}`))
          .join("\n");
  }

  callout(node: NodeJSON): string {
    const attrs = attrsOf(node);
    const emoji =
      typeof attrs.emoji === "string" && attrs.emoji.trim() !== ""
        ? escapeInline(attrs.emoji.trim())
        : undefined;
    let placed = false;
    const blocks: string[] = [];
    let bodies: string[] = [];
    const flush = () => {
      if (bodies.length === 0) return;
      let body = bodies.join("\n\n");
      if (emoji && !placed) {
        body = `${emoji} ${body}`;
        placed = true;
      }
      blocks.push(
        body
          .split("\n")
          .map((line) => `> ${line}`)
          .join("\n"),
      );
      bodies = [];
    };
    for (const child of childNodes(node)) {
      const md = this.block(child, 0);
      if (md.trim() === "") continue;
      if (this.#quotable(child, md)) bodies.push(md);
      else {
        flush();
        blocks.push(md);
      }
    }
    flush();
    if (emoji && !placed) blocks.unshift(`> ${emoji}`);
    return blocks.length > 0 ? blocks.join("\n\n") : unknownNode(node);
  }

  list(node: NodeJSON, ordered: boolean, depth: number): string {
    const start =
      ordered && typeof node.attrs?.start === "number" && Number.isSafeInteger(node.attrs.start)
        ? node.attrs.start
        : 1;
    const blocks: string[] = [];
    let pending = "";
    const flush = () => {
      if (pending !== "") blocks.push(pending);
      pending = "";
    };
    const line = (text: string) => {
      pending = pending === "" ? text : `${pending}\n${text}`;
    };
    let index = 0;
    for (const item of Array.isArray(node.content) ? node.content : []) {
      if (!isNodeJSON(item)) continue;
      const itemType = typeOf(item);
      if (itemType !== "listItem" && itemType !== "taskItem") continue;
      const marker = ordered ? `${start + index}.` : "-";
      index++;
      const checkbox = itemType === "taskItem" ? (item.attrs?.checked ? "[x] " : "[ ] ") : "";
      const children = Array.isArray(item.content) ? item.content.filter(isNodeJSON) : [];
      const first = children.find((child) => typeOf(child) === "paragraph");
      let text = first ? this.inlineContent(first.content) : "";
      // One line: a hard break is a space (spaces beside it stay, so that the break lines up with
      // it on an edit; PostHog's converter also drops those).
      if (text.includes("\n")) text = text.replace(/\n/g, " ");
      const head = `${indentOf(depth)}${marker} ${checkbox}${text}`;
      line(/\s$/.test(head) ? head.trimEnd() : head);
      let extras: string[] | undefined;
      for (const child of children) {
        if (child === first) continue;
        const type = typeOf(child);
        if (LISTS.has(type)) {
          const nested = this.list(child, type === "orderedList", depth + 1);
          if (nested !== "") line(nested);
        } else {
          const md = this.block(child, 0);
          if (md.trim() !== "") {
            extras ??= [];
            extras.push(md);
          }
        }
      }
      if (extras) {
        flush();
        blocks.push(...extras);
      }
    }
    flush();
    return blocks.join("\n\n");
  }

  table(node: NodeJSON): string {
    const rows = childNodes(node).filter((row) => typeOf(row) === "tableRow");
    if (rows.length === 0) return "";
    const cells = rows.map((row) =>
      childNodes(row)
        .filter((cell) => typeOf(cell) === "tableCell" || typeOf(cell) === "tableHeader")
        .map((cell) =>
          childNodes(cell)
            .map((child) => this.block(child, 0))
            .join(" ")
            .replace(/\n/g, " ")
            .replace(/\\[\s\S]|\|/g, (match) => (match === "|" ? "\\|" : match)),
        ),
    );
    const columns = Math.max(...cells.map((row) => row.length));
    const line = (row: string[]) =>
      `| ${Array.from({ length: columns }, (_, i) => row[i] ?? "").join(" | ")} |`;
    const [header = [], ...body] = cells;
    return [line(header), line(Array.from({ length: columns }, () => "---")), ...body.map(line)].join("\n");
  }
}

/** Anything the inline parser could read as syntax (text without it reads back as itself). */
const MAYBE_SYNTAX = /[\\`*_~[\]<>|!]/;

/** The order careful text takes its marks in: italic innermost, so bold italic is `**_x_**`. */
const CAREFUL_ORDER = ["italic", "em", "bold", "strong", "strike", "underline", "link"];

/** Text escaped character by character, its marks around what is not space at its edges. */
function carefulText(
  text: string,
  marks: readonly { type: string; attrs?: Record<string, unknown> }[],
): string {
  const lead = /^\s*/.exec(text)?.[0] ?? "";
  const core = text.slice(lead.length).trimEnd();
  const trail = text.slice(lead.length + core.length);
  if (core === "") return escapeAll(text);
  let out = escapeAll(core);
  const sorted = [...marks].sort((a, b) => CAREFUL_ORDER.indexOf(a.type) - CAREFUL_ORDER.indexOf(b.type));
  const bold = marks.some((mark) => mark.type === "bold" || mark.type === "strong");
  for (const mark of sorted) {
    out = bold && (mark.type === "italic" || mark.type === "em") ? `_${out}_` : wrap(out, mark);
  }
  return `${escapeAll(lead)}${out}${escapeAll(trail)}`;
}

function wrap(text: string, mark: { type: string; attrs?: Record<string, unknown> }): string {
  switch (mark.type) {
    case "bold":
    case "strong":
      return `**${text}**`;
    case "italic":
    case "em":
      return `*${text}*`;
    case "underline":
      return `<u>${text}</u>`;
    case "strike":
      return `~~${text}~~`;
    case "code":
      return `\`${text}\``;
    case "link": {
      const href = typeof mark.attrs?.href === "string" ? sanitizeHref(mark.attrs.href) : null;
      return href ? `[${text}](${href})` : text;
    }
    default:
      return text;
  }
}

/** Every comment-mark id in a node and below it, in document order. */
function commentIds(node: NodeJSON, out: string[]): string[] {
  for (const mark of node.marks ?? []) {
    if (mark.type === "comment" && typeof mark.attrs?.id === "string" && mark.attrs.id !== "")
      out.push(mark.attrs.id);
  }
  for (const child of childNodes(node)) commentIds(child, out);
  return out;
}

export interface MarkdownUnit {
  /** The top-level node this Markdown was made from. */
  node: NodeJSON;
  /** Its Markdown ("" for a node PostHog's Markdown leaves out, such as an empty paragraph). */
  markdown: string;
}

/** The top-level nodes of a document, or of the other shapes PostHog's converter accepts. */
function topLevel(content: unknown): NodeJSON[] | string {
  let doc = content;
  if (typeof doc === "string") {
    const trimmed = doc.trim();
    if (!trimmed || !'{["'.includes(trimmed[0] as string)) return doc;
    try {
      doc = JSON.parse(trimmed) as unknown;
    } catch {
      return doc as string;
    }
    if (typeof doc === "string") {
      const inner = topLevel(doc);
      return typeof inner === "string" && inner === "" ? doc : inner;
    }
  }
  if (Array.isArray(doc)) doc = { type: "doc", content: doc };
  if (!isRecord(doc)) return typeof content === "string" ? content : "";
  return childNodes(doc);
}

/**
 * A v1 document's Markdown, top-level node by top-level node (each with the `<Comment …/>` lines
 * of the comment threads that first appear in it). A v2 document is its own Markdown, as one unit.
 */
export function documentUnits(content: unknown, options: ToMarkdownOptions = {}): MarkdownUnit[] | string {
  const v2 = markdownNotebookNode(content);
  if (v2) return typeof v2.attrs?.markdown === "string" ? v2.attrs.markdown : "";
  if (content === null || content === undefined) return "";
  const nodes = topLevel(content);
  if (typeof nodes === "string") return nodes;
  const writer = new Writer(options);
  const seen = new Set<string>();
  return nodes.map((node) => {
    const parts: string[] = [];
    for (const id of commentIds(node, [])) {
      if (seen.has(id)) continue;
      seen.add(id);
      parts.push(componentTag("Comment", { ref: id, replies: options.commentReplies?.[id] ?? [] }));
    }
    const md = writer.block(node, 0);
    if (md.trim() !== "") parts.push(md);
    return { node, markdown: parts.join("\n\n") };
  });
}

/** The Markdown of a whole document, as PostHog's converter writes it. */
export function documentToMarkdown(content: unknown, options: ToMarkdownOptions = {}): string {
  const units = documentUnits(content, options);
  if (typeof units === "string") return units;
  return units
    .map((unit) => unit.markdown)
    .filter((md) => md !== "")
    .join("\n\n");
}
