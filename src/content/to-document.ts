/**
 * PostHog notebook Markdown → a v1 (TipTap JSON) document, as PostHog's own downgrade makes it
 * (`convertMarkdownToNotebookContent` in frontend/src/scenes/notebooks/Notebook/
 * markdownNotebookDowngrade.ts), and what it could not understand, line by line: tags it does not
 * know, props that are not JSON, required props left out, links it cannot keep, tags inside a
 * line, blocks it drops.
 *
 * One difference, on purpose: with `inlineTags` (what this server's v1 writes use), a
 * `<ReplayTimestamp …/>` or `<Backlink …/>` inside a line is that node, where PostHog reads text.
 */

import { type Block, type BlockIssue, parseBlocks } from "./markdown/blocks.js";
import { type Inline, type Mark, parseInline } from "./markdown/inline.js";
import { componentTag, type Props } from "./markdown/props.js";
import { type DocJSON, type MarkJSON, type NodeJSON, plainObject } from "./nodes.js";
import {
  COMMENT_TAG,
  DIVIDER_TAG,
  DROPPED_TAGS,
  IMAGE_TAG,
  INLINE_TAGS,
  KNOWN_TAGS,
  REQUIRED_PROPS,
  TAG_TO_NODE_TYPE,
  UNKNOWN_NODE_TAG,
} from "./tags.js";

export interface Diagnostic {
  /** 1-based line in the Markdown that was written. */
  line: number;
  /** What could not be understood, and what was stored instead. */
  message: string;
}

export interface ConversionOptions {
  /** Read `<ReplayTimestamp …/>` and `<Backlink …/>` inside a line (this server's v1 grammar). */
  inlineTags?: boolean;
}

export interface Converted {
  doc: DocJSON;
  diagnostics: Diagnostic[];
}

function v1Marks(marks: readonly Mark[]): MarkJSON[] {
  const out: MarkJSON[] = [];
  for (const mark of marks) {
    if (mark.type === "mention") continue;
    if (mark.type === "link") out.push({ type: "link", attrs: { href: mark.href } });
    else if (mark.type === "ref") out.push({ type: "comment", attrs: { id: mark.id } });
    else out.push({ type: mark.type });
  }
  return out;
}

function mentionId(marks: readonly Mark[] | undefined): number | null {
  const mention = marks?.find((mark) => mark.type === "mention");
  if (mention?.type !== "mention") return null;
  const id = Number(mention.id);
  return Number.isFinite(id) ? id : null;
}

function inlineNodes(
  nodes: readonly Inline[],
  line: number,
  report: (line: number, message: string) => void,
): NodeJSON[] {
  const out: NodeJSON[] = [];
  let lineAt = line;
  let lastMention: { at?: number } | undefined;
  for (const node of nodes) {
    if (node.type === "hardBreak") {
      out.push({ type: "hardBreak" });
      lineAt++;
      continue;
    }
    if (node.type === "component") {
      const type = TAG_TO_NODE_TYPE[node.tag] as string;
      missingProps(node.tag, node.props, lineAt, report);
      const atom: NodeJSON = { type, attrs: { ...node.props } };
      const marks = v1Marks(node.marks ?? []);
      if (marks.length > 0) atom.marks = marks;
      out.push(atom);
      continue;
    }
    const mention = node.marks?.find((mark) => mark.type === "mention");
    if (mention && mention.type === "mention") {
      const id = mentionId(node.marks);
      if (id !== null) {
        // One tag whose text is cut in runs (marks inside it) is one mention.
        if (out[out.length - 1]?.type !== "ph-mention" || lastMention?.at !== mention.at) {
          out.push({ type: "ph-mention", attrs: { id } });
        }
        lastMention = mention;
        continue;
      }
      report(
        lineAt,
        `a mention with id ${JSON.stringify(mention.id)}, which is not a member's number: stored as its text`,
      );
    }
    const text: NodeJSON = { type: "text", text: node.text };
    const marks = v1Marks(node.marks ?? []);
    if (marks.length > 0) text.marks = marks;
    out.push(text);
  }
  return out;
}

