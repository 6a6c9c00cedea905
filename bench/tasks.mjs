// The agent tasks of the bench, each scripted twice: with this server's tools, and the way
// PostHog's own MCP tools do it (bench/posthog-tools.mjs). A script plays the agent: it calls tools
// and reads their answers as an agent would, and `tally` counts the calls and the characters the
// agent wrote (tool name and arguments) and read (what a client passes it from each result).
import { notebookMarkdown } from "./gen.mjs";

/** The sentence the edit task changes, somewhere past the middle of a 100 KB notebook. */
export const SENTENCE = "Weekly retention settled at 41 percent after the pricing change.";
const NEW_SENTENCE = "Weekly retention settled at 44 percent after the pricing change.";

export const REPORT = [
  "# Checkout report: week 47",
  "",
  "Conversion from cart to payment **recovered to 38%** after the *1.4.2* fix shipped on Tuesday.",
  "",
  "## What changed",
  "",
  "- Card payments on Safari no longer time out at the 3-D Secure step.",
  "- The coupon field moved below the order summary.",
  "- Mobile checkout now keeps the cart when the session expires.",
  "",
  "## Funnel",
  "",
  '<Query query={{"kind":"SavedInsightNode","shortId":"aB3dE5fG"}} />',
  "",
  "| step | users | conversion |",
  "| --- | --- | --- |",
  "| cart | 12,480 | 100% |",
  "| payment | 4,742 | 38.0% |",
  "| confirmed | 4,511 | 36.1% |",
  "",
  "## Next",
  "",
  "- [ ] Watch the Safari error rate for another week",
  "- [ ] Compare with the same week last quarter",
  "",
  'A session that shows the old failure: <Recording id="0192f1d4-7c1e-7a55-b1d3-5e6f7a8b9c0d" />',
].join("\n");

const FINDINGS = [
  "## Follow-up, Friday",
  "",
  "- The drop is back to baseline in every region.",
  "- Two customers still report the coupon bug: see the support queue.",
].join("\n");

/** A long notebook's Markdown (about `bytes`), holding SENTENCE as a paragraph at about 70 %. */
export function longNotebookMarkdown(bytes) {
  const before = notebookMarkdown(Math.round(bytes * 0.7), 101);
  const after = notebookMarkdown(Math.round(bytes * 0.3), 202);
  return `# Retention deep-dive\n\n${before.trimEnd()}\n\n${SENTENCE}\n\n${after}`;
}

/** Replaces `from` by `to` in every text node of a ProseMirror document (what an agent edits in JSON). */
function replaceInText(node, from, to) {
  if (Array.isArray(node)) return node.map((child) => replaceInText(child, from, to));
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      key === "text" && typeof value === "string" ? value.replace(from, to) : replaceInText(value, from, to);
  }
  return out;
}

/**
 * Each task: `prepare(sandbox)` makes what it needs directly in the sandbox (not counted), then
 * `ours(call, data, tools)` and `theirs(call, data, content)` play the agent.
 */
