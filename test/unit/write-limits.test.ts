/**
 * A new notebook PostHog could not take, or too big to convert, is refused before anything is
 * sent or converted whole: PostHog takes at most 20 MB in one request (Django's
 * DATA_UPLOAD_MAX_MEMORY_SIZE), and one block of more than 100,000 lines cannot be converted a
 * piece at a time. Each refusal is a sentence saying what to do.
 */
import { describe, expect, it } from "vitest";
import { MAX_QUOTE_DEPTH } from "../../src/content/markdown/blocks.js";
import { MAX_BLOCK_LINES, POSTHOG_BODY_LIMIT } from "../../src/content/write-back.js";
import { makeWrite } from "../../src/content/write-job.js";

const create = (markdown: string) => makeWrite({ job: { kind: "create", markdown }, fields: {} });

/** About `chars` of paragraphs of bold words, 500 lines each: ~12 bytes of JSON per character. */
function boldWords(chars: number): string {
  const paragraph = Array.from({ length: 500 }, () => "**a** **b** **c**").join("\n");
  return Array.from({ length: Math.ceil(chars / paragraph.length) }, () => paragraph).join("\n\n");
}

describe("a new notebook too big for PostHog", () => {
  it("stops converting once its document is over 20 MB, and sends nothing", () => {
    const made = create(boldWords(3_000_000));
    expect(made.body).toBeNull();
    expect(made.refused?.reason).toBe("too_large");
    expect(made.refused?.message).toMatch(
      /^This notebook would be more than 2\d\.\d MB as PostHog stores it .* PostHog takes at most 20 MB in one request, so nothing was sent\. .*split the content into several notebooks/,
    );
  });

  it("is refused from its blocks alone when they could not fit, before any is converted", () => {
    // 1.3 million one-letter paragraphs: at least 21 bytes of JSON each.
    const made = create("a\n\n".repeat(1_300_000));
    expect(made.refused?.reason).toBe("too_large");
    expect(made.refused?.message).toMatch(/^This notebook would be more than 2\d\.\d MB/);
    expect(made.notes).toEqual([]);
  });

  it("one just under the limit is written whole", () => {
    const made = create(boldWords(1_200_000));
    expect(made.refused).toBeNull();
    expect(made.body?.byteLength).toBeGreaterThan(10 * 1024 * 1024);
    expect(made.body?.byteLength).toBeLessThanOrEqual(POSTHOG_BODY_LIMIT);
    expect(JSON.parse(new TextDecoder().decode(made.body as Uint8Array)).content.type).toBe("doc");
  });
});

describe("one block of more than 100,000 lines", () => {
  it.for([
    ["paragraph", "a\n".repeat(MAX_BLOCK_LINES + 1)],
    ["list", "- item\n".repeat(MAX_BLOCK_LINES + 1)],
    ["quote", "> a\n".repeat(MAX_BLOCK_LINES + 1)],
    ["table", `| a |\n| --- |\n${"| 1 |\n".repeat(MAX_BLOCK_LINES)}`],
  ])("a %s is refused, naming its line and how to split it", ([name, block]) => {
    const made = create(`# Title\n\nIntro.\n\n${block}`);
    expect(made.body).toBeNull();
    expect(made.refused?.reason).toBe("too_large");
    expect(made.refused?.line).toBe(5);
    expect(made.refused?.message).toMatch(
      new RegExp(
        `^The ${name} at line 5 of your Markdown runs \\d+ lines, more than the 100,000 one block may have .*Split it with blank lines, or into several notebooks\\.$`,
      ),
    );
  });

  it("a code block of as many lines is written (one text node)", () => {
    const made = create(`\`\`\`\n${"x = 1\n".repeat(MAX_BLOCK_LINES + 1)}\`\`\``);
    expect(made.refused).toBeNull();
    expect(made.body).not.toBeNull();
  });

  it("100,000 lines are written", () => {
    const made = create("- item\n".repeat(MAX_BLOCK_LINES));
    expect(made.refused).toBeNull();
  });
});

describe("any write over 20 MB", () => {
  it("a JSON document PostHog could not take is refused before it is sent", () => {
    const text = "a".repeat(POSTHOG_BODY_LIMIT);
    const made = makeWrite({
      job: {
        kind: "content",
        content: {
          value: { type: "doc", content: [{ type: "paragraph", content: [{ type: "text", text }] }] },
        },
        titleFrom: false,
      },
      fields: {},
    });
    expect(made.body).toBeNull();
    expect(made.refused?.reason).toBe("too_large");
    expect(made.refused?.message).toMatch(/^This notebook would be 40\.0 MB as PostHog stores it/);
  });
});

describe("quotes inside quotes", () => {
  /** How deep blockquotes nest in a document. */
  function quoteDepth(node: { type?: string; content?: unknown[] }): number {
    const inner = (node.content ?? []).map((child) => quoteDepth(child as typeof node));
    return (node.type === "blockquote" ? 1 : 0) + Math.max(0, ...inner);
  }

  it.for([[1_000], [1_400]])(
    "%i deep: read as blocks %i levels down, the rest as text with a note (it overflowed the stack at 1,400)",
    ([depth]) => {
      const made = create(`${"> ".repeat(depth as number)}deepest`);
      expect(made.refused).toBeNull();
      const doc = JSON.parse(new TextDecoder().decode(made.body as Uint8Array)).content;
      expect(quoteDepth(doc)).toBe(MAX_QUOTE_DEPTH + 1);
      expect(JSON.stringify(doc)).toContain("deepest");
      expect(made.notes).toEqual([
        { line: 1, message: `a quote inside more than ${MAX_QUOTE_DEPTH} quotes: stored as text` },
      ]);
    },
  );

  it("as deep as allowed, every level is a quote of blocks", () => {
    const made = create(`${"> ".repeat(MAX_QUOTE_DEPTH)}- item`);
    const doc = JSON.parse(new TextDecoder().decode(made.body as Uint8Array)).content;
    expect(quoteDepth(doc)).toBe(MAX_QUOTE_DEPTH);
    expect(JSON.stringify(doc)).toContain('"bulletList"');
    expect(made.notes).toEqual([]);
  });
});
