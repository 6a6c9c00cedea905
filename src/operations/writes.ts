/** What the writing operations share: text_content derived as PostHog's editor derives it. */
import { textContentOf } from "./documents.js";

/**
 * Whenever content is written without text_content, it is derived as PostHog's web editor derives
 * it, so that PostHog's search finds what agents write.
 */
export async function deriveTextContent(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (body.content !== undefined && body.content !== null && body.text_content === undefined) {
    body.text_content = await textContentOf(body.content);
  }
  return body;
}
