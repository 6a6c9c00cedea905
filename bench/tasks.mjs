// The agent tasks of the bench, each scripted twice: with this server's tools, and with PostHog's
// own MCP tools as they are today (bench/posthog-tools.mjs), each side with the tools that cost it
// least. A script plays the agent: it calls tools and reads their answers as an agent would, and
// `tally` counts the calls and the characters the agent wrote (tool name and arguments) and read
// (what a client passes it from each result). Each task also says its floor: the characters no
// server can spare the agent, what it must write itself and the notebook text it must see.
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
  "A session that shows the old failure:",
  "",
  '<Recording id="0192f1d4-7c1e-7a55-b1d3-5e6f7a8b9c0d" />',
].join("\n");

const FINDINGS = [
  "## Follow-up, Friday",
  "",
  "- The drop is back to baseline in every region.",
  "- Two customers still report the coupon bug: see the support queue.",
].join("\n");

/** Three sentences a multi-edit changes, at about 20 %, 45 % and 70 % of a 100 KB notebook. */
const THREE = [
  ["Monthly churn fell to 3.1 percent in October.", "Monthly churn fell to 2.9 percent in October."],
  [
    "Activation rose to 57 percent for the new onboarding.",
    "Activation rose to 59 percent for the new onboarding.",
  ],
  [SENTENCE, NEW_SENTENCE],
];

/** A long notebook's Markdown (about `bytes`), holding SENTENCE as a paragraph at about 70 %. */
export function longNotebookMarkdown(bytes) {
  const before = notebookMarkdown(Math.round(bytes * 0.7), 101);
  const after = notebookMarkdown(Math.round(bytes * 0.3), 202);
  return `# Retention deep-dive\n\n${before.trimEnd()}\n\n${SENTENCE}\n\n${after}`;
}

/** A long notebook's Markdown holding the three sentences of THREE. */
function threeSentenceMarkdown(bytes) {
  const parts = [0.2, 0.25, 0.25, 0.3].map((share, i) =>
    notebookMarkdown(Math.round(bytes * share), 500 + i).trimEnd(),
  );
  return `# Retention deep-dive\n\n${parts[0]}\n\n${THREE[0][0]}\n\n${parts[1]}\n\n${THREE[1][0]}\n\n${parts[2]}\n\n${THREE[2][0]}\n\n${parts[3]}\n`;
}

/** A v1 (rich-text) notebook from Markdown, made in the sandbox (not counted). */
const richNotebook =
  (markdown, title, extra = {}) =>
  (sandbox) =>
    sandbox.call("insertMarkdown", { markdown, title, ...extra });

/** A Markdown (v2) notebook, as notebooks-create-markdown makes them (not counted). */
const markdownNotebook = (markdown, title) => async (sandbox) => {
  const content = { type: "doc", content: [{ type: "ph-markdown-notebook", attrs: { markdown } }] };
  return sandbox.call("insert", { init: { title, content, text_content: markdown } });
};

/** The Markdown of a notebook as this project's converter writes it (what a floor counts as seen). */
async function storedMarkdown(sandbox, shortId, content) {
  const nb = await sandbox.call("getNotebook", { shortId });
  return content.documentToMarkdown(nb.content);
}

/** Passages found with find, checked to hold the text the agent looks for. */
function passageHolding(found, text) {
  const match = found.matches?.find((m) => m.passage.includes(text));
  if (!match) throw new Error(`find did not show ${JSON.stringify(text)}`);
  return match;
}

/**
 * Each task: `prepare(sandbox)` makes what it needs directly in the sandbox (not counted), then
 * `ours(call, data)` and `theirs(call, data, content)` play the agent; `floor(sandbox, data,
 * content)` is {written, read} in characters: what the agent must write (search terms, ids, its
 * own text) and the notebook text it must see; `check` says the task was done.
 */
