/**
 * Notebook content conversions (pure functions, no I/O): PostHog's notebook Markdown ↔ v1 documents
 * (TipTap JSON), v2 (Markdown) notebooks, minimal write-back, and PostHog's `text_content`.
 * Loaded on first use.
 */

export type { DocJSON, MarkJSON, NodeJSON } from "./nodes.js";
export { MARKDOWN_NOTEBOOK_NODE_ID, MARKDOWN_NOTEBOOK_NODE_TYPE } from "./nodes.js";
export { sanitize, sanitizeDocument } from "./sanitize.js";
export { NODE_TYPE_TO_TAG } from "./tags.js";
export { deriveTextContent } from "./text-content.js";
export { documentTitle, withTitle } from "./title.js";
export { type Converted, type Diagnostic, markdownToDocument } from "./to-document.js";
export { documentToMarkdown, documentUnits, type MarkdownUnit } from "./to-markdown.js";
export {
  appendToDocument,
  checkMarkdown,
  documentFromMarkdown,
  markdownNotebook,
  markdownTitle,
  rewriteDocument,
  type WriteBack,
} from "./write-back.js";
export {
  cleanDocument,
  makeWrite,
  type Stored,
  shownMarkdown,
  storedValue,
  type WriteJob,
  type WriteMade,
  type WriteRequest,
} from "./write-job.js";
