import { z } from "zod";
import { NotebookRef } from "./args.js";
import { formatOf, markdownOf } from "./documents.js";
import { readNotebook } from "./notebook-io.js";
import { NotebookOut, notebookWritten, person } from "./present.js";
import { defineOperation, READ } from "./types.js";

export const retrieve = defineOperation({
  name: "notebooks-retrieve",
  title: "Get a notebook",
  description:
    "Get a notebook as Markdown (keep component tags like <Query …/> when editing) with the version that content changes need. Long ones come in parts: offset = range.next_offset.",
  scope: "notebook:read",
  writes: false,
  upstream: "GET notebooks/{short_id}/",
  input: {
    ...NotebookRef,
    format: z.enum(["markdown", "json", "both"]).optional().describe("markdown (default), json or both."),
    offset: z.number().int().min(0).optional(),
    max_length: z.number().int().min(100).optional(),
  },
  output: NotebookOut,
  annotations: READ,
  async run(args, ctx) {
    // A later part comes from the version the first part was cut from, so that the parts fit.
    const held = args.offset ? ctx.memory.notebooks.get(ctx.projectId, args.short_id) : undefined;
    const snapshot = held ?? (await readNotebook(ctx, args.short_id));
    const nb = snapshot.notebook;
    const format = args.format ?? "markdown";
    const out: NotebookOut = {
      ...notebookWritten(nb, ctx.webUrl(nb.short_id)),
      last_modified_by: person(nb.last_modified_by),
      format: formatOf(nb.content),
    };
    let budget = ctx.maxResultChars;
    if (format !== "json") {
      const markdown = await markdownOf(snapshot);
      const offset = Math.min(args.offset ?? 0, markdown.length);
      const length = Math.min(args.max_length ?? budget, budget, markdown.length - offset);
      out.markdown = markdown.slice(offset, offset + length);
      budget -= length;
      if (offset > 0 || offset + length < markdown.length) {
        const next = offset + length < markdown.length ? offset + length : null;
        out.range = { offset, length, total: markdown.length, next_offset: next };
      }
    }
    if (format !== "markdown") {
      const json = JSON.stringify(nb.content ?? null);
      const text = nb.text_content ?? null;
      if (json.length + (text?.length ?? 0) <= Math.max(budget, 0)) {
        out.content = nb.content ?? null;
        out.text_content = text;
      } else {
        out.note = `The JSON document (${json.length} characters) is over this server's result cap (${ctx.maxResultChars}), so content and text_content are left out: read the notebook as Markdown in parts with offset and max_length.`;
      }
    }
    const part = out.range
      ? ` Characters ${out.range.offset}–${out.range.offset + out.range.length} of ${out.range.total}${held ? " of the version read before" : ""}${out.range.next_offset === null ? "" : `: call again with offset ${out.range.next_offset} for the rest`}.`
      : "";
    return {
      structured: out,
      summary: `Notebook ${nb.short_id}${nb.title ? ` "${nb.title}"` : ""}, version ${nb.version} (${out.format}).${part}${out.note ? ` ${out.note}` : ""}`,
      ...(out.markdown === undefined ? {} : { document: "markdown" }),
    };
  },
});