export const TASKS = [
  {
    id: "find-read",
    title: "Find and read a notebook (the checkout investigation)",
    fewest: 2,
    prepare: async () => ({}),
    async ours(call) {
      const found = await call("notebooks-list", { search: "checkout" });
      const id = found.results.find((nb) => /checkout/i.test(nb.title ?? ""))?.short_id;
      const read = await call("notebooks-retrieve", { short_id: id });
      if (!read.markdown.includes("Conversion")) throw new Error("find-read: not the notebook");
    },
    async theirs(call) {
      // PostHog's notebooks-list takes no search: the agent scans the page for the title.
      const page = await call("notebooks-list", {});
      const id = page.results.find((nb) => /checkout/i.test(nb.title ?? ""))?.short_id;
      await call("notebooks-retrieve", { short_id: id });
    },
  },
  {
    id: "create-report",
    title: "Create a report notebook (1.2 KB of Markdown: headings, list, table, insight, recording)",
    fewest: 1,
    prepare: async () => ({}),
    async ours(call) {
      await call("notebooks-create", { markdown: REPORT });
    },
    async theirs(call, _data, content) {
      // The agent writes the document as ProseMirror JSON (what the Markdown above becomes).
      const doc = content.markdownToDocument(REPORT, { inlineTags: true }).doc;
      await call("notebooks-create", { title: "Checkout report: week 47", content: doc });
    },
  },
  {
    id: "read-long",
    title: "Read a 100 KB notebook whole",
    fewest: 1,
    prepare: async (sandbox) =>
      sandbox.call("insertMarkdown", {
        markdown: longNotebookMarkdown(100_000),
        title: "Retention deep-dive",
      }),
    async ours(call, data) {
      let read = await call("notebooks-retrieve", { short_id: data.short_id });
      while (read.range?.next_offset) {
        read = await call("notebooks-retrieve", { short_id: data.short_id, offset: read.range.next_offset });
      }
    },
    async theirs(call, data) {
      await call("notebooks-retrieve", { short_id: data.short_id });
    },
  },
  {
    id: "edit-sentence",
    title: "Change one sentence in a 100 KB notebook",
    fewest: 2,
    prepare: async (sandbox) =>
      sandbox.call("insertMarkdown", {
        markdown: longNotebookMarkdown(100_000),
        title: "Retention deep-dive",
      }),
    async ours(call, data, tools) {
      let read = await call("notebooks-retrieve", { short_id: data.short_id });
      const parts = [read.markdown];
      while (!read.markdown.includes(SENTENCE) && read.range?.next_offset) {
        read = await call("notebooks-retrieve", { short_id: data.short_id, offset: read.range.next_offset });
        parts.push(read.markdown);
      }
      if (tools.includes("notebooks-edit")) {
        await call("notebooks-edit", {
          short_id: data.short_id,
          old_markdown: SENTENCE,
          new_markdown: NEW_SENTENCE,
          version: read.version,
        });
      } else {
        // Before notebooks-edit: the whole document rewritten.
        while (read.range?.next_offset) {
          read = await call("notebooks-retrieve", {
            short_id: data.short_id,
            offset: read.range.next_offset,
          });
          parts.push(read.markdown);
        }
        await call("notebooks-partial-update", {
          short_id: data.short_id,
          markdown: parts.join("").replace(SENTENCE, NEW_SENTENCE),
          version: read.version,
        });
      }
    },
    async theirs(call, data) {
      const nb = await call("notebooks-retrieve", { short_id: data.short_id });
      await call("notebooks-partial-update", {
        short_id: data.short_id,
        content: replaceInText(nb.content, SENTENCE, NEW_SENTENCE),
        version: nb.version,
      });
    },
    async check(sandbox, data) {
      const nb = await sandbox.call("getNotebook", { shortId: data.short_id });
      const text = JSON.stringify(nb.content);
      if (!text.includes(NEW_SENTENCE) || text.includes(SENTENCE))
        throw new Error("edit-sentence: not changed");
    },
  },
  {
    id: "append-after-read",
    title: "Append findings right after reading a notebook",
    fewest: 2,
    prepare: async (sandbox) =>
      sandbox.call("insertMarkdown", { markdown: notebookMarkdown(6_000, 303), title: "Weekly notes" }),
    async ours(call, data) {
      await call("notebooks-retrieve", { short_id: data.short_id });
      await call("notebooks-partial-update", { short_id: data.short_id, append_markdown: FINDINGS });
    },
    async theirs(call, data, content) {
      const nb = await call("notebooks-retrieve", { short_id: data.short_id });
      const added = content.markdownToDocument(FINDINGS, { inlineTags: true }).doc.content;
      await call("notebooks-partial-update", {
        short_id: data.short_id,
        content: { ...nb.content, content: [...nb.content.content, ...added] },
        version: nb.version,
      });
    },
  },
  {
    id: "restore",
    title: "Restore a notebook deleted elsewhere",
    // One request restores it, but PostHog's answer does not say whether it was deleted: ours reads
    // it first, so that the result says so (a notebook this session deleted takes one request).
    fewest: 2,
    prepare: async (sandbox) =>
      sandbox.call("insertMarkdown", {
        markdown: notebookMarkdown(6_000, 404),
        title: "Q3 plan",
        deleted: true,
      }),
    async ours(call, data) {
      await call("notebooks-partial-update", { short_id: data.short_id, deleted: false });
    },
    async theirs(call, data) {
      await call("notebooks-partial-update", { short_id: data.short_id, deleted: false });
    },
  },
];
