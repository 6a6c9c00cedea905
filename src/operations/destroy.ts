import { NotebookSchema } from "../posthog/schemas.js";
import { NotebookRef } from "./shared/args.js";
import { NotebookWriteOut, notebookWritten, titled } from "./shared/present.js";
import { defineOperation } from "./types.js";

export const destroy = defineOperation({
  name: "notebooks-destroy",
  title: "Delete a notebook",
  description:
    "Soft-delete a notebook (PostHog never hard-deletes): notebooks-partial-update deleted=false restores.",
  scope: "notebook:write",
  writes: true,
  upstream: 'PATCH notebooks/{short_id}/ {"deleted": true}',
  input: NotebookRef,
  output: NotebookWriteOut,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  async run(args, ctx) {
    const nb = await ctx.call(
      { method: "PATCH", segments: ["notebooks", args.short_id], body: { deleted: true } },
      NotebookSchema,
    );
    ctx.memory.deleted.add(args.short_id);
    ctx.memory.notebooks.forget(ctx.projectId, args.short_id);
    return {
      changed: { shortId: nb.short_id, listed: true },
      structured: notebookWritten(nb, null),
      summary: `Deleted notebook ${nb.short_id}${titled(nb)}. To undo, call notebooks-partial-update with {"short_id": "${nb.short_id}", "deleted": false}.`,
    };
  },
});
