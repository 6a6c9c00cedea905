import { z } from "zod";
import { AtMost } from "../at-most.js";
import {
  NotebookPageSchema,
  NotebookSchema,
  type RecordingComment,
  RecordingCommentsSchema,
} from "../posthog/schemas.js";
import { unlessPersonalKeyRefused } from "./personal-key.js";
import { RecordingId } from "./shared/args.js";
import { peoplesLines } from "./shared/present.js";
import { defineOperation, type OpContext, READ } from "./types.js";

export const recordingComments = defineOperation({
  name: "notebooks-recording-comments-retrieve",
  title: "Comments on a recording",
  description:
    "Comments notebooks make on a recording (paragraphs opening with a replay timestamp): time, text, notebook.",
  scope: "notebook:read",
  writes: false,
  upstream: "GET notebooks/recording_comments/?recording_id= (fallback: notebooks containing the recording)",
  input: { recording_id: RecordingId },
  output: z.object({
    results: z.array(
      z.object({
        timeInRecording: z.union([z.string(), z.number()]).nullable(),
        comment: z.string().nullable(),
        notebookShortId: z.string(),
        notebookTitle: z.string().nullable(),
      }),
    ),
    source: z
      .enum(["notebooks/recording_comments", "notebooks"])
      .describe("Which PostHog endpoint served the call."),
  }),
  annotations: READ,
  async run(args, ctx) {
    const native = await unlessPersonalKeyRefused(
      ctx,
      {
        method: "GET",
        segments: ["notebooks", "recording_comments"],
        query: { recording_id: args.recording_id },
      },
      RecordingCommentsSchema,
    );
    const source = native ? "notebooks/recording_comments" : "notebooks";
    const comments = native?.results ?? (await fromNotebooks(args.recording_id, ctx));
    const results = comments.map((c) => ({
      timeInRecording: c.timeInRecording ?? null,
      comment: c.comment ?? null,
      notebookShortId: c.notebookShortId,
      notebookTitle: c.notebookTitle ?? null,
    }));
    const served =
      source === "notebooks"
        ? " (served by reading the notebooks that embed the recording, because PostHog refuses personal API keys on its recording-comments endpoint)"
        : "";
    return {
      structured: { results, source },
      summary: `${results.length} comment${results.length === 1 ? "" : "s"} on recording ${args.recording_id}${served}.`,
      text: `source: ${source}`,
      documents: peoplesLines(
        results.map((c) => JSON.stringify(c)),
        "The comments (one JSON object a line)",
      ),
    };
  },
});

/**
 * Notebooks read whole by the fallback at once, across every call in the process: each is read,
 * its comments taken, and let go, so that what the fallback holds is bounded whatever the number
 * of notebooks that embed a recording or of calls at once.
 */
const fallbackReads = new AtMost(4);

/** The most notebooks the fallback held at once since the process started (for tests). */
export function fallbackPeak(): number {
  return fallbackReads.peak;
}

/** The comments, extracted as PostHog does from every notebook that embeds the recording. */
async function fromNotebooks(recordingId: string, ctx: OpContext): Promise<RecordingComment[]> {
  const { commentsInNotebook } = await import("../content/recording-comments.js");
  const comments: unknown[] = [];
  const pageSize = 100;
  for (let offset = 0; ; offset += pageSize) {
    const page = await ctx.call(
      {
        method: "GET",
        segments: ["notebooks"],
        query: { contains: `recording:${recordingId}`, limit: pageSize, offset },
      },
      NotebookPageSchema,
    );
    // A page at a time, each notebook read and let go once its comments are out.
    const found = await Promise.all(
      page.results.map((listed) =>
        fallbackReads.run(async () => {
          const nb = await ctx.call(
            { method: "GET", segments: ["notebooks", listed.short_id] },
            NotebookSchema,
          );
          return commentsInNotebook(nb, recordingId);
        }),
      ),
    );
    for (const some of found) comments.push(...some);
    if (!page.next || page.results.length === 0) break;
  }
  // Shaped as PostHog's endpoint answers, so both paths are checked the same way.
  return RecordingCommentsSchema.parse({ results: comments }).results;
}
