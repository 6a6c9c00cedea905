import { z } from "zod";
import { NotebookPageSchema } from "../posthog/schemas.js";
import { defined, Limit, Offset } from "./args.js";
import { LIST_DEFAULT_LIMIT, Paging } from "./paging.js";
import { intParam, NotebookSummaryOut, notebookLine, notebookSummary, queryOf } from "./present.js";
import { defineOperation, READ } from "./types.js";

export const list = defineOperation({
  name: "notebooks-list",
  title: "List notebooks",
  description: `List notebooks, newest change first; contains finds those embedding e.g. a recording or insight. ${LIST_DEFAULT_LIMIT} a page; pass back 'next' for more.`,
  scope: "notebook:read",
  writes: false,
  upstream: "GET notebooks/",
  input: {
    search: z.string().max(500).optional().describe("Words to find in titles or text."),
    contains: z
      .string()
      .max(1000)
      .optional()
      .describe(
        'Embedded nodes, "type[:id|true|false]" separated by spaces, e.g. "recording:<id> query:<id>".',
      ),
    created_by: z.uuid().optional().describe("Creator's user UUID."),
    user: z.boolean().optional().describe("true: only the key owner's notebooks."),
    date_from: z.string().max(64).optional().describe("Changed after: ISO date or -7d, -24h, -2w, -1m."),
    date_to: z.string().max(64).optional().describe("Changed before: ISO date or relative."),
    order: z
      .string()
      .regex(/^-?[a-z_]{1,64}$/, "must be a field name, optionally prefixed with '-' for descending")
      .optional()
      .describe("Sort field, - for descending (default -last_modified_at)."),
    limit: Limit(500, LIST_DEFAULT_LIMIT).optional(),
    offset: Offset.optional(),
  },
  output: z.object({ count: z.number().int(), ...Paging, results: z.array(NotebookSummaryOut) }),
  annotations: READ,
  async run(args, ctx) {
    const limit = args.limit ?? LIST_DEFAULT_LIMIT;
    const query = { ...args, user: args.user ? "true" : undefined, limit };
    const page = await ctx.call({ method: "GET", segments: ["notebooks"], query }, NotebookPageSchema);
    const nextParams = queryOf(page.next);
    const next = nextParams
      ? defined({
          ...args,
          limit: intParam(nextParams, "limit") ?? limit,
          offset: intParam(nextParams, "offset") ?? 0,
        })
      : null;
    const offset = args.offset ?? 0;
    const shown = page.results.length;
    const range = shown === 0 ? "none" : `${offset + 1}–${offset + shown}`;
    const results = page.results.map(notebookSummary);
    return {
      structured: { count: page.count, has_more: next !== null, next, results },
      summary: `${page.count} notebook${page.count === 1 ? "" : "s"} match; showing ${range}.${next ? " More: call notebooks-list with the arguments in next." : ""}`,
      text: [...results.map(notebookLine), ...(next ? [`next: ${JSON.stringify(next)}`] : [])].join("\n"),
    };
  },
});
