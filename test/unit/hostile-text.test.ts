/**
 * Text an agent or PostHog hands this server, read without a cost that grows with the square of its
 * size: the patterns replaced here read the same as before (fast-check against the old pattern, on
 * short input where its cost does not matter), and the input that made them quadratic is read
 * whole (sizes at which the old patterns ran for minutes; these take milliseconds).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alignBlocks, MAX_TRIES } from "../../src/content/align.js";
import { documentToMarkdown } from "../../src/content/to-markdown.js";
import { atxHeading, type FindSpec, findPassages, outlineOf } from "../../src/notebooks/find.js";

/** The heading pattern outlineOf used: a line of spaces cost the square of its length. */
const OLD_ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;

const line = (chars: string[], maxLength = 24) =>
  fc.array(fc.constantFrom(...chars), { maxLength }).map((parts) => parts.join(""));

describe("headings (outline and find)", () => {
  it("reads every line as the old pattern did", () => {
    fc.assert(
      fc.property(line([" ", "\t", "#", "a", "b", "\r", "\u2028", "\\"]), (text) => {
        const old = OLD_ATX.exec(text);
        const now = atxHeading(text);
        expect(now).toEqual(old ? { level: old[1]?.length, text: old[2] ?? "" } : undefined);
      }),
      { numRuns: 20_000 },
    );
  });

  it("reads a notebook of 2,000-character heading lines of spaces", () => {
    const hostile = `# a${" ".repeat(1_996)}x`;
    expect(atxHeading(hostile)).toEqual({ level: 1, text: `a${" ".repeat(1_996)}x` });
    const markdown = Array.from({ length: 2_000 }, () => hostile).join("\n");
    expect(outlineOf(markdown)).toHaveLength(2_000);
  });
});

describe("list items and table cells on one line", () => {
  it("converts a list item and a table cell holding a line break and 200,000 spaces", () => {
    const spaces = " ".repeat(200_000);
    const paragraph = () => ({
      type: "paragraph",
      content: [{ type: "text", text: "a" }, { type: "hardBreak" }, { type: "text", text: `b${spaces}c` }],
    });
    const doc = {
      type: "doc",
      content: [
        {
          type: "bulletList",
          content: [{ type: "listItem", content: [paragraph()] }],
        },
        {
          type: "table",
          content: [{ type: "tableRow", content: [{ type: "tableCell", content: [paragraph()] }] }],
        },
      ],
    };
    const markdown = documentToMarkdown(doc);
    expect(markdown).toContain("- a");
    expect(markdown).toContain("| a");
  });
});

describe("find, as text", () => {
  const spec = (find: string): FindSpec => ({ find, regex: false, context: 0, maxMatches: 5, from: 0 });

  it("finds what indexOf found, leftmost first, without overlaps", async () => {
    await fc.assert(
      fc.asyncProperty(line(["a", "b", "\n"], 40), line(["a", "b"], 4), async (text, find) => {
        fc.pre(find.length > 0);
        const old: number[] = [];
        for (let i = text.indexOf(find); i !== -1; i = text.indexOf(find, i + find.length)) old.push(i);
        const found = await findPassages(text, spec(find), []);
        expect(found.total).toBe(old.length);
        expect(found.matches.map((m) => m.offset)).toEqual(old.slice(0, 5));
      }),
      { numRuns: 5_000 },
    );
  });

  it("searches 4 MB of `a`s for 500 `a`s, a `b` and 499 `a`s (indexOf in a loop: their product)", async () => {
    const found = await findPassages(
      "a".repeat(4_000_000),
      spec(`${"a".repeat(500)}b${"a".repeat(499)}`),
      [],
    );
    expect(found.total).toBe(0);
  });
});

describe("aligning a rewrite with what was stored", () => {
  it("looks at a bounded number of places for a block whose first piece recurs everywhere without the rest", () => {
    // 2,000 stored blocks of two pieces ("A", then "B"); the new Markdown holds "A" 20,000 times
    // and no "B": every place of "A" starts no whole block.
    const blocks = Array.from({ length: 2_000 }, () => ["A", "B"]);
    const plain = Array.from({ length: 20_000 }, () => "A");
    let reads = 0;
    const counted = new Proxy(plain, {
      get(target, property, receiver) {
        if (typeof property === "string" && /^\d+$/.test(property)) reads++;
        return Reflect.get(target, property, receiver);
      },
    });
    const kept = alignBlocks(blocks, counted);
    expect([...kept].every((at) => at === -1)).toBe(true);
    // Reading each new piece once to index them, then at most MAX_TRIES places a block, two pieces
    // each: not every place of "A" for every block (80 million reads).
    expect(reads).toBeLessThanOrEqual(plain.length + blocks.length * MAX_TRIES * 2);
  });

  it("still keeps a block found whole near where it was", () => {
    const blocks = [["A", "B"], ["C"]];
    const kept = alignBlocks(blocks, ["A", "A", "B", "C"]);
    expect([...kept]).toEqual([1, 3]);
  });
});
