import { ActivityPageSchema } from "../posthog/schemas.js";
import { ActivityPageOut, activityResult } from "./shared/activity-page.js";
import { FullActivity, Limit, NotebookRef, Page } from "./shared/args.js";
import { ACTIVITY_DEFAULT_LIMIT } from "./shared/paging.js";
import { defineOperation, READ } from "./types.js";

export const activity = defineOperation({
  name: "notebooks-activity-retrieve",
  title: "Notebook history",
  description: "Who changed a notebook, when and how, newest first (text changes as line diffs).",
  scope: "activity_log:read",
  writes: false,
  upstream: "GET notebooks/{short_id}/activity/",
  input: {
    ...NotebookRef,
    limit: Limit(100, ACTIVITY_DEFAULT_LIMIT).optional(),
    page: Page.optional(),
    full: FullActivity.optional(),
  },
  output: ActivityPageOut,
  annotations: READ,
  async run(args, ctx) {
    const limit = args.limit ?? ACTIVITY_DEFAULT_LIMIT;
    const page = await ctx.call(
      {
        method: "GET",
        segments: ["notebooks", args.short_id, "activity"],
        query: { limit, page: args.page },
      },
      ActivityPageSchema,
    );
    return activityResult(page, args, limit, `notebook ${args.short_id}`);
  },
});
