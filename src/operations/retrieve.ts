import { z } from "zod";
import { revealInvisible } from "../content/invisible.js";
import { NotebookRef } from "./args.js";
import { formatOf, shownMarkdown } from "./documents.js";
import { readNotebook } from "./notebook-io.js";
import { NotebookOut, notebookWritten, person, titled } from "./present.js";
import { defineOperation, type OpResult, READ } from "./types.js";

/**
 * Where a part of `text` starting at `offset` ends, at most `max` characters on: at a blank line
 * (between blocks), else a line end, else a space, never inside a word, a surrogate pair or a
 * `⟦U+…⟧` marker (unless a single word is longer than the part).
 */
export function partEnd(text: string, offset: number, max: number): number {
  const hard = Math.min(text.length, offset + max);
  if (hard >= text.length) return text.length;
  const window = text.slice(offset, hard);
  const floor = Math.floor(max / 4);
  for (const boundary of ["\n\n", "\n", " "]) {
    const at = window.lastIndexOf(boundary);
    if (at >= floor || (boundary === " " && at > 0)) return offset + at + boundary.length;
  }
  let end = hard;
  const open = window.lastIndexOf("⟦");
  if (open !== -1 && !window.slice(open).includes("⟧") && open > 0) end = offset + open;
  const code = text.charCodeAt(end);
  if (code >= 0xdc00 && code <= 0xdfff) end -= 1;
  return end;
}

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
    offset: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Where to start reading the Markdown (range.next_offset)."),
    max_length: z.number().int().min(100).optional().describe("Most characters of Markdown to return."),
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
      shown: [],
    };
    const documents: NonNullable<OpResult<unknown>["documents"]> = [];
    let budget = ctx.maxResultChars;
    if (format !== "json") {
      // (Each part is redacted with the session's key as it is shown, pieces at the cuts included.)
      const markdown = await shownMarkdown(snapshot);
      const offset = Math.min(args.offset ?? 0, markdown.length);
      const end = partEnd(markdown, offset, Math.min(args.max_length ?? budget, budget));
      documents.push({ label: "markdown", text: markdown.slice(offset, end) });
      out.shown.push("markdown");
      budget -= end - offset;
      if (offset > 0 || end < markdown.length) {
        out.range = {
          offset,
          length: end - offset,
          total: markdown.length,
          next_offset: end < markdown.length ? end : null,
        };
      }
    }
    if (format !== "markdown") {
      const json = JSON.stringify(nb.content ?? null);
      const text = nb.text_content ?? "";
      if (json.length + text.length <= Math.max(budget, 0)) {
        documents.push(
          { label: "json", text: revealInvisible(json) },
          { label: "text", text: revealInvisible(text) },
        );
        out.shown.push("json", "text_content");
      } else {
        out.note = `The JSON document (${json.length} characters) is over this server's result cap (${ctx.maxResultChars}), so it is left out: read the notebook as Markdown in parts with offset and max_length.`;
      }
    }
    const part = out.range
      ? ` Characters ${out.range.offset}–${out.range.offset + out.range.length} of ${out.range.total}${held ? " of the version read before" : ""}${out.range.next_offset === null ? "" : `: call again with offset ${out.range.next_offset} for the rest`}.`
      : "";
    return {
      structured: out,
      summary: `Notebook ${nb.short_id}${titled(nb)}, version ${nb.version} (${out.format}).${part}${out.note ? ` ${out.note}` : ""}`,
      documents,
    };
  },
});
