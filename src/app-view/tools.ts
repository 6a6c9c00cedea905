/**
 * The two tools only the notebook view calls (MCP Apps visibility "app": hosts never show them to
 * the model). They run through the same dispatcher as every tool (scope, mode, project and
 * argument checks, one error convention), and the save is notebooks-edit's own run: the version,
 * the rebase on a conflict and the write-time guard are the agent's.
 */
import { z } from "zod";
import { revealInvisible } from "../content/invisible.js";
import { childNodes } from "../content/nodes.js";
import { formatOf } from "../notebooks/documents.js";
import { readNotebook } from "../notebooks/io.js";
import { contentModule, convert } from "../notebooks/worker-pool.js";
import { edit } from "../operations/edit.js";
import { NotebookRef } from "../operations/shared/args.js";
import { NotebookWriteOut, notebookWritten, titled } from "../operations/shared/present.js";
import { defineOperation, READ } from "../operations/types.js";
import { blockChanges } from "./changes.js";

/** The view's document: top-level blocks, each with where its Markdown is in the whole. */
const ViewOut = NotebookWriteOut.extend({
  format: z.enum(["v1", "v2", "empty", "other"]),
  doc: z.object({ type: z.literal("doc"), content: z.array(z.unknown()) }),
  markdown: z.string().describe("The notebook's Markdown, as notebooks-retrieve shows it."),
  blocks: z
    .array(z.tuple([z.number().int(), z.number().int()]).nullable())
    .nullable()
    .describe("For each block of doc, where its Markdown starts and ends in markdown (v1 only)."),
  changes: z
    .object({
      from_version: z.number().int(),
      changed: z.array(z.number().int()),
      removed: z.number().int(),
    })
    .optional()
    .describe("What the last write this session saw changed: the blocks of doc that are new or changed."),
});
type ViewOut = z.infer<typeof ViewOut>;

/** A v1 document's top-level blocks, or a v2 notebook's Markdown made into them. */
async function blocksOf(content: unknown, size: number): Promise<unknown[]> {
  const format = formatOf(content);
  if (format === "v1") return childNodes(content);
  if (format !== "v2") return [];
  const { documentUnits } = await contentModule();
  const markdown = documentUnits(content);
  if (typeof markdown !== "string") return [];
  return childNodes((await convert("documentFromMarkdown", size, markdown)).content);
}

export const viewRead = defineOperation({
  name: "notebook-view-read",
  title: "Notebook for the view",
  description:
    "The notebook view's document: blocks to render, the Markdown they come from, and what the last write changed.",
  scope: "notebook:read",
  writes: false,
  upstream: "GET notebooks/{short_id}/",
  input: {
    ...NotebookRef,
    version: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The version a tool result showed (the one held is used when it is that one)."),
    changes: z.boolean().optional().describe("Say which blocks the last write changed."),
  },
  output: ViewOut,
  annotations: READ,
  async run(args, ctx) {
    const held = ctx.memory.notebooks.get(ctx.projectId, args.short_id);
    const snapshot =
      held && args.version !== undefined && held.notebook.version === args.version
        ? held
        : await readNotebook(ctx, args.short_id);
    const nb = snapshot.notebook;
    // (Read once: a document kept as bytes is parsed at each read of the field.)
    const stored = nb.content;
    const format = formatOf(stored);
    const { documentUnits } = await contentModule();
    const units = stored === null || stored === undefined ? "" : documentUnits(stored);
    let markdown: string;
    let content: unknown[];
    let blocks: ViewOut["blocks"] = null;
    if (typeof units === "string") {
      markdown = revealInvisible(units);
      content = format === "v1" ? [] : await blocksOf(stored, snapshot.size);
    } else {
      // The Markdown is the units' joined by blank lines, as notebooks-retrieve shows it.
      const parts: string[] = [];
      blocks = [];
      let at = 0;
      for (const unit of units) {
        if (unit.markdown === "") {
          blocks.push(null);
          continue;
        }
        const shown = revealInvisible(unit.markdown);
        if (parts.length > 0) at += 2;
        blocks.push([at, at + shown.length]);
        parts.push(shown);
        at += shown.length;
      }
      markdown = parts.join("\n\n");
      // A copy: what the result shows is cleaned in place, and the snapshot must stay as stored.
      content = structuredClone(units.map((unit) => unit.node));
    }
    const out: ViewOut = {
      ...notebookWritten(nb, ctx.webUrl(nb.short_id)),
      format,
      doc: { type: "doc", content },
      markdown,
      blocks,
    };
    const previous = snapshot.previous;
    if (args.changes && previous) {
      const before = await blocksOf(previous.content, previous.size);
      const after = format === "v1" ? childNodes(stored) : content;
      out.changes = { from_version: previous.version, ...blockChanges(before, after) };
    }
    return {
      structured: out,
      summary: `Notebook ${nb.short_id}${titled(nb)}, version ${nb.version}, for the notebook view.`,
      text: "",
    };
  },
});

/** notebooks-edit as the view calls it: the same arguments, checks and write path. */
export const viewSave = defineOperation({
  ...edit,
  name: "notebook-view-save",
  title: "Save a correction from the notebook view",
  description:
    "Replace a passage of a notebook's Markdown with the person's correction, as notebooks-edit does (same version, rebase and guard).",
});
