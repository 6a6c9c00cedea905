/**
 * Markdown ↔ notebook content, for both PostHog formats:
 * v1 (TipTap JSON) and v2 (one `ph-markdown-notebook` node holding the whole notebook as Markdown).
 */

import {
  type DocJSON,
  isNodeJSON,
  isRecord,
  MARKDOWN_NOTEBOOK_NODE_ID,
  MARKDOWN_NOTEBOOK_NODE_TYPE,
  markdownNotebookNode,
  type NodeJSON,
} from "./json.js";
import { markdownToDoc } from "./markdown-parse.js";

export { markdownToDoc } from "./markdown-parse.js";
export { docToMarkdown } from "./markdown-serialize.js";
export { normalizeDoc } from "./normalize.js";

/** Whether `content` is a v2 notebook: exactly one `ph-markdown-notebook` node. */
export function isMarkdownNotebook(content: unknown): boolean {
  return markdownNotebookNode(content) !== null;
}

/** A v2 notebook document holding `md`. */
export function markdownNotebook(md: string, nodeId: string = MARKDOWN_NOTEBOOK_NODE_ID): DocJSON {
  return {
    type: "doc",
    content: [{ type: MARKDOWN_NOTEBOOK_NODE_TYPE, attrs: { nodeId, markdown: md } }],
  };
}

function isEmptyContent(content: unknown): boolean {
  if (content === null || content === undefined) return true;
  if (Array.isArray(content)) return content.length === 0;
  if (!isRecord(content)) return false;
  if (Object.keys(content).length === 0) return true;
  return (
    content.type === "doc" &&
    (content.content === undefined || (Array.isArray(content.content) && content.content.length === 0))
  );
}

/**
 * Append Markdown to notebook content.
 * - v2: the Markdown is appended to `attrs.markdown` after a blank line (blank parts are skipped,
 *   as PostHog's `appendMarkdownNotebookBlock` does); the nodeId is kept.
 * - v1: the Markdown is parsed and its blocks are appended; existing nodes are left exactly as they
 *   were (unknown attributes included).
 * - null / empty content: a new v1 document.
 * `prepare` sees the parsed addition before it is appended (the server cleans it there).
 * Throws a TypeError for content that is not a notebook document.
 */
export function appendMarkdown(
  content: unknown,
  md: string,
  prepare: (added: DocJSON) => DocJSON = (d) => d,
): unknown {
  const v2 = markdownNotebookNode(content);
  if (v2) {
    const previous = typeof v2.attrs?.markdown === "string" ? v2.attrs.markdown : "";
    const nodeId = typeof v2.attrs?.nodeId === "string" ? v2.attrs.nodeId : MARKDOWN_NOTEBOOK_NODE_ID;
    return markdownNotebook([previous, md].filter((part) => part.trim() !== "").join("\n\n"), nodeId);
  }
  const added = prepare(markdownToDoc(md)).content;
  if (isEmptyContent(content)) {
    const base = isRecord(content) && content.type === "doc" ? content : {};
    return { ...base, type: "doc", content: added };
  }
  if (Array.isArray(content)) {
    return { type: "doc", content: [...content.filter(isNodeJSON), ...added] };
  }
  if (isRecord(content) && content.type === "doc" && Array.isArray(content.content)) {
    return { ...content, content: [...(content.content as NodeJSON[]), ...added] };
  }
  throw new TypeError("content is not a notebook document");
}
