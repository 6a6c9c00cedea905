/**
 * `text_content` exactly as PostHog's web editor derives it.
 *
 * PostHog (frontend/src/scenes/notebooks/utils.ts `textContent`) calls TipTap's
 * `getText(doc, { blockSeparator: "\n", textSerializers })`, whose walk is:
 * 1. every block node except the one at the very first position emits "\n" first (nested blocks
 *    included: list items, their paragraphs, table rows and cells, blockquotes);
 * 2. a node with a text serializer emits the serializer's output and its children are skipped;
 * 3. a text node emits its text; nothing else (a hardBreak included) contributes.
 * Every PostHog node type has the same serializer: `serializedText(attrs) || attrs.title || ""`,
 * with "\n" appended when the result is non-empty and does not already end in one. Here that
 * serializer applies to every `ph-*` type (PostHog maps every type it knows); the node-specific
 * `serializedText` functions are below. For a v2 document the text content is its Markdown.
 */

import { childNodes, isRecord, markdownNotebookNode, type NodeJSON } from "./nodes.js";
import { INLINE_NODE_TYPES } from "./tags.js";

const TEXTBLOCKS = new Set(["paragraph", "heading", "codeBlock"]);

const MS_SECOND = 1000;
const MS_MINUTE = 60 * MS_SECOND;
const MS_HOUR = 60 * MS_MINUTE;
const MS_DAY = 24 * MS_HOUR;
const MS_YEAR = 365 * MS_DAY;
const MS_MONTH = MS_YEAR / 12;

function truncate(n: number): number {
  return n < 0 ? Math.ceil(n) : Math.floor(n);
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** dayjs.duration(ms).format("HH:mm:ss") with a leading "00:" dropped (PostHog's formatTimestamp). */
export function formatTimestamp(ms: number): string {
  let rest = ((ms % MS_YEAR) % MS_MONTH) % MS_DAY;
  const hours = truncate(rest / MS_HOUR);
  rest %= MS_HOUR;
  const minutes = truncate(rest / MS_MINUTE);
  rest %= MS_MINUTE;
  const seconds = truncate(rest / MS_SECOND);
  return `${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}`.replace(/^00:/, "").trim();
}

type Attrs = Record<string, unknown>;

function kindOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value.kind === "string" ? value.kind : undefined;
}

const NODES_WITH_SOURCE = new Set(["DataTableNode", "DataVisualizationNode", "InsightVizNode"]);

function hogQLText(query: unknown): unknown {
  if (!isRecord(query)) return "";
  if (kindOf(query) === "HogQLQuery") return query.query;
  if (NODES_WITH_SOURCE.has(kindOf(query) ?? "") && kindOf(query.source) === "HogQLQuery") {
    return (query.source as Attrs).query;
  }
  return "";
}

function titleAndId(attrs: Attrs): string {
  return `${String(attrs.title || "")} ${String(attrs.id || "")}`.trim();
}

/** Node-specific `serializedText` of PostHog's nodes (absent: the title alone is used). */
const SERIALIZED_TEXT: Readonly<Record<string, (attrs: Attrs) => unknown>> = {
  "ph-query": (attrs) => hogQLText(attrs.query),
  "ph-recording": (attrs) => attrs.id,
  "ph-recording-playlist": () => "Recording playlist",
  "ph-person": titleAndId,
  "ph-group": titleAndId,
  "ph-cohort": titleAndId,
  "ph-image": (attrs) => (isRecord(attrs.file) ? attrs.file.name : undefined) || "",
  "ph-embed": (attrs) => `(embedded iframe:${String(attrs.src)})`,
  "ph-latex": (attrs) => attrs.content,
  "ph-python": (attrs) => attrs.code || "",
  "ph-duck-sql": (attrs) => attrs.code,
  "ph-hogql-sql": (attrs) => attrs.code,
  "ph-replay-timestamp": (attrs) =>
    `${attrs.playbackTime ? formatTimestamp(Number(attrs.playbackTime)) : "00:00"}:\n`,
  "ph-mention": (attrs) => `(member:${String(attrs.id)})`,
};

/** PostHog's `customOrTitleSerializer`: the text one PostHog node gives text_content. */
export function serializeNode(node: NodeJSON): string {
  const attrs: Attrs = isRecord(node.attrs) ? node.attrs : {};
  const value = SERIALIZED_TEXT[node.type]?.(attrs) || attrs.title || "";
  if (typeof value === "string" && value.length > 0 && !value.endsWith("\n")) return `${value}\n`;
  return String(value);
}

function hasSerializer(type: string): boolean {
  return type.startsWith("ph-");
}

/** Whether a node's children are inline (it is a textblock), as ProseMirror would have it. */
function holdsInline(node: NodeJSON, children: NodeJSON[]): boolean {
  if (TEXTBLOCKS.has(node.type)) return true;
  return children.some(
    (child) =>
      child.type === "text" ||
      child.type === "hardBreak" ||
      child.type === "ph-mention" ||
      INLINE_NODE_TYPES.has(child.type),
  );
}

/**
 * The `text_content` PostHog's web editor would save for `content`: TipTap's getText walk for a v1
 * document, the Markdown itself for a v2 document, and "" for null or invalid content.
 */
export function deriveTextContent(content: unknown): string {
  const v2 = markdownNotebookNode(content);
  if (v2) {
    const markdown = v2.attrs?.markdown;
    return typeof markdown === "string" ? markdown : "";
  }
  if (!isRecord(content)) return "";
  let text = "";
  let first = true;
  const walk = (nodes: NodeJSON[], inline: boolean): void => {
    for (const node of nodes) {
      if (!inline) {
        if (!first) text += "\n";
      }
      first = false;
      if (hasSerializer(node.type)) {
        text += serializeNode(node);
        continue;
      }
      if (node.type === "text") {
        if (typeof node.text === "string") text += node.text;
        continue;
      }
      const children = childNodes(node);
      walk(children, holdsInline(node, children));
    }
  };
  const top = childNodes(content);
  walk(top, false);
  return text;
}
