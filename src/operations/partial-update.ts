import { z } from "zod";
import { toolError } from "../posthog/errors.js";
import { type Notebook, NotebookSchema } from "../posthog/schemas.js";
import {
  Content,
  defined,
  exclusive,
  MAX_MARKDOWN,
  MarkdownArg,
  NotebookRef,
  TextContent,
  Title,
} from "./args.js";
import { appendToDocument, impliedTitle, replaceWithMarkdown } from "./documents.js";
import { NotebookWriteOut, notebookWritten } from "./present.js";
import { defineOperation, type OpContext } from "./types.js";
import { deriveTextContent } from "./writes.js";

export const partialUpdate = defineOperation({
  name: "notebooks-partial-update",
  title: "Update a notebook",
  description:
    "Change a notebook. append_markdown adds to the end, no version needed: prefer it for findings. markdown or content replaces the document and needs the version you read. title and deleted need none.",
  scope: "notebook:write",
  writes: true,
  upstream: "PATCH notebooks/{short_id}/",
  input: {
    ...NotebookRef,
    append_markdown: z.string().min(1).max(MAX_MARKDOWN).optional().describe("Markdown to add at the end."),
    markdown: MarkdownArg.optional().describe("Markdown replacing the document; needs version."),
    content: Content.optional(),
    title: Title.optional(),
    text_content: TextContent.optional(),
    version: z.number().int().min(0).optional().describe("Needed with markdown or content."),
    deleted: z.boolean().optional().describe("false restores a deleted notebook."),
  },
  output: NotebookWriteOut,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const { short_id, markdown, append_markdown, ...fields } = args;
    exclusive(args, ["append_markdown", "markdown", "content"]);
    const body: Record<string, unknown> = defined(fields);
    const writesContent = markdown !== undefined || body.content !== undefined;
    if (
      !writesContent &&
      append_markdown === undefined &&
      !["title", "text_content", "deleted"].some((k) => k in body)
    ) {
      throw toolError(
        "invalid_arguments",
        "Nothing to change: pass at least one of append_markdown, markdown, content, title, text_content or deleted.",
      );
    }
    if (writesContent && body.version === undefined) {
      throw toolError(
        "invalid_arguments",
        `version is required with ${markdown !== undefined ? "markdown" : "content"}, so that nobody's edit is overwritten: call notebooks-retrieve for "${short_id}" and pass its version (or use append_markdown to add to the end).`,
      );
    }
    const segments = ["notebooks", short_id];
    let nb: Notebook;
    if (append_markdown !== undefined) {
      nb = await appendWithRetries(ctx, short_id, append_markdown, body);
    } else {
      if (markdown !== undefined) {
        const current = await ctx.call({ method: "GET", segments }, NotebookSchema);
        body.content = await replaceWithMarkdown(current.content, markdown);
        if (args.title === undefined) {
          const title = await impliedTitle(body.content);
          if (title !== null) body.title = title;
        }
      }
      await deriveTextContent(body);
      nb = await ctx.call({ method: "PATCH", segments, body }, NotebookSchema);
    }
    if (body.deleted === true) ctx.memory.deleted.add(short_id);
    if (body.deleted === false) ctx.memory.deleted.delete(short_id);
    const what =
      body.deleted === false
        ? "Restored"
        : body.deleted === true
          ? "Deleted"
          : append_markdown !== undefined
            ? "Appended to"
            : "Updated";
    return {
      structured: notebookWritten(nb, ctx.webUrl(nb.short_id)),
      summary: `${what} notebook ${nb.short_id}${nb.title ? ` "${nb.title}"` : ""}; it is now at version ${nb.version}.`,
      changed: { shortId: nb.short_id, listed: body.deleted !== undefined || "title" in body },
    };
  },
});

const APPEND_ATTEMPTS = 3;

/**
 * Read, append, write with the version just read; when someone else edits in between (409), read
 * again and retry, a bounded number of times. Nobody's edit is overwritten.
 */
async function appendWithRetries(
  ctx: OpContext,
  shortId: string,
  markdown: string,
  extra: Record<string, unknown>,
): Promise<Notebook> {
  const segments = ["notebooks", shortId];
  for (let attempt = 1; ; attempt++) {
    const current = await ctx.call({ method: "GET", segments }, NotebookSchema);
    const content = await appendToDocument(current.content ?? null, markdown);
    const body = await deriveTextContent({ ...extra, content, version: current.version });
    const written = await ctx.attempt({ method: "PATCH", segments, body }, NotebookSchema);
    if (written.ok) return written.data;
    if (written.response.status !== 409 || attempt >= APPEND_ATTEMPTS) return ctx.fail(written.response);
  }
}
