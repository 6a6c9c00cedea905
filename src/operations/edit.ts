import { z } from "zod";
import { prepareChange, shownMarkdown, type WriteNote } from "../notebooks/documents.js";
import { applyReplacements, editDiff, type Replacement } from "../notebooks/edit-diff.js";
import { writeNotebook } from "../notebooks/io.js";
import { toolError } from "../posthog/errors.js";
import { findApart } from "../text-search.js";
import { MAX_MARKDOWN, NotebookRef } from "./shared/args.js";
import { NotebookWriteOut, notebookWritten, notesSummary, titled } from "./shared/present.js";
import { defineOperation } from "./types.js";

const OldMarkdown = z
  .string()
  .min(1)
  .max(MAX_MARKDOWN)
  .describe("Exact passage to replace (once unless replace_all).");
const NewMarkdown = z.string().max(MAX_MARKDOWN).describe("Its replacement ('' deletes it).");
const ReplaceAll = z.boolean().optional().describe("Every occurrence.");

/** Most edits in one call. */
const MAX_EDITS = 100;
/** Most passages replaced in one call, all edits together (each is placed, sorted and checked). */
const MAX_REPLACED = 10_000;
/** Occurrences counted for a passage that should occur once, to say how often it does. */
const COUNTED = 1_000;

const Edits = z
  .array(
    z
      .object({
        old_markdown: z.string().min(1).max(MAX_MARKDOWN).describe("Exact passage"),
        new_markdown: z.string().max(MAX_MARKDOWN).describe("Replacement"),
        replace_all: z.boolean().optional().describe("Every occurrence"),
      })
      .strict(),
  )
  .min(1)
  .max(MAX_EDITS)
  .refine(
    (edits) =>
      edits.reduce((sum, e) => sum + e.old_markdown.length + e.new_markdown.length, 0) <= MAX_MARKDOWN,
    { message: `must hold at most ${MAX_MARKDOWN} characters of Markdown in all` },
  )
  .describe("Several at once, all or none.");

export const EditOut = NotebookWriteOut.extend({
  replaced: z.number().int().describe("Passages replaced in all."),
  hunks: z.number().int().describe("Places changed; the text block shows them as a diff of the Markdown."),
});
export type EditOut = z.infer<typeof EditOut>;

interface OneEdit {
  old_markdown: string;
  new_markdown: string;
  replace_all?: boolean | undefined;
}

