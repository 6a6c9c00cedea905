import { z } from "zod";
import { toolError } from "../posthog/errors.js";
import { MAX_MARKDOWN, NotebookRef } from "./args.js";
import { occurrences, replaceAt, rewrite, shownMarkdown, titleOf, type WriteNote } from "./documents.js";
import { writeNotebook } from "./notebook-io.js";
import { NotebookWriteOut, notebookWritten, notesSummary, titled } from "./present.js";
import { defineOperation } from "./types.js";
import { deriveTextContent } from "./writes.js";

export const edit = defineOperation({
  name: "notebooks-edit",
  title: "Edit part of a notebook",
  description:
    "Replace an exact passage of a notebook's Markdown (as retrieved) with new Markdown; the rest stays as stored. old_markdown must occur once unless replace_all.",
  scope: "notebook:write",
  writes: true,
  upstream: "PATCH notebooks/{short_id}/",
  input: {
    ...NotebookRef,
    old_markdown: z
      .string()
      .min(1)
      .max(MAX_MARKDOWN)
      .describe("The exact text to replace, copied from the Markdown."),
    new_markdown: z.string().max(MAX_MARKDOWN).describe("What replaces it (empty to delete it)."),
    replace_all: z.boolean().optional().describe("Replace every occurrence (default: it must occur once)."),
    version: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The version you read (newer ones get the edit if the passage is still there once)."),
  },
  output: NotebookWriteOut,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const { short_id, old_markdown, new_markdown, replace_all, version } = args;
    if (old_markdown === new_markdown) {
      throw toolError(
        "invalid_arguments",
        "old_markdown and new_markdown are the same: nothing would change, so nothing was sent.",
      );
    }
    let notes: WriteNote[] = [];
    let replaced = 0;
    const written = await writeNotebook(
      ctx,
      short_id,
      async (base, rebased) => {
        const shown = await shownMarkdown(base);
        const at = occurrences(shown, old_markdown);
        const moved = rebased || (version !== undefined && version !== base.notebook.version);
        const where = `notebook ${short_id} (version ${base.notebook.version}${moved && version !== undefined ? `; you read version ${version}` : ""})`;
        if (at.length === 0) {
          throw toolError(
            moved ? "conflict" : "not_found",
            moved
              ? `The passage to replace is no longer in ${where}: someone changed it since. Retrieve the notebook again and make the edit on what it says now.`
              : `old_markdown does not occur in ${where}. It must match the Markdown exactly, spaces, line breaks and escapes included: call notebooks-retrieve for "${short_id}" and copy the passage from it.`,
          );
        }
        if (at.length > 1 && !replace_all) {
          throw toolError(
            moved ? "conflict" : "ambiguous",
            `old_markdown occurs ${at.length} times in ${where}. Include more of the text around it so that it occurs once, or pass replace_all: true to replace every occurrence.`,
          );
        }
        replaced = at.length;
        const done = await rewrite(
          base.notebook.content ?? null,
          replaceAt(shown, old_markdown, new_markdown, at),
        );
        notes = done.notes;
        const body: Record<string, unknown> = { content: done.content };
        const implied = await titleOf(done.content, base.size);
        if (implied !== null && implied !== (base.notebook.title ?? null)) body.title = implied;
        return deriveTextContent(body, base.size);
      },
      { against: "rebase" },
    );
    const nb = written.notebook;
    const rebased =
      written.rebased > 0 ? " (re-applied to the newer version someone else saved meanwhile)" : "";
    return {
      structured: notebookWritten(nb, ctx.webUrl(nb.short_id), notes),
      summary: `Replaced ${replaced === 1 ? "the passage" : `${replaced} occurrences`} in notebook ${nb.short_id}${titled(nb)}${rebased}; it is now at version ${nb.version}.${notesSummary(notes)}`,
      changed: { shortId: nb.short_id, listed: false },
    };
  },
});
