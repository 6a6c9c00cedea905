import { toolError } from "../posthog/errors.js";
import { AccessControlsSchema } from "../posthog/schemas.js";
import { NotebookRef } from "./shared/args.js";
import { defineOperation, READ } from "./types.js";

export const globalAccessControls = defineOperation({
  name: "notebooks-global-access-controls-retrieve",
  title: "Global access controls (refused for notebooks)",
  description:
    "PostHog answers 400 for notebooks (these exist only for projects): call notebooks-access-controls-retrieve instead.",
  scope: "access_control:read",
  writes: false,
  upstream: "GET notebooks/{short_id}/global_access_controls/",
  input: NotebookRef,
  output: AccessControlsSchema,
  annotations: READ,
  async run(args, ctx) {
    const attempt = await ctx.attempt(
      { method: "GET", segments: ["notebooks", args.short_id, "global_access_controls"] },
      AccessControlsSchema,
    );
    if (!attempt.ok) {
      if (attempt.response.status === 400) {
        throw toolError(
          "not_supported",
          `PostHog answered 400: it does not support global access controls on notebooks ("Resource-level access controls can only be configured for projects"), and answers so for every notebook today. Call notebooks-access-controls-retrieve with short_id ${args.short_id} for this notebook's access controls.`,
        );
      }
      return ctx.fail(attempt.response);
    }
    return { structured: attempt.data, summary: `Global access controls of notebook ${args.short_id}.` };
  },
});
