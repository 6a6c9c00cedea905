/** What the writing operations share: text_content derived as PostHog's editor derives it, content cleaned. */

import { markdownNotebookNode } from "../content/nodes.js";
import { textContentOf, type WriteNote } from "./documents.js";
import { convert } from "./worker-pool.js";

/**
 * Whenever content is written without text_content, it is derived as PostHog's web editor derives
 * it, so that PostHog's search finds what agents write. `size`: about how many characters the
 * content holds (what it was made from), to place the work.
 */
export async function deriveTextContent(
  body: Record<string, unknown>,
  size: number,
): Promise<Record<string, unknown>> {
  if (body.content !== undefined && body.content !== null && body.text_content === undefined) {
    body.text_content = await textContentOf(body.content, size);
  }
  return body;
}

/** About how many characters a value holds as JSON. */
export function jsonSize(value: unknown): number {
  return JSON.stringify(value ?? null).length;
}

/**
 * A document an agent sends as JSON, without links or sources that would run a script (a v2
 * document's Markdown is checked as PostHog reads it); everything else exactly as sent.
 */
export async function cleanContent(content: unknown): Promise<{ content: unknown; notes: WriteNote[] }> {
  const v2 = markdownNotebookNode(content);
  if (v2 && typeof v2.attrs?.markdown === "string") {
    const checked = await convert("checkMarkdown", v2.attrs.markdown.length, v2.attrs.markdown);
    if (checked.markdown === v2.attrs.markdown) return { content, notes: checked.diagnostics };
    const node = { ...v2, attrs: { ...v2.attrs, markdown: checked.markdown } };
    return { content: { ...(content as object), content: [node] }, notes: checked.diagnostics };
  }
  const cleaned = await convert("sanitize", jsonSize(content), content);
  return {
    content: cleaned.value,
    notes: cleaned.dropped.map((drop) => ({
      line: 0,
      message: `the ${drop.what} of ${drop.type} is a script or file address (${JSON.stringify(drop.value.slice(0, 60))}): dropped`,
    })),
  };
}