export const TASKS = [
  {
    id: "find-read",
    title: "Find and read a notebook (the checkout investigation)",
    prepare: async () => ({ short_id: "chk9Drop" }),
    async ours(call) {
      const found = await call("notebooks-list", { search: "checkout" });
      const id = found.results.find((nb) => /checkout/i.test(nb.title ?? ""))?.short_id;
      const read = await call("notebooks-retrieve", { short_id: id });
      if (!read.markdown.includes("Conversion")) throw new Error("find-read: not the notebook");
    },
    async theirs(call) {
      const page = await call("notebooks-list", { search: "checkout" });
      const id = page.results.find((nb) => /checkout/i.test(nb.title ?? ""))?.short_id;
      await call("notebooks-retrieve", { short_id: id });
    },
    floor: async (sandbox, data, content) => ({
      written: "checkout".length + data.short_id.length,
      read: (await storedMarkdown(sandbox, data.short_id, content)).length,
    }),
  },
  {
    id: "create-report",
    title: "Create a report notebook (1.2 KB of Markdown: headings, list, table, insight, recording)",
    prepare: async () => ({}),
    async ours(call) {
      await call("notebooks-create", { markdown: REPORT });
    },
    async theirs(call) {
      const [heading, ...body] = REPORT.split("\n");
      await call("notebooks-create-markdown", {
        title: heading.replace(/^# /, ""),
        markdown: body.join("\n"),
      });
    },
    floor: async () => ({ written: REPORT.length, read: 8 }),
  },
  {
    id: "read-long",
    title: "Read a 100 KB rich-text notebook whole",
    prepare: richNotebook(longNotebookMarkdown(100_000), "Retention deep-dive"),
    async ours(call, data) {
      let read = await call("notebooks-retrieve", { short_id: data.short_id });
      while (read.range?.next_offset) {
        read = await call("notebooks-retrieve", { short_id: data.short_id, offset: read.range.next_offset });
      }
    },
    async theirs(call, data) {
      await call("notebooks-retrieve", { short_id: data.short_id });
    },
    floor: async (sandbox, data, content) => ({
      written: data.short_id.length,
      read: (await storedMarkdown(sandbox, data.short_id, content)).length,
    }),
  },
  {
    id: "read-long-md",
    title: "Read a 100 KB Markdown notebook whole",
    prepare: markdownNotebook(longNotebookMarkdown(100_000), "Retention deep-dive"),
    async ours(call, data) {
      let read = await call("notebooks-retrieve", { short_id: data.short_id });
      while (read.range?.next_offset) {
        read = await call("notebooks-retrieve", { short_id: data.short_id, offset: read.range.next_offset });
      }
    },
    async theirs(call, data) {
      await call("notebooks-markdown-retrieve", { short_id: data.short_id });
    },
    floor: async () => ({ written: 8, read: longNotebookMarkdown(100_000).length }),
  },
  {
    id: "edit-sentence",
    title: "Change one sentence in a 100 KB rich-text notebook",
    prepare: richNotebook(longNotebookMarkdown(100_000), "Retention deep-dive"),
    async ours(call, data) {
      const found = await call("notebooks-retrieve", {
        short_id: data.short_id,
        find: "Weekly retention settled",
      });
      const match = passageHolding(found, SENTENCE);
      await call("notebooks-edit", {
        short_id: data.short_id,
        old_markdown: match.passage,
        new_markdown: match.passage.replace("41 percent", "44 percent"),
        version: found.version,
      });
    },
    async theirs(call, data) {
      // No find within a notebook: the agent reads it to locate the sentence, then edits the text.
      const nb = await call("notebooks-retrieve", { short_id: data.short_id });
      if (!JSON.stringify(nb.content).includes(SENTENCE)) throw new Error("edit-sentence: not found");
      await call("notebook-edit", {
        short_id: data.short_id,
        edits: [{ type: "replace_text", find: SENTENCE, replace: NEW_SENTENCE, all_occurrences: false }],
      });
    },
    floor: async () => ({ written: SENTENCE.length + NEW_SENTENCE.length + 8, read: SENTENCE.length }),
    async check(sandbox, data) {
      const nb = await sandbox.call("getNotebook", { shortId: data.short_id });
      const text = JSON.stringify(nb.content);
      if (!text.includes(NEW_SENTENCE) || text.includes(SENTENCE))
        throw new Error("edit-sentence: not changed");
    },
  },
  {
    id: "edit-sentence-md",
    title: "Change one sentence in a 100 KB Markdown notebook",
    prepare: markdownNotebook(longNotebookMarkdown(100_000), "Retention deep-dive"),
    async ours(call, data) {
      const found = await call("notebooks-retrieve", {
        short_id: data.short_id,
        find: "Weekly retention settled",
      });
      const match = passageHolding(found, SENTENCE);
      await call("notebooks-edit", {
        short_id: data.short_id,
        old_markdown: match.passage,
        new_markdown: match.passage.replace("41 percent", "44 percent"),
        version: found.version,
      });
    },
    async theirs(call, data) {
      const read = await call("notebooks-markdown-retrieve", { short_id: data.short_id });
      if (!read.markdown.includes(SENTENCE)) throw new Error("edit-sentence-md: not found");
      await call("notebook-edit", {
        short_id: data.short_id,
        old_markdown: SENTENCE,
        new_markdown: NEW_SENTENCE,
      });
    },
    floor: async () => ({ written: SENTENCE.length + NEW_SENTENCE.length + 8, read: SENTENCE.length }),
    async check(sandbox, data) {
      const nb = await sandbox.call("getNotebook", { shortId: data.short_id });
      const text = JSON.stringify(nb.content);
      if (!text.includes(NEW_SENTENCE) || text.includes(SENTENCE))
        throw new Error("edit-sentence-md: not changed");
    },
  },
  {
    id: "edit-three",
    title: "Change three sentences spread through a 100 KB rich-text notebook",
    prepare: richNotebook(threeSentenceMarkdown(100_000), "Retention deep-dive"),
    async ours(call, data) {
      const found = await call("notebooks-retrieve", {
        short_id: data.short_id,
        find: "Monthly churn fell|Activation rose|Weekly retention settled",
        regex: true,
      });
      const edits = THREE.map(([from, to]) => {
        const match = passageHolding(found, from);
        return { old_markdown: match.passage, new_markdown: match.passage.replace(from, to) };
      });
      await call("notebooks-edit", { short_id: data.short_id, edits, version: found.version });
    },
    async theirs(call, data) {
      const nb = await call("notebooks-retrieve", { short_id: data.short_id });
      const text = JSON.stringify(nb.content);
      if (!THREE.every(([from]) => text.includes(from))) throw new Error("edit-three: not found");
      await call("notebook-edit", {
        short_id: data.short_id,
        edits: THREE.map(([find, replace]) => ({
          type: "replace_text",
          find,
          replace,
          all_occurrences: false,
        })),
      });
    },
    floor: async () => ({
      written: THREE.reduce((n, [from, to]) => n + from.length + to.length, 8),
      read: THREE.reduce((n, [from]) => n + from.length, 0),
    }),
    async check(sandbox, data) {
      const nb = await sandbox.call("getNotebook", { shortId: data.short_id });
      const text = JSON.stringify(nb.content);
      if (!THREE.every(([from, to]) => text.includes(to) && !text.includes(from)))
        throw new Error("edit-three: not changed");
    },
  },
  {
    id: "append-after-read",
    title: "Append findings right after reading a notebook",
    prepare: richNotebook(notebookMarkdown(6_000, 303), "Weekly notes"),
    async ours(call, data) {
      await call("notebooks-retrieve", { short_id: data.short_id });
      await call("notebooks-partial-update", { short_id: data.short_id, append_markdown: FINDINGS });
    },
    async theirs(call, data, content) {
      // notebook-edit with a subtree: the last block, replaced by itself and the new blocks.
      const nb = await call("notebooks-retrieve", { short_id: data.short_id });
      const added = content.markdownToDocument(FINDINGS, { inlineTags: true }).doc.content;
      const last = nb.content.content[nb.content.content.length - 1];
      await call("notebook-edit", { short_id: data.short_id, old_value: last, new_value: [last, ...added] });
    },
    floor: async (sandbox, data, content) => ({
      written: FINDINGS.length + data.short_id.length,
      read: (await storedMarkdown(sandbox, data.short_id, content)).length,
    }),
  },
  {
    id: "restore",
    title: "Restore a notebook deleted elsewhere",
    prepare: richNotebook(notebookMarkdown(6_000, 404), "Q3 plan", { deleted: true }),
    async ours(call, data) {
      await call("notebooks-partial-update", { short_id: data.short_id, deleted: false });
    },
    async theirs(call, data) {
      await call("notebooks-partial-update", { short_id: data.short_id, deleted: false });
    },
    floor: async (_sandbox, data) => ({ written: data.short_id.length, read: 0 }),
  },
];
