/**
 * Activity pages, shared by the per-notebook and the project-wide activity operations: PostHog's
 * page/limit pages, and the project activity log (cursor-paged, no total) as a fallback.
 */
import { z } from "zod";
import { toolError } from "../../posthog/errors.js";
import { ActivityLogPageSchema, type ActivityPageSchema } from "../../posthog/schemas.js";
import type { OpContext, OpResult } from "../types.js";
import { defined } from "./args.js";
import { Paging } from "./paging.js";
import { ActivityOut, activity, activityLines, intParam, peoplesLines, queryOf } from "./present.js";

export const ActivityPageOut = z.object({
  results: z.array(ActivityOut),
  total_count: z.number().int().nullable(),
  ...Paging,
  source: z.enum(["notebooks/activity", "activity_log"]).describe("Which PostHog endpoint served the call."),
});
type ActivityPageOut = z.infer<typeof ActivityPageOut>;

export function activityResult(
  page: z.infer<typeof ActivityPageSchema>,
  args: {
    limit?: number | undefined;
    page?: number | undefined;
    short_id?: string;
    full?: boolean | undefined;
  },
  limit: number,
  what: string,
): OpResult<ActivityPageOut> {
  const nextParams = queryOf(page.next);
  const next = nextParams
    ? defined({
        short_id: args.short_id,
        limit: intParam(nextParams, "limit") ?? limit,
        page: intParam(nextParams, "page") ?? (args.page ?? 1) + 1,
        full: args.full,
      })
    : null;
  const total = page.total_count ?? null;
  const results = page.results.map((entry) => activity(entry, args.full === true, args.short_id));
  return {
    ...activityText(results, next),
    structured: {
      results,
      total_count: total,
      has_more: next !== null,
      next,
      source: "notebooks/activity",
    },
    summary: `${page.results.length} change${page.results.length === 1 ? "" : "s"} to ${what}${total === null ? "" : ` (of ${total})`}, newest first.${next ? " More: pass the arguments in next." : ""}`,
  };
}

/**
 * The text block: the next call, then each entry in a few lines (texts and names quoted), fenced
 * as what people wrote.
 */
function activityText(
  results: ActivityOut[],
  next: Record<string, unknown> | null,
): Pick<OpResult<unknown>, "text" | "documents"> {
  return {
    text: next ? `next: ${JSON.stringify(next)}` : "",
    documents: peoplesLines(results.flatMap(activityLines), "The changes (titles, text, names)"),
  };
}

/** The fallback's cursor: the activity log's own cursor plus how many entries of that page to skip. */
interface LogPosition {
  cursor: string | null;
  skip: number;
}

function encodeCursor(position: LogPosition): string {
  return Buffer.from(JSON.stringify([position.cursor, position.skip])).toString("base64url");
}

function decodeCursor(raw: string): LogPosition {
  try {
    const [cursor, skip] = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as [unknown, unknown];
    if ((cursor === null || typeof cursor === "string") && Number.isInteger(skip) && (skip as number) >= 0) {
      return { cursor, skip: skip as number };
    }
  } catch {
    // reported below
  }
  throw toolError(
    "invalid_arguments",
    "cursor is not one this server issued: pass the cursor from a previous result's next, or leave it out to start from the newest entries.",
  );
}

const MAX_FALLBACK_PAGES = 20;

/** Notebook activity from the project activity log, `limit` entries from a page number or a cursor. */
export async function activityFromLog(
  args: {
    limit?: number | undefined;
    page?: number | undefined;
    cursor?: string | undefined;
    full?: boolean | undefined;
  },
  limit: number,
  ctx: OpContext,
): Promise<OpResult<ActivityPageOut>> {
  const start = args.cursor
    ? decodeCursor(args.cursor)
    : { cursor: null, skip: ((args.page ?? 1) - 1) * limit };
  let position: LogPosition = start;
  const collected: z.infer<typeof ActivityLogPageSchema>["results"] = [];
  let exhausted = false;
  for (let fetched = 0; collected.length < limit; fetched++) {
    if (fetched >= MAX_FALLBACK_PAGES) {
      throw toolError(
        "invalid_arguments",
        "That page is too deep to reach through the activity log: page forward with the cursor in each result's next instead of a large page number.",
      );
    }
    const page = await ctx.call(
      {
        method: "GET",
        segments: ["activity_log"],
        query: { scope: "Notebook", cursor: position.cursor ?? undefined },
      },
      ActivityLogPageSchema,
    );
    const available = page.results.slice(position.skip);
    const take = available.slice(0, limit - collected.length);
    collected.push(...take);
    const nextCursor = queryOf(page.next)?.get("cursor") ?? null;
    if (take.length < available.length) {
      position = { cursor: position.cursor, skip: position.skip + take.length };
      break;
    }
    if (nextCursor === null) {
      exhausted = true;
      break;
    }
    position = { cursor: nextCursor, skip: 0 };
  }
  const next = exhausted
    ? null
    : defined({ limit: args.limit, cursor: encodeCursor(position), full: args.full });
  const results = collected.map((entry) => activity(entry, args.full === true));
  return {
    ...activityText(results, next),
    structured: {
      results,
      total_count: null,
      has_more: next !== null,
      next,
      source: "activity_log",
    },
    summary: `${collected.length} change${collected.length === 1 ? "" : "s"} across notebooks, newest first (served by the project activity log filtered to notebooks, because PostHog refuses personal API keys on notebooks/activity/).${next ? " More: pass the arguments in next." : ""}`,
  };
}