/** Inline Markdown as the nodes this server's v1 writes make of it (for checking what a writer wrote). */
export function inlineMarkdownNodes(markdown: string): NodeJSON[] {
  return inlineNodes(parseInline(markdown, { inlineTags: INLINE_TAGS }).nodes, 1, () => {});
}

function paragraph(content: NodeJSON[]): NodeJSON {
  return content.length > 0 ? { type: "paragraph", content } : { type: "paragraph" };
}

function missingProps(
  tag: string,
  props: Props,
  line: number,
  report: (line: number, message: string) => void,
): void {
  for (const alternatives of REQUIRED_PROPS[tag] ?? []) {
    if (alternatives.some((name) => props[name] !== undefined && props[name] !== null && props[name] !== ""))
      continue;
    report(
      line,
      `<${tag}> without ${alternatives.map((name) => `"${name}"`).join(" or ")}: stored without it, so PostHog has nothing to show`,
    );
  }
}

/** Edit distance, for suggesting the tag that was probably meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length] as number;
}

function suggestion(tag: string): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of KNOWN_TAGS) {
    const d = distance(tag.toLowerCase(), known.toLowerCase());
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean <${best}>?)` : "";
}

/**
 * The lines of Markdown, and where its top-level blocks lie as a conversion with these options
 * reads them (found without reading the blocks' text). Reading a block looks at no line past its
 * own, so Markdown cut where blocks start reads, piece by piece, as it reads whole.
 */
export function blockStartLines(
  markdown: string,
  options: ConversionOptions = {},
): { lines: string[]; blocks: readonly Block[] } {
  const parsed = parseBlocks(markdown, {
    ...(options.inlineTags ? { inlineTags: INLINE_TAGS } : {}),
    outline: true,
  });
  return { lines: parsed.lines, blocks: parsed.blocks };
}

/** Converts each block; lists can become several sibling lists. */
export function markdownToDocument(markdown: string, options: ConversionOptions = {}): Converted {
  const parsed = parseBlocks(markdown, options.inlineTags ? { inlineTags: INLINE_TAGS } : {});
  const diagnostics: Diagnostic[] = parsed.issues.map((issue: BlockIssue) => ({
    line: issue.line,
    message: issueMessage(issue.message),
  }));
  const report = (line: number, message: string) => diagnostics.push({ line, message });
  const content: NodeJSON[] = [];
  for (const block of parsed.blocks) content.push(...blockNodes(block, report, options));
  for (const block of parsed.blocks) tagsInsideLines(block, options, report);
  diagnostics.sort((a, b) => a.line - b.line);
  return { doc: { type: "doc", content }, diagnostics };
}

function issueMessage(message: string): string {
  if (message.startsWith("a link to ")) return `${message}: stored as its text, without the link`;
  if (message.startsWith("a code block")) return message;
  return `${message}: stored as text`;
}

function blockNodes(
  block: Block,
  report: (line: number, message: string) => void,
  options: ConversionOptions,
): NodeJSON[] {
  const line = block.line + 1;
  switch (block.type) {
    case "paragraph":
      return [paragraph(inlineNodes(block.children, line, report))];
    case "heading": {
      const content = inlineNodes(block.children, line, report);
      return [
        content.length > 0
          ? { type: "heading", attrs: { level: block.level }, content }
          : { type: "heading", attrs: { level: block.level } },
      ];
    }
    case "blockquote": {
      if (block.blocks) {
        const content = block.blocks.flatMap((inner) => blockNodes(inner, report, options));
        return [{ type: "blockquote", content: content.length > 0 ? content : [paragraph([])] }];
      }
      return [{ type: "blockquote", content: [paragraph(inlineNodes(block.children, line, report))] }];
    }
    case "code": {
      const attrs = { language: block.language ?? null };
      return [
        block.text
          ? { type: "codeBlock", attrs, content: [{ type: "text", text: block.text }] }
          : { type: "codeBlock", attrs },
      ];
    }
    case "table": {
      const row = (cells: Inline[][], kind: string, at: number): NodeJSON => ({
        type: "tableRow",
        content: cells.map((cell) => ({ type: kind, content: [paragraph(inlineNodes(cell, at, report))] })),
      });
      return [
        {
          type: "table",
          content: [
            row(block.headers, "tableHeader", line),
            ...block.rows.map((cells, i) => row(cells, "tableCell", line + 2 + i)),
          ],
        },
      ];
    }
    case "list": {
      const roots = listNodes(block, report);
      return block.blockquote ? (roots.length > 0 ? [{ type: "blockquote", content: roots }] : []) : roots;
    }
    case "component":
      return componentNodes(block, report, options);
  }
}

