import { NotebookSchema } from "../posthog/schemas.js";
import { Content, defined, exclusive, MarkdownArg, TextContent, Title } from "./args.js";
import { newDocumentFromMarkdown } from "./documents.js";
import { NotebookWriteOut, notebookWritten } from "./present.js";
import { defineOperation } from "./types.js";
import { deriveTextContent } from "./writes.js";

export const create = defineOperation({
  name: "notebooks-create",
  title: "Create a notebook",
  description:
    "Create a notebook from Markdown (PostHog components as tags, e.g. <Query …/>); a leading heading is the title.",
  scope: "notebook:write",
  writes: true,
  upstream: "POST notebooks/",
  input: {
    title: Title.optional(),
    markdown: MarkdownArg.optional(),
    content: Content.optional(),
    text_content: TextContent.optional(),
  },
  output: NotebookWriteOut,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const { markdown, ...fields } = args;
    exclusive(args, ["markdown", "content"]);
    const body: Record<string, unknown> = defined(fields);
    if (markdown !== undefined) {
      const made = await newDocumentFromMarkdown(markdown, args.title);
      body.content = made.content;
      if (made.title !== null) body.title = made.title;
    }
    await deriveTextContent(body);
    const nb = await ctx.call({ method: "POST", segments: ["notebooks"], body }, NotebookSchema);
    ctx.memory.notebooks.remember(ctx.projectId, nb);
    return {
      structured: notebookWritten(nb, ctx.webUrl(nb.short_id)),
      summary: `Created notebook ${nb.short_id}${nb.title ? ` "${nb.title}"` : ""} (version ${nb.version}).`,
      changed: { shortId: nb.short_id, listed: true },
    };
  },
});
