import { ActivityPageSchema } from "../posthog/schemas.js";
import { unlessPersonalKeyRefused } from "./personal-key.js";
import { ActivityPageOut, activityFromLog, activityResult } from "./shared/activity-page.js";
import { Cursor, FullActivity, Limit, Page } from "./shared/args.js";
import { ACTIVITY_DEFAULT_LIMIT } from "./shared/paging.js";
import { defineOperation, READ } from "./types.js";

export const allActivity = defineOperation({
  name: "notebooks-all-activity-retrieve",
  title: "All notebook activity",
  description: "Recent changes across the project's notebooks, newest first.",
  scope: "activity_log:read",
  writes: false,
  upstream: "GET notebooks/activity/ (fallback: GET activity_log/?scope=Notebook)",
  input: {
    limit: Limit(100, ACTIVITY_DEFAULT_LIMIT).optional(),
    page: Page.optional(),
    cursor: Cursor.optional(),
    full: FullActivity.optional(),
  },
  output: ActivityPageOut,
  annotations: READ,
  async run(args, ctx) {
    const limit = args.limit ?? ACTIVITY_DEFAULT_LIMIT;
    if (args.cursor === undefined) {
      const native = await unlessPersonalKeyRefused(
        ctx,
        { method: "GET", segments: ["notebooks", "activity"], query: { limit, page: args.page } },
        ActivityPageSchema,
      );
      if (native) return activityResult(native, args, limit, "all notebooks");
    }
    return activityFromLog(args, limit, ctx);
  },
});
