/**
 * Notebook documents as the tools handle them: Markdown in (v1 for new notebooks, v2 kept v2),
 * Markdown out, text_content derived as PostHog's web editor derives it, and titles kept in step
 * with the first heading. The converters load on first use, so a server that never converts
 * never pays for them.
 */
import type { DocJSON, NodeJSON } from "../content/index.js";
import { stripInvisible } from "../content/invisible.js";
import { markdownNotebookNode } from "../content/json.js";
import type { Snapshot } from "./snapshots.js";

type ContentModule = typeof import("../content/index.js");
let loading: Promise<ContentModule> | undefined;

export function contentModule(): Promise<ContentModule> {
  loading ??= import("../content/index.js");
  return loading;
}

export type DocumentFormat = "v1" | "v2" | "empty" | "other";

/** The format of a document, told from its shape (no converter needed). */
export function formatOf(content: unknown): DocumentFormat {
  if (content === null || content === undefined) return "empty";
  if (markdownNotebookNode(content)) return "v2";
  const doc = content as { type?: unknown; content?: unknown };
  return doc.type === "doc" && Array.isArray(doc.content) ? "v1" : "other";
}

function headingText(node: NodeJSON | undefined): string | null {
  if (node?.type !== "heading") return null;
  const text = (node.content ?? [])
    .map((child) => (typeof child.text === "string" ? child.text : ""))
    .join("")
    .trim();
  return text || null;
}

/** The title PostHog's editor shows: the text of the document's leading heading. */
export function titleFromDocument(doc: DocJSON): string | null {
  return headingText(doc.content[0]);
}

/**
 * A new notebook's document from Markdown (v1, which every PostHog version opens). PostHog's
 * notebooks start with a heading holding the title: one is added when the Markdown has none.
 */
export async function newDocumentFromMarkdown(
  markdown: string,
  title: string | null | undefined,
): Promise<{ content: DocJSON; title: string | null }> {
  const { markdownToDoc, sanitizeDocument } = await contentModule();
  const doc = sanitizeDocument(markdownToDoc(markdown));
  const leading = titleFromDocument(doc);
  if (leading) return { content: doc, title: title ?? leading };
  if (!title) return { content: doc, title: null };
  const heading: NodeJSON = {
    type: "heading",
    attrs: { level: 1 },
    content: [{ type: "text", text: title }],
  };
  return { content: { type: "doc", content: [heading, ...doc.content] }, title };
}

/** Replaces a notebook's document with Markdown, keeping its format: v2 stays v2, anything else becomes v1. */
export async function replaceWithMarkdown(current: unknown, markdown: string): Promise<unknown> {
  const content = await contentModule();
  if (content.isMarkdownNotebook(current)) {
    const node = (current as DocJSON).content[0];
    const nodeId =
      typeof node?.attrs?.nodeId === "string" ? node.attrs.nodeId : content.MARKDOWN_NOTEBOOK_NODE_ID;
    return content.markdownNotebook(markdown, nodeId);
  }
  return content.sanitizeDocument(content.markdownToDoc(markdown));
}

/** Appends Markdown to a document (v1 blocks or v2 text); only the added part is cleaned. */
export async function appendToDocument(current: unknown, markdown: string): Promise<unknown> {
  const content = await contentModule();
  return content.appendMarkdown(current, markdown, content.sanitizeDocument);
}

/** The title a document implies, for keeping `title` in step as the web editor does. */
export async function impliedTitle(content: unknown): Promise<string | null> {
  const format = formatOf(content);
  if (format === "v2") {
    const node = (content as DocJSON).content[0];
    if (typeof node?.attrs?.markdown !== "string") return null;
    const { markdownToDoc } = await contentModule();
    return titleFromDocument(markdownToDoc(node.attrs.markdown));
  }
  return format === "v1" ? titleFromDocument(content as DocJSON) : null;
}

/**
 * A notebook's Markdown as agents are shown it (without invisible characters), made once per
 * snapshot: agents read the same notebook again and again while they work on it.
 */
export async function markdownOf(snapshot: Snapshot): Promise<string> {
  snapshot.markdown ??= stripInvisible(await toMarkdown(snapshot.notebook.content));
  return snapshot.markdown;
}

export async function toMarkdown(content: unknown): Promise<string> {
  if (content === null || content === undefined) return "";
  const { docToMarkdown } = await contentModule();
  return docToMarkdown(content);
}

export async function textContentOf(content: unknown): Promise<string> {
  const { deriveTextContent } = await contentModule();
  return deriveTextContent(content);
}
