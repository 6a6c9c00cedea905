import { z } from "zod";
import { prepareChange, prepareContent, type WriteNote } from "../notebooks/documents.js";
import { oneAtATime, sendWrite, writeNotebook, writeQueue } from "../notebooks/io.js";
import { JsonBody } from "../posthog/client.js";
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
} from "./shared/args.js";
import { NotebookWriteOut, notebookWritten, notesSummary, titled } from "./shared/present.js";
import { defineOperation } from "./types.js";

export const partialUpdate = defineOperation({
  name: "notebooks-partial-update",
  title: "Update a notebook",
  description:
    "Change a notebook: append_markdown adds to the end (no version needed); markdown or content replaces it (needs the version read); title renames; deleted=false restores.",
  scope: "notebook:write",
  writes: true,
  upstream: "PATCH notebooks/{short_id}/",
  input: {
    ...NotebookRef,
    append_markdown: z.string().min(1).max(MAX_MARKDOWN).optional().describe("Markdown to add at the end."),
    markdown: MarkdownArg.optional().describe("Markdown replacing the document; needs version."),
    content: Content.optional(),
    title: Title.optional().describe("New title; the first heading follows it."),
    text_content: TextContent.optional(),
    version: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The version read; needed with markdown or content."),
    deleted: z.boolean().optional().describe("false restores a deleted notebook."),
  },
  output: NotebookWriteOut,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const { short_id, markdown, append_markdown, content, title, version, ...fields } = args;
    exclusive(args, ["append_markdown", "markdown", "content"]);
    const plain: Record<string, unknown> = defined(fields);
    const nothingElse = () =>
      markdown === undefined &&
      append_markdown === undefined &&
      content === undefined &&
      title === undefined &&
      Object.keys(plain).length === 0;
    if (nothingElse()) {
      throw toolError(
        "invalid_arguments",
        "Nothing to change: pass at least one of append_markdown, markdown, content, title, text_content or deleted.",
      );
    }
    if ((markdown !== undefined || content !== undefined) && version === undefined) {
      throw toolError(
        "invalid_arguments",
        `version is required with ${markdown !== undefined ? "markdown" : "content"}, so that nobody's edit is overwritten: call notebooks-retrieve for "${short_id}" and pass its version (or use append_markdown to add to the end, or notebooks-edit to change a passage).`,
      );
    }
    // Only a deleted notebook can be restored, and PostHog's answer does not say whether it was: a
    // notebook this session deleted is restored at once; any other is read first (PostHog reads
    // deleted ones as not found), so that the result says what happened.
    let wasDeleted = plain.deleted === false && ctx.memory.deleted.has(short_id);
    let restoreNote = "";
    if (plain.deleted === false && !wasDeleted) {
      const current = await ctx.attempt({ method: "GET", segments: ["notebooks", short_id] }, NotebookSchema);
      if (current.ok) {
        ctx.memory.notebooks.remember(ctx.projectId, current.data);
        ctx.memory.deleted.delete(short_id);
        delete plain.deleted;
        restoreNote = " It was not deleted, so there was nothing to restore.";
        if (nothingElse()) {
          const nb = current.data;
          return {
            structured: notebookWritten(nb, ctx.webUrl(nb.short_id), []),
            summary: `Notebook ${nb.short_id}${titled(nb)} is not deleted, so there was nothing to restore and nothing was changed; it is at version ${nb.version}.`,
          };
        }
      } else if (current.response.status === 404) wasDeleted = true;
      else ctx.fail(current.response);
    }
    let nb: Notebook;
    let notes: WriteNote[] = [];
    if (
      append_markdown !== undefined ||
      markdown !== undefined ||
      (typeof title === "string" && content === undefined)
    ) {
      // Made from what the notebook holds when the write lands: appends and renames are re-applied
      // if someone else wrote first; a rewrite needs the version it was made against.
      const written = await writeNotebook(
        ctx,
        short_id,
        async (base) => {
          // One conversion job: the stored version and what the agent sent in, the body out.
          const made = await prepareChange(
            base,
            { append: append_markdown, rewrite: markdown, title },
            plain,
          );
          notes = made.notes;
          return made.body;
        },
        { against: markdown !== undefined ? (version as number) : "rebase" },
      );
      nb = written.notebook;
    } else {
      const fields: Record<string, unknown> = { ...plain };
      if (title !== undefined) fields.title = title;
      let body: unknown = fields;
      if (content !== undefined) {
        fields.version = version;
        if (content === null) fields.content = null;
        else {
          // One conversion job: the agent's document cleaned, its title and text_content, as JSON.
          ({ notes, body } = await prepareContent(partialUpdate.name, content, title === undefined, fields));
        }
      }
      // In the same queue as this notebook's Markdown writes, so that no two overlap.
      nb = await oneAtATime(writeQueue(ctx, short_id), ctx.signal, async () => {
        const req = { method: "PATCH" as const, segments: ["notebooks", short_id] };
        if (body instanceof JsonBody) {
          const answer = await sendWrite(ctx, { ...req, body });
          return answer.ok ? answer.data : ctx.fail(answer.response);
        }
        const answer = await ctx.call({ ...req, body }, NotebookSchema);
        ctx.memory.notebooks.remember(ctx.projectId, answer);
        return answer;
      });
    }
    const deleted = plain.deleted;
    if (deleted === true) ctx.memory.deleted.add(short_id);
    if (deleted === false) ctx.memory.deleted.delete(short_id);
    const what =
      deleted === false && wasDeleted
        ? "Restored"
        : deleted === true
          ? "Deleted"
          : append_markdown !== undefined
            ? "Appended to"
            : "Updated";
    return {
      structured: notebookWritten(nb, ctx.webUrl(nb.short_id), notes),
      summary: `${what} notebook ${nb.short_id}${titled(nb)}; it is now at version ${nb.version}.${restoreNote}${notesSummary(notes)}`,
      changed: { shortId: nb.short_id, listed: deleted !== undefined || title !== undefined },
    };
  },
});
