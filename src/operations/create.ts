import { prepareContent, prepareWrite, type WriteNote } from "../notebooks/documents.js";
import { sendWrite } from "../notebooks/io.js";
import { JsonBody } from "../posthog/client.js";
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
    const { markdown, content, ...fields } = args;
    exclusive(args, ["markdown", "content"]);
    const rest: Record<string, unknown> = defined(fields);
    let notes: WriteNote[] = [];
    let body: unknown = rest;
    // One conversion job makes the whole body (in a worker, for a big notebook): the document, the
    // write-time guard, the title and text_content, written as JSON ready to send.
    if (markdown !== undefined) {
      const made = await prepareWrite(
        { job: { kind: "create", markdown, title: args.title }, fields: rest },
        markdown.length,
      );
      ({ notes, body } = made);
    } else if (content !== undefined && content !== null) {
      ({ notes, body } = await prepareContent(create.name, content, args.title === undefined, rest));
    } else if (content === null) rest.content = null;
    const req = { method: "POST" as const, segments: ["notebooks"] };
    const answer =
      body instanceof JsonBody
        ? await sendWrite(ctx, { ...req, body })
        : await ctx.attempt({ ...req, body }, NotebookSchema);
    if (!answer.ok) return ctx.fail(answer.response);
    const nb = answer.data;
    if (!(body instanceof JsonBody)) ctx.memory.notebooks.remember(ctx.projectId, nb);
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
