import { z } from "zod";
import { parseIsoDate } from "../dates.js";
import { NotebookPageSchema } from "../posthog/schemas.js";
import { defined, Limit, Offset } from "./shared/args.js";
import { LIST_DEFAULT_LIMIT, Paging } from "./shared/paging.js";
import {
  intParam,
  NotebookSummaryOut,
  notebookLine,
  notebookSummary,
  peoplesLines,
  queryOf,
} from "./shared/present.js";
import { defineOperation, READ } from "./types.js";

/**
 * The fields `order` may name (each also with `-` for descending): the fields of a listed notebook
 * that PostHog sorts by. Newer PostHog answers 400 for other fields (older versions 500), so an
 * unknown one is refused here, before anything is sent.
 */
export const ORDER_FIELDS = [
  "last_modified_at",
  "created_at",
  "title",
  "short_id",
  "id",
  "created_by",
  "last_modified_by",
] as const;

function checkOrder(value: string, ctx: z.RefinementCtx): void {
  const field = value.startsWith("-") ? value.slice(1) : value;
  if ((ORDER_FIELDS as readonly string[]).includes(field)) return;
  ctx.addIssue({
    code: "custom",
    message: `"${value}" is not a field PostHog sorts by: use one of ${ORDER_FIELDS.join(", ")}, with "-" in front for descending (e.g. "-created_at")`,
  });
}

/**
 * PostHog's relative dates that say what they mean: `-<n><unit>` (h hours, d days, w weeks,
 * m months, q quarters, y years, M minutes, s seconds; the `-` is optional, the date is always in
 * the past), and the start or end of an hour, day, month or year, `n` units back (`dStart`,
 * `-1dStart`, `mStart`, `yEnd`…). PostHog reads anything else that is not an ISO date as "now", or
 * finds a unit letter inside it (`last week` → "now"), so those are refused here.
 */
const RELATIVE_DATE = /^-?(?:\d{1,6}[hdwmqyMs]|\d{0,6}[hdmy](?:Start|End))$/;

export function isPostHogDate(value: string): boolean {
  return RELATIVE_DATE.test(value) || parseIsoDate(value) !== null;
}

const DateArg = z.string().max(64).refine(isPostHogDate, {
  message:
    "must be an ISO date or date-time (2026-05-01, 2026-05-01T09:30:00Z) or a relative date: -<n><unit> with unit h, d, w, m (months), q, y, M (minutes) or s, like -7d, -24h, -1m; or the start or end of a day, month or year, like dStart, -1dStart, mStart, yStart",
});

/**
 * The node types `contains` can find: PostHog looks for a top-level `ph-<type>` node (a
 * `replay-timestamp` inside a paragraph), after dropping a plural `s` (`ies` → `y`), so a type
 * whose name ends in `s` cannot be found, and inline nodes (mentions, backlinks) are not top level.
 */
export const CONTAINS_TYPES = [
  "recording",
  "query",
  "replay-timestamp",
  "recording-playlist",
  "feature-flag",
  "feature-flag-code-example",
  "experiment",
  "early-access-feature",
  "survey",
  "person",
  "person-feed",
  "group",
  "cohort",
  "image",
  "embed",
  "latex",
  "map",
  "task-create",
  "llm-trace",
  "python",
  "python-v2",
  "duck-sql",
  "hogql-sql",
  "sql-v2",
  "markdown-notebook",
  "error-tracking-issue",
  "dashboard-widget",
  "dashboard",
  "customer-journey",
  "action",
  "workflow",
  "insight",
  "link",
  "text",
] as const;

/** PostHog's `depluralize`: `ies` → `y`, a trailing `s` dropped. */
function depluralize(word: string): string {
  if (word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.endsWith("s")) return word.slice(0, -1);
  return word;
}

const CONTAINS_MATCH = /^[A-Za-z0-9._-]{1,200}$/;

/** Why one `type[:match]` pair of `contains` would not find what it says, or null when it is fine. */
function containsProblem(pair: string): string | null {
  const parts = pair.split(":");
  if (parts.length > 2) return `"${pair}" has more than one ':'`;
  const [type = "", match] = parts;
  if (!(CONTAINS_TYPES as readonly string[]).includes(depluralize(type))) {
    return type.startsWith("ph-")
      ? `"${type}" is written without "ph-" (e.g. "${type.slice(3)}")`
      : `"${type}" is not a node type PostHog can find (types: ${CONTAINS_TYPES.join(", ")})`;
  }
  if (match !== undefined && !CONTAINS_MATCH.test(match)) {
    return `"${pair}" must end in true, false or an id (letters, digits, '.', '_' or '-')`;
  }
  return null;
}

function checkContains(value: string, ctx: z.RefinementCtx): void {
  const pairs = value.replace(/,/g, " ").split(" ").filter(Boolean);
  const problem = pairs.length === 0 ? "is empty" : pairs.map(containsProblem).find((p) => p !== null);
  if (!problem) return;
  ctx.addIssue({
    code: "custom",
    message: `must be "type[:id|true|false]" pairs separated by spaces or commas, like "recording:<session id>", "query:<insight short id>", "replay-timestamp:<session id>" or "recording:false"; ${problem}`,
  });
}

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
      .superRefine(checkContains)
      .optional()
      .describe(
        'Embedded nodes, "type[:id|true|false]" separated by spaces, e.g. "recording:<id> query:<id>".',
      ),
    created_by: z.uuid().optional().describe("Creator's user UUID."),
    user: z.boolean().optional().describe("true: only the key owner's notebooks."),
    date_from: DateArg.optional().describe("Changed after: ISO date or -7d, -24h, -2w, -1m."),
    date_to: DateArg.optional().describe("Changed before: ISO date or relative."),
    order: z
      .string()
      .superRefine(checkOrder)
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
      summary: `${page.count === 1 ? "1 notebook matches" : `${page.count} notebooks match`}; showing ${range}.${next ? " More: call notebooks-list with the arguments in next." : ""}`,
      text: next ? `next: ${JSON.stringify(next)}` : "",
      documents: peoplesLines(results.map(notebookLine), "The notebooks (titles, names)"),
    };
  },
});
