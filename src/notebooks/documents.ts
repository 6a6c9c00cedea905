/**
 * Notebook documents as the tools handle them: shown as PostHog's Markdown (characters that can
 * only hide something made visible), written back block by block so that nothing the agent did
 * not change is changed, new notebooks as v1 documents, titles in step with the first heading and
 * text_content derived as PostHog's editor derives it. The converters load on first use, so a
 * server that never converts never pays for them.
 */
import type { Refusal } from "../content/guard.js";
import type { DocJSON } from "../content/index.js";
import { restoreInvisible, revealInvisible } from "../content/invisible.js";
import { markdownNotebookNode } from "../content/nodes.js";
import { toolError } from "../posthog/errors.js";
import { findApart, type SearchSteps } from "../text-search.js";
import type { Snapshot } from "./snapshots.js";
import { convert } from "./worker-pool.js";

export type DocumentFormat = "v1" | "v2" | "empty" | "other";

/** The format of a document, told from its shape (no converter needed). */
export function formatOf(content: unknown): DocumentFormat {
  if (content === null || content === undefined) return "empty";
  if (markdownNotebookNode(content)) return "v2";
  const doc = content as { type?: unknown; content?: unknown };
  return doc.type === "doc" && Array.isArray(doc.content) ? "v1" : "other";
}

/** Something a write could not understand, with its line in what the agent sent. */
export interface WriteNote {
  line: number;
  message: string;
}

export interface Written {
  content: DocJSON;
  notes: WriteNote[];
  /** Top-level blocks kept as stored, and written from Markdown. */
  kept: number;
  written: number;
}

/** A notebook's Markdown as agents are shown it, made once per snapshot. */
export async function shownMarkdown(snapshot: Snapshot): Promise<string> {
  if (snapshot.markdown === undefined) {
    const markdown = await convert("documentToMarkdown", snapshot.size, snapshot.notebook.content ?? null);
    snapshot.markdown = revealInvisible(markdown);
  }
  return snapshot.markdown;
}

/**
 * A new notebook's document from Markdown (v1, which every PostHog version opens). PostHog's
 * notebooks start with a heading holding the title: one is added when the Markdown has none.
 */
export async function newDocument(
  markdown: string,
  title: string | null | undefined,
): Promise<{ content: DocJSON; title: string | null; notes: WriteNote[] }> {
  const made = await convert("documentFromMarkdown", markdown.length, restoreInvisible(markdown));
  refuseDamage(made.refused);
  const leading = await titleOf(made.content, markdown.length);
  if (title) {
    const doc = leading === title ? made.content : await retitled(made.content, title, markdown.length);
    return { content: doc, title, notes: made.diagnostics };
  }
  return { content: made.content, title: leading, notes: made.diagnostics };
}

/** The document with `markdown` (as shown to agents) written over it, block by block. */
export async function rewrite(current: unknown, markdown: string): Promise<Written> {
  const done = await convert("rewriteDocument", markdown.length, current, restoreInvisible(markdown));
  refuseDamage(done.refused);
  return { content: done.content, notes: done.diagnostics, kept: done.kept, written: done.written };
}

/** The document with `markdown` (as shown to agents) added at its end. */
export async function append(current: unknown, markdown: string): Promise<Written> {
  // Only what is added is converted: the document itself is kept as it is.
  const done = await convert("appendToDocument", markdown.length, current, restoreInvisible(markdown));
  refuseDamage(done.refused);
  return { content: done.content, notes: done.diagnostics, kept: done.kept, written: done.written };
}

/** A write the write-time guard refused: nothing is sent, and the agent is told why. */
function refuseDamage(refused: Refusal | null): void {
  if (refused) throw toolError("would_damage", refused.message);
}

/**
 * How often `span` occurs in `text`, not overlapping, and where: in time linear in both (a passage
 * an agent sends is searched for on the server's own thread, whatever it holds).
 */
export function occurrences(text: string, span: string, steps?: SearchSteps): number[] {
  return findApart(text, span, steps);
}

/** `text` with `span` replaced by `replacement` at each of `at` (occurrences of `span`). */
export function replaceAt(text: string, span: string, replacement: string, at: readonly number[]): string {
  let out = "";
  let last = 0;
  for (const i of at) {
    out += text.slice(last, i) + replacement;
    last = i + span.length;
  }
  return out + text.slice(last);
}

/** `size`: about how many characters the document holds (its Markdown or JSON), to place the work. */
export async function textContentOf(content: unknown, size: number): Promise<string> {
  return convert("deriveTextContent", size, content);
}

/** The title a document gives its notebook (its first heading), or null. */
export async function titleOf(content: unknown, size: number): Promise<string | null> {
  return convert("documentTitle", size, content);
}

/** The document with its first heading saying `title`. */
export async function retitled(content: unknown, title: string, size: number): Promise<DocJSON> {
  return convert("withTitle", size, content, restoreInvisible(title));
}