function listNodes(
  block: Extract<Block, { type: "list" }>,
  report: (line: number, message: string) => void,
): NodeJSON[] {
  const roots: NodeJSON[] = [];
  const stack: NodeJSON[] = [];
  const makeList = (ordered: boolean, start: number | undefined, task: boolean): NodeJSON => {
    if (!ordered && task) return { type: "taskList", content: [] };
    if (ordered) {
      return start !== undefined && start !== 1
        ? { type: "orderedList", attrs: { start }, content: [] }
        : { type: "orderedList", content: [] };
    }
    return { type: "bulletList", content: [] };
  };
  const attach = (list: NodeJSON) => {
    const top = stack[stack.length - 1];
    const item = top?.content?.[top.content.length - 1];
    if (top && item) {
      item.content ??= [];
      item.content.push(list);
    } else roots.push(list);
    stack.push(list);
  };
  for (const item of block.items) {
    const task = !item.ordered && item.checked !== undefined;
    const depth = Math.max(0, item.depth);
    while (stack.length - 1 > depth) stack.pop();
    if (stack.length === 0) attach(makeList(block.ordered, block.start, task));
    while (stack.length - 1 < depth) {
      const top = stack[stack.length - 1] as NodeJSON;
      if ((top.content ?? []).length === 0) break;
      attach(makeList(item.ordered, item.start, task));
    }
    if (((stack[stack.length - 1] as NodeJSON).type === "taskList") !== task) {
      stack.pop();
      attach(makeList(item.ordered, item.start, task));
    }
    const content = inlineNodes(item.children, item.line + 1, report);
    const node: NodeJSON = task
      ? { type: "taskItem", attrs: { checked: item.checked ?? false }, content: [paragraph(content)] }
      : { type: "listItem", content: [paragraph(content)] };
    const top = stack[stack.length - 1] as NodeJSON;
    top.content ??= [];
    top.content.push(node);
  }
  return roots;
}

function textParagraph(text: string, collapse: boolean): NodeJSON {
  const content: NodeJSON[] = [];
  text.split("\n").forEach((part, index) => {
    if (index > 0 && !(collapse && content[content.length - 1]?.type === "hardBreak"))
      content.push({ type: "hardBreak" });
    if (part) content.push({ type: "text", text: part });
  });
  return paragraph(content);
}

/** PostHog's Markdown has a chat component with no v1 node: PostHog keeps it as its text. */
const CHAT_TAG = "Chat";

