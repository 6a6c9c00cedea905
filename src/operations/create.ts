import { newDocument, titleOf, type WriteNote } from "../notebooks/documents.js";
import { cleanContent, deriveTextContent, jsonSize } from "../notebooks/writes.js";
import { NotebookSchema } from "../posthog/schemas.js";
import { Content, defined, exclusive, MarkdownArg, TextContent, Title } from "./shared/args.js";
import { CreatedOut, notesSummary } from "./shared/present.js";
import { defineOperation } from "./types.js";

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
    markdown: MarkdownArg.optional().describe("The notebook as Markdown."),
    content: Content.optional(),
    text_content: TextContent.optional(),
  },
  output: CreatedOut,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const { markdown, ...fields } = args;
    exclusive(args, ["markdown", "content"]);
    const body: Record<string, unknown> = defined(fields);
    let notes: WriteNote[] = [];
    let size = markdown?.length ?? 0;
    if (markdown !== undefined) {
      const made = await newDocument(markdown, args.title);
      body.content = made.content;
      notes = made.notes;
      if (made.title !== null) body.title = made.title;
    } else if (body.content !== undefined && body.content !== null) {
      size = jsonSize(body.content);
      const cleaned = await cleanContent(body.content);
      body.content = cleaned.content;
      notes = cleaned.notes;
      if (args.title === undefined) {
        const title = await titleOf(body.content, size);
        if (title !== null) body.title = title;
      }
    }
    await deriveTextContent(body, size);
    const nb = await ctx.call({ method: "POST", segments: ["notebooks"], body }, NotebookSchema);
    ctx.memory.notebooks.remember(ctx.projectId, nb);
    // The agent wrote the notebook: the answer is what it could not know (its id, version and
    // address, and what was not understood), said once in the sentence and once as data.
    const url = ctx.webUrl(nb.short_id);
    return {
      structured: {
        short_id: nb.short_id,
        version: nb.version,
        url,
        ...(notes.length > 0 ? { notes } : {}),
      },
      summary: `Created notebook ${nb.short_id}, version ${nb.version}.${notesSummary(notes)}`,
      text: "",
      changed: { shortId: nb.short_id, listed: true },
    };
  },
});
