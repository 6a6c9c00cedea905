/**
 * Plain JSON shapes of a TipTap/ProseMirror notebook document (PostHog's v1 format), and the few
 * guards the converters share. Everything here is data-only: no I/O, no module-level work.
 */

import { isRecord } from "../is-record.js";

export interface MarkJSON {
  type: string;
  attrs?: Record<string, unknown>;
}

export interface NodeJSON {
  type: string;
  attrs?: Record<string, unknown>;
  content?: NodeJSON[];
  marks?: MarkJSON[];
  text?: string;
}

export interface DocJSON {
  type: "doc";
  content: NodeJSON[];
}

export { isRecord };

export function isNodeJSON(value: unknown): value is NodeJSON {
  return isRecord(value) && typeof value.type === "string";
}

/** Children of a node that are themselves nodes; anything else in `content` is ignored. */
export function childNodes(node: unknown): NodeJSON[] {
  if (!isRecord(node) || !Array.isArray(node.content)) return [];
  return node.content.filter(isNodeJSON);
}

/** The node type of PostHog's v2 ("Markdown notebook") wrapper node. */
export const MARKDOWN_NOTEBOOK_NODE_TYPE = "ph-markdown-notebook";
/** PostHog always writes this nodeId for the v2 wrapper node. */
export const MARKDOWN_NOTEBOOK_NODE_ID = "markdown-notebook-v2";

/** The single `ph-markdown-notebook` node of a v2 document, or null for anything else. */
export function markdownNotebookNode(content: unknown): NodeJSON | null {
  if (!isRecord(content) || !Array.isArray(content.content) || content.content.length !== 1) return null;
  const only: unknown = content.content[0];
  return isNodeJSON(only) && only.type === MARKDOWN_NOTEBOOK_NODE_TYPE ? only : null;
}

/** Copy an object's own entries into a fresh plain object (keeps a literal `__proto__` key as data). */
export function plainObject(entries: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  return Object.fromEntries(entries) as Record<string, unknown>;
}

export type DocumentFormat = "v1" | "v2" | "empty" | "other";

/** The format of a document, told from its shape (no converter needed). */
export function formatOf(content: unknown): DocumentFormat {
  if (content === null || content === undefined) return "empty";
  if (markdownNotebookNode(content)) return "v2";
  const doc = content as { type?: unknown; content?: unknown } | null;
  return doc?.type === "doc" && Array.isArray(doc.content) ? "v1" : "other";
}
