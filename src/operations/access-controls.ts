import { AccessControlsSchema } from "../posthog/schemas.js";
import { NotebookRef } from "./shared/args.js";
import { defineOperation, READ } from "./types.js";

export const accessControls = defineOperation({
  name: "notebooks-access-controls-retrieve",
  title: "Notebook access controls",
  description: "Who may view or edit a notebook: access-control entries, default level, your level.",
  scope: "access_control:read",
  writes: false,
  upstream: "GET notebooks/{short_id}/access_controls/",
  input: NotebookRef,
  output: AccessControlsSchema,
  annotations: READ,
  async run(args, ctx) {
    const acl = await ctx.call(
      { method: "GET", segments: ["notebooks", args.short_id, "access_controls"] },
      AccessControlsSchema,
    );
    const entries = acl.access_controls?.length ?? 0;
    return {
      structured: acl,
      summary: `Notebook ${args.short_id}: ${entries} access-control entr${entries === 1 ? "y" : "ies"}; default level ${acl.default_access_level ?? "unknown"}, yours ${acl.user_access_level ?? "unknown"}.`,
    };
  },
});