function componentNodes(
  block: Extract<Block, { type: "component" }>,
  report: (line: number, message: string) => void,
  options: ConversionOptions,
): NodeJSON[] {
  const line = block.line + 1;
  const { tagName: tag, props } = block;
  if (tag === DIVIDER_TAG) return [{ type: "horizontalRule" }];
  if (tag === COMMENT_TAG) {
    // A discussion thread (`ref`, `replies`) lives in PostHog's comments, not in the document.
    if (typeof props.ref === "string" || Array.isArray(props.replies)) return [];
    return typeof props.text === "string" && props.text !== "" ? [textParagraph(props.text, false)] : [];
  }
  if (DROPPED_TAGS.has(tag)) {
    report(line, `<${tag}> is not kept in a v1 notebook: dropped`);
    return [];
  }
  for (const prop of block.notJson ?? []) {
    report(
      line,
      `the ${prop} prop of <${tag}> is not JSON: stored as the text ${JSON.stringify(props[prop])}`,
    );
  }
  if (block.errors && (tag === UNKNOWN_NODE_TAG || TAG_TO_NODE_TYPE[tag])) {
    const read = Object.keys(props);
    report(
      line,
      `could not read all the props of <${tag}> (${block.errors.join("; ")}): stored with ${read.length > 0 ? `only ${read.join(", ")}` : "none"}`,
    );
  }
  if (tag === IMAGE_TAG) {
    missingProps(tag, props, line, report);
    return [
      {
        type: "ph-image",
        attrs: {
          src: typeof props.src === "string" ? props.src : "",
          alt: typeof props.alt === "string" ? props.alt : "",
        },
      },
    ];
  }
  if (tag === UNKNOWN_NODE_TAG && typeof props.nodeType === "string") {
    const { nodeType, ...attrs } = props;
    return [{ type: nodeType, attrs: plainObject(Object.entries(attrs)) }];
  }
  const type = TAG_TO_NODE_TYPE[tag];
  if (type) {
    missingProps(tag, props, line, report);
    // An inline node on a line of its own sits in a paragraph (where PostHog would leave a
    // paragraph's node among the blocks).
    if (options.inlineTags && INLINE_TAGS.has(tag))
      return [{ type: "paragraph", content: [{ type, attrs: { ...props } }] }];
    const attrs: Record<string, unknown> = { ...props };
    if (typeof props.hideFilters !== "boolean" && typeof props.edit !== "boolean") attrs.edit = true;
    return [{ type, attrs }];
  }
  // A tag PostHog does not know: kept as a paragraph of its text.
  const text = block.errors && block.raw ? block.raw : componentTag(tag, props);
  report(
    line,
    tag === UNKNOWN_NODE_TAG
      ? `<UnknownNode> without a nodeType: stored as text`
      : tag === CHAT_TAG
        ? "<Chat> (a PostHog AI chat) has no node in a v1 notebook, as in PostHog's own conversion: stored as its text"
        : `<${tag}> is not a PostHog component${suggestion(tag)}: stored as text`,
  );
  return [textParagraph(text, true)];
}

const TAG_IN_TEXT = /<([A-Z][A-Za-z0-9]*)(?=[\s/>])/g;
const TAG_START = /<[A-Z]/;

/** Component tags left inside lines of text (PostHog reads a tag only on a line of its own). */
function tagsInsideLines(
  block: Block,
  options: ConversionOptions,
  report: (line: number, message: string) => void,
): void {
  const check = (nodes: readonly Inline[], line: number) => {
    let at = line;
    for (const node of nodes) {
      if (node.type === "hardBreak") at++;
      if (
        node.type !== "text" ||
        !TAG_START.test(node.text) ||
        node.marks?.some((mark) => mark.type === "code")
      )
        continue;
      for (const match of node.text.matchAll(TAG_IN_TEXT)) {
        const tag = match[1] as string;
        if (!KNOWN_TAGS.has(tag) || tag === COMMENT_TAG) continue;
        const inline = options.inlineTags && INLINE_TAGS.has(tag);
        report(
          at,
          `<${tag}> inside a line of text is not read as a component${inline ? " (its props could not be read)" : ""}: stored as text; put a component tag on a line of its own`,
        );
      }
    }
  };
  const line = block.line + 1;
  if (block.type === "paragraph" && block.fallback) return;
  if (block.type === "blockquote" && block.blocks) {
    for (const inner of block.blocks) tagsInsideLines(inner, options, report);
  } else if (block.type === "paragraph" || block.type === "heading" || block.type === "blockquote")
    check(block.children, line);
  else if (block.type === "list") for (const item of block.items) check(item.children, item.line + 1);
  else if (block.type === "table") {
    for (const cell of block.headers) check(cell, line);
    block.rows.forEach((row, i) => {
      for (const cell of row) check(cell, line + 2 + i);
    });
  }
}
