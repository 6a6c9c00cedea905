/**
 * Writes and the requests they cost: the version an agent just read or wrote is known, so an append
 * or a rewrite right after a read is one request; the parts of a long notebook come from one
 * version; writes from one client to one notebook go one at a time, and none is refused for
 * conflicting with another of the same client.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, retrieve, startHarness, structured, textOf } from "../helpers/harness.js";
import { callSandbox } from "../helpers/sandbox-http.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { maxResultChars: 1_000 } });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.mark());

interface Read {
  short_id: string;
  version: number;
  markdown: string;
  range?: { offset: number; length: number; total: number; next_offset: number | null };
}

const requests = () => h.upstream().map((r) => `${r.method} ${r.status}`);

async function created(markdown: string): Promise<string> {
  return structured<{ short_id: string }>(await h.call("notebooks-create", { markdown })).short_id;
}

describe("requests per write", () => {
  it("appends right after a read with one request, and again after its own write", async () => {
    const id = await created("# Log\n\nfirst");
    await h.call("notebooks-retrieve", { short_id: id });
    h.mark();
    expect(
      (await h.call("notebooks-partial-update", { short_id: id, append_markdown: "second" })).isError,
    ).toBeFalsy();
    expect(
      (await h.call("notebooks-partial-update", { short_id: id, append_markdown: "third" })).isError,
    ).toBeFalsy();
    expect(requests()).toEqual(["PATCH 200", "PATCH 200"]);
    const read = await retrieve<Read>(h, { short_id: id });
    expect(read.markdown).toBe("# Log\n\nfirst\n\nsecond\n\nthird");
  });

  it("rewrites right after a read with one request, and refuses an old version without writing", async () => {
    const id = await created("# Plan\n\nold text");
    const read = await retrieve<Read>(h, { short_id: id });
    h.mark();
    const ok = await h.call("notebooks-partial-update", {
      short_id: id,
      markdown: "# Plan\n\nnew text",
      version: read.version,
    });
    expect(ok.isError, textOf(ok)).toBeFalsy();
    expect(requests()).toEqual(["PATCH 200"]);
    h.mark();
    const stale = await h.call("notebooks-partial-update", {
      short_id: id,
      markdown: "# Plan\n\nlost text",
      version: read.version,
    });
    expect(stale.isError).toBe(true);
    expect(textOf(stale)).toMatch(/changed by someone else.*version 0.*version 1/);
    // The held version was newer than the one sent: PostHog is asked once, nothing is written.
    expect(requests()).toEqual(["GET 200"]);
  });

  it("serves the later parts of a long notebook from the version the first part came from", async () => {
    const long = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} of a long notebook.`).join("\n\n");
    const id = await created(`# Long\n\n${long}`);
    h.mark();
    const parts: Read[] = [await retrieve<Read>(h, { short_id: id })];
    // Someone edits between the parts: the parts still fit together.
    const theirs = await callSandbox(h.sandbox, "PATCH", `/api/projects/@current/notebooks/${id}/`, {
      body: { title: "Renamed elsewhere" },
    });
    expect(theirs.status).toBe(200);
    h.mark();
    for (let next = parts[0]?.range?.next_offset; next !== null && next !== undefined; ) {
      const part = await retrieve<Read>(h, { short_id: id, offset: next });
      parts.push(part);
      next = part.range?.next_offset;
    }
    expect(parts.length).toBeGreaterThan(1);
    expect(requests()).toEqual([]);
    expect(parts.map((p) => p.markdown).join("")).toBe(`# Long\n\n${long}`);
  });

  it("lands every one of many parallel appends from one client, one write at a time", async () => {
    const id = await created("# Parallel");
    h.mark();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.call("notebooks-partial-update", { short_id: id, append_markdown: `entry ${i}` }),
      ),
    );
    expect(results.map((r) => r.isError ?? false)).toEqual(Array(8).fill(false));
    expect(requests()).toEqual(Array(8).fill("PATCH 200"));
    const read = await retrieve<Read>(h, { short_id: id });
    for (let i = 0; i < 8; i++) expect(read.markdown).toContain(`entry ${i}`);
    expect(read.version).toBe(8);
  });
});

describe("titles with hidden characters", () => {
  it("a title written with a ⟦U+…⟧ marker is stored as the character, as title and as heading alike", async () => {
    const created = await h.call("notebooks-create", { title: "Q3 ⟦U+202E⟧plan", markdown: "Body." });
    const id = structured<{ short_id: string }>(created).short_id;
    const stored = await callSandbox(h.sandbox, "GET", `/api/projects/@current/notebooks/${id}/`);
    const nb = stored.json as { title: string; content: { content: { content?: { text?: string }[] }[] } };
    expect(nb.title).toBe("Q3 \u202eplan");
    expect(nb.content.content[0]?.content?.[0]?.text).toBe("Q3 \u202eplan");
    const renamed = await h.call("notebooks-partial-update", { short_id: id, title: "Q4 ⟦U+202E⟧plan" });
    expect(renamed.isError, textOf(renamed)).toBeFalsy();
    const after = (await callSandbox(h.sandbox, "GET", `/api/projects/@current/notebooks/${id}/`)).json as {
      title: string;
    };
    expect(after.title).toBe("Q4 \u202eplan");
  });
});

describe("writes PostHog could not take", () => {
  it("a create with one block of more than 100,000 lines is a tool error saying how to split it; nothing is sent", async () => {
    const result = await h.call("notebooks-create", { markdown: `# Big\n\n${"- item\n".repeat(100_001)}` });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /The list at line 3 of your Markdown runs 100001 lines.*Split it with blank lines/,
    );
    expect(requests()).toEqual([]);
  });

  it("a document nested too deep is refused in one sentence per full stop", async () => {
    let node: Record<string, unknown> = { type: "paragraph" };
    for (let i = 0; i < 300; i++) node = { type: "blockquote", content: [node] };
    const result = await h.call("notebooks-create", { content: { type: "doc", content: [node] } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /content nests more than 100 levels deep, and no notebook needs that many: flatten it, or send markdown\. Nothing was sent to PostHog/,
    );
    expect(textOf(result)).not.toContain("..");
    expect(requests()).toEqual([]);
  });

  it("a write whose Markdown cannot be read in 5,000 places lists 100 of them and says how many more", async () => {
    const result = await h.call("notebooks-create", { markdown: `# Links\n\n${"[a](b) ".repeat(5_000)}` });
    expect(result.isError, textOf(result)).toBeFalsy();
    const notes = (result.structuredContent as { notes: { line: number; message: string }[] }).notes;
    expect(notes).toHaveLength(101);
    expect(notes[100]?.message).toBe(
      "and 4900 more from here on, not listed: correct the ones above and write again to see them",
    );
    expect(textOf(result)).toMatch(
      /More than 100 things in the Markdown could not be read as written: line 3: /,
    );
  });
});