export const edit = defineOperation({
  name: "notebooks-edit",
  title: "Edit part of a notebook",
  description:
    "Replace exact passages of a notebook's Markdown; the rest stays as stored. Answers with a diff.",
  scope: "notebook:write",
  writes: true,
  upstream: "PATCH notebooks/{short_id}/",
  input: {
    ...NotebookRef,
    old_markdown: OldMarkdown.optional(),
    new_markdown: NewMarkdown.optional(),
    replace_all: ReplaceAll,
    edits: Edits.optional(),
    version: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The version read (a newer one is edited if the passage is still there)."),
  },
  output: EditOut,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const { short_id, version } = args;
    const edits = editsOf(args);
    const many = args.edits !== undefined;
    edits.forEach((one, i) => {
      if (one.old_markdown === one.new_markdown) {
        throw toolError(
          "invalid_arguments",
          `${many ? `edits[${i}]: ` : ""}old_markdown and new_markdown are the same: nothing would change, so nothing was sent.`,
        );
      }
    });
    let notes: WriteNote[] = [];
    let replaced = 0;
    let diff = { diff: "", hunks: 0, shown: 0 };
    const written = await writeNotebook(
      ctx,
      short_id,
      async (base, rebased) => {
        const shown = await shownMarkdown(base);
        const moved = rebased || (version !== undefined && version !== base.notebook.version);
        const where = `notebook ${short_id} (version ${base.notebook.version}${moved && version !== undefined ? `; you read version ${version}` : ""})`;
        const replacements: (Replacement & { edit: number })[] = [];
        edits.forEach((one, i) => {
          const which = many ? `edits[${i}].old_markdown` : "old_markdown";
          const room = MAX_REPLACED - replacements.length;
          const at = findApart(shown, one.old_markdown, undefined, (one.replace_all ? room : COUNTED) + 1);
          if (one.replace_all && at.length > room) {
            throw toolError(
              "invalid_arguments",
              `${many ? `The edits together would replace` : `${which} occurs`} more than ${MAX_REPLACED.toLocaleString("en-US")} ${many ? "passages" : "times"} in ${where}: one call replaces at most ${MAX_REPLACED.toLocaleString("en-US")}. Make the passage longer so that it matches fewer places, or rewrite the notebook with notebooks-partial-update. Nothing was sent.`,
            );
          }
          if (at.length === 0) {
            throw toolError(
              moved ? "conflict" : "not_found",
              moved
                ? `The passage to replace${many ? ` (edits[${i}])` : ""} is no longer in ${where}: someone changed it since. Retrieve the notebook again (or find the passage) and make the edit on what it says now.${many ? " None of the edits was made." : ""}`
                : `${which} does not occur in ${where}. It must match the Markdown exactly, spaces, line breaks and escapes included: call notebooks-retrieve for "${short_id}" (with find to locate it) and copy the passage from it.${many ? " None of the edits was made." : ""}`,
            );
          }
          if (at.length > 1 && !one.replace_all) {
            throw toolError(
              moved ? "conflict" : "ambiguous",
              `${which} occurs ${at.length > COUNTED ? `more than ${COUNTED.toLocaleString("en-US")}` : at.length} times in ${where}. Include more of the text around it so that it occurs once, or pass replace_all: true to replace every occurrence.${many ? " None of the edits was made." : ""}`,
            );
          }
          for (const start of at) {
            replacements.push({
              start,
              end: start + one.old_markdown.length,
              text: one.new_markdown,
              edit: i,
            });
          }
        });
        replacements.sort((a, b) => a.start - b.start);
        for (let i = 1; i < replacements.length; i++) {
          const prev = replacements[i - 1] as Replacement & { edit: number };
          const next = replacements[i] as Replacement & { edit: number };
          if (next.start < prev.end) {
            throw toolError(
              "invalid_arguments",
              `edits[${prev.edit}] and edits[${next.edit}] replace overlapping text in ${where}: make them one edit. None of the edits was made.`,
            );
          }
        }
        replaced = replacements.length;
        const markdown = applyReplacements(shown, replacements);
        diff = editDiff(shown, replacements, Math.max(2_000, Math.floor(ctx.maxResultChars / 4)));
        // One conversion job: the stored version and the new Markdown in, the body out.
        const done = await prepareChange(base, { rewrite: markdown });
        notes = done.notes;
        return done.body;
      },
      { against: "rebase" },
    );
    const nb = written.notebook;
    const rebased =
      written.rebased > 0 ? " (re-applied to the newer version someone else saved meanwhile)" : "";
    const what = many
      ? `${edits.length} edit${edits.length === 1 ? "" : "s"} (${replaced} passage${replaced === 1 ? "" : "s"})`
      : replaced === 1
        ? "the passage"
        : `${replaced} occurrences`;
    const cut =
      diff.shown < diff.hunks ? ` The diff shows ${diff.shown} of the ${diff.hunks} places changed.` : "";
    return {
      structured: { ...notebookWritten(nb, ctx.webUrl(nb.short_id), notes), replaced, hunks: diff.hunks },
      summary: `Replaced ${what} in notebook ${nb.short_id}${titled(nb)}${rebased}; it is now at version ${nb.version}.${notesSummary(notes)}${cut}`,
      documents: [{ label: "diff", text: diff.diff }],
      changed: { shortId: nb.short_id, listed: false },
    };
  },
});

/** The replacements asked for: `edits`, or the one of old_markdown and new_markdown. */
function editsOf(args: {
  old_markdown?: string | undefined;
  new_markdown?: string | undefined;
  replace_all?: boolean | undefined;
  edits?: OneEdit[] | undefined;
}): OneEdit[] {
  if (args.edits !== undefined) {
    if (
      args.old_markdown !== undefined ||
      args.new_markdown !== undefined ||
      args.replace_all !== undefined
    ) {
      throw toolError(
        "invalid_arguments",
        "Pass either edits or old_markdown and new_markdown (with replace_all inside each edit), not both. Nothing was sent to PostHog.",
      );
    }
    return args.edits;
  }
  if (args.old_markdown === undefined || args.new_markdown === undefined) {
    throw toolError(
      "invalid_arguments",
      `${args.old_markdown === undefined ? "old_markdown" : "new_markdown"} is missing: pass old_markdown (the exact passage) and new_markdown (what replaces it, "" to delete it), or edits: [{old_markdown, new_markdown}, …]. Nothing was sent to PostHog.`,
    );
  }
  return [
    { old_markdown: args.old_markdown, new_markdown: args.new_markdown, replace_all: args.replace_all },
  ];
}
