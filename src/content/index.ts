/**
 * Notebook content conversions (pure functions, no I/O): Markdown ↔ PostHog notebook documents
 * (v1 TipTap JSON and v2 Markdown notebooks) and PostHog's `text_content` derivation.
 * Import lazily; the Markdown parser is built on first use.
 */

export type { DocJSON, MarkJSON, NodeJSON } from "./json.js";
export { MARKDOWN_NOTEBOOK_NODE_ID, MARKDOWN_NOTEBOOK_NODE_TYPE } from "./json.js";
export {
  appendMarkdown,
  docToMarkdown,
  isMarkdownNotebook,
  markdownNotebook,
  markdownToDoc,
  normalizeDoc,
} from "./markdown.js";
export { sanitizeDocument } from "./sanitize.js";
export { getNotebookSchema } from "./schema.js";
export { NODE_TYPE_TO_TAG } from "./tags.js";
export { deriveTextContent } from "./text-content.js";
