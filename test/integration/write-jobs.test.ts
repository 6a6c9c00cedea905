/**
 * What a write costs the server's own thread, counted (no clock): each write is one conversion job
 * (Markdown, and the stored version for a change, in; the request body out), and PostHog's echo of
 * the written notebook is parsed only for its small fields, its document kept as bytes.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { echoParsing } from "../../src/notebooks/io.js";
import { type ConversionRun, watchConversions } from "../../src/notebooks/worker-pool.js";
import { type Harness, retrieve, startHarness, structured, textOf } from "../helpers/harness.js";

let h: Harness;
const runs: ConversionRun[] = [];
let unwatch: () => void;
beforeAll(async () => {
  h = await startHarness({ config: { maxResultChars: 2_000_000 } });
  unwatch = watchConversions((run) => runs.push(run));
});
afterAll(async () => {
  unwatch();
  await h.close();
});
beforeEach(() => {
  runs.length = 0;
});

const names = () => runs.map((run) => run.name);

/** About `chars` of ordinary Markdown. */
function markdownOf(chars: number): string {
  const parts: string[] = ["# Big"];
  for (let i = 0; parts.join("\n\n").length < chars; i++) {
    parts.push(`## Part ${i}\n\nSome **bold** words and [a link](https://example.com/${i}).\n\n- one\n- two`);
  }
  return parts.join("\n\n");
}

it("creates a notebook from Markdown in one conversion job, and parses only the echo's small fields", async () => {
  const markdown = markdownOf(20_000);
  const parsedBefore = echoParsing();
  const result = await h.call("notebooks-create", { markdown });
  expect(result.isError, textOf(result)).toBeFalsy();
  expect(names()).toEqual(["makeWrite"]);
  // The echo holds the whole document (over 20,000 characters of JSON) and its text: only its id,
  // version, title and the like were parsed. (Small documents: this counts, it does not time.)
  expect(echoParsing() - parsedBefore).toBeGreaterThan(0);
  expect(echoParsing() - parsedBefore).toBeLessThan(2_000);
  // What was written is what was sent.
  const { short_id } = structured<{ short_id: string }>(result);
  const read = await retrieve<{ markdown: string }>(h, { short_id });
  expect(read.markdown).toBe(markdown);
});

it("edits and appends in one conversion job each, from the document kept as bytes", async () => {
  const markdown = markdownOf(15_000);
  const { short_id } = structured<{ short_id: string }>(await h.call("notebooks-create", { markdown }));
  runs.length = 0;
  // The Markdown of the version just written is made once (to find the passage), then the write.
  const edited = await h.call("notebooks-edit", {
    short_id,
    old_markdown: "## Part 7\n",
    new_markdown: "## Part seven\n",
  });
  expect(edited.isError, textOf(edited)).toBeFalsy();
  expect(names()).toEqual(["shownMarkdown", "makeWrite"]);
  runs.length = 0;
  const appended = await h.call("notebooks-partial-update", { short_id, append_markdown: "The end." });
  expect(appended.isError, textOf(appended)).toBeFalsy();
  expect(names()).toEqual(["makeWrite"]);
  const read = await retrieve<{ markdown: string }>(h, { short_id });
  expect(read.markdown).toBe(`${markdown.replace("## Part 7\n", "## Part seven\n")}\n\nThe end.`);
});

it("writes a JSON document and a rename in one conversion job each", async () => {
  const content = {
    type: "doc",
    content: [
      { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Doc" }] },
      { type: "paragraph", content: [{ type: "text", text: "x".repeat(5_000) }] },
    ],
  };
  const made = await h.call("notebooks-create", { content });
  expect(made.isError, textOf(made)).toBeFalsy();
  expect(names()).toEqual(["makeWrite"]);
  const { short_id } = structured<{ short_id: string }>(made);
  runs.length = 0;
  const renamed = await h.call("notebooks-partial-update", { short_id, title: "Renamed" });
  expect(renamed.isError, textOf(renamed)).toBeFalsy();
  expect(names()).toEqual(["makeWrite"]);
  const read = await retrieve<{ title: string; markdown: string }>(h, { short_id });
  expect(read.title).toBe("Renamed");
  expect(read.markdown).toBe(`# Renamed\n\n${"x".repeat(5_000)}`);
});

it("reads the same version again without converting it again", async () => {
  const { short_id } = structured<{ short_id: string }>(
    await h.call("notebooks-create", { markdown: markdownOf(10_000) }),
  );
  await retrieve(h, { short_id });
  runs.length = 0;
  const again = await retrieve<{ markdown: string }>(h, { short_id });
  expect(again.markdown).toBe(markdownOf(10_000));
  expect(names()).toEqual([]);
});
