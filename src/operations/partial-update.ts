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
import { oneAtATime, writeNotebook } from "./notebook-io.js";
import { NotebookWriteOut, notebookWritten } from "./present.js";
import { defineOperation } from "./types.js";
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
    let nb: Notebook;
    if (append_markdown !== undefined) {
      // Added to whatever the notebook holds when the write lands: rebased on a conflict.
      const written = await writeNotebook(
        ctx,
        short_id,
        async (base) =>
          deriveTextContent({
            ...body,
            content: await appendToDocument(base.notebook.content ?? null, append_markdown),
          }),
        { against: "rebase" },
      );
      nb = written.notebook;
    } else if (markdown !== undefined) {
      const written = await writeNotebook(
        ctx,
        short_id,
        async (base) => {
          const { version: _version, ...rest } = body;
          const next: Record<string, unknown> = {
            ...rest,
            content: await replaceWithMarkdown(base.notebook.content, markdown),
          };
          if (args.title === undefined) {
            const title = await impliedTitle(next.content);
            if (title !== null) next.title = title;
          }
          return deriveTextContent(next);
        },
        { against: body.version as number },
      );
      nb = written.notebook;
    } else {
      await deriveTextContent(body);
      nb = await oneAtATime(`${ctx.projectId}/${short_id}`, ctx.signal, async () => {
        const answer = await ctx.call(
          { method: "PATCH", segments: ["notebooks", short_id], body },
          NotebookSchema,
        );
        ctx.memory.notebooks.remember(ctx.projectId, answer);
        return answer;
      });
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
