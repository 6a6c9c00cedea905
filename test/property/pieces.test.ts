/**
 * A new notebook is converted a piece of its Markdown at a time (content/write-back.ts
 * `convertInPieces`), and its request body written a piece at a time (content/write-job.ts): on
 * generated Markdown nobody chose, cut between every block or at random sizes, the nodes, the
 * notes and the request body's bytes are those of converting the whole at once.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deriveTextContent, documentToMarkdown } from "../../src/content/index.js";
import { restoreInvisible, revealInvisible } from "../../src/content/invisible.js";
import type { NodeJSON } from "../../src/content/nodes.js";
import { documentTitle, withTitle } from "../../src/content/title.js";
import { convertInPieces } from "../../src/content/write-back.js";
import { createWrite } from "../../src/content/write-job.js";
import { documentArbitrary } from "../helpers/doc-arbitraries.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);
const TIMEOUT = Math.max(120_000, RUNS * 60);

/**
 * Lines of the grammar's every kind of block, and the lines that end, continue or open them in
 * odd places: fences, comments across blank lines, tags over several lines, tables, quotes, lists.
 */
const LINES = [
  "",
  " ",
  "  ",
  "# Title",
  "## Heading *two*",
  "plain text with **bold** and a [link](https://example.com)",
  "more text",
  "```",
  "```python",
  "code = 1",
  "<!-- a comment",
  "-->",
  "still -->",
  "<!-- whole -->",
  '<Query query={{"kind":"HogQLQuery","query":"select 1"}} />',
  '<Image src="https://example.com/a.png"',
  'alt="x" />',
  "<Chat>",
  "</Chat>",
  "<Unknown",
  '<Person id="1" />',
  "| a | b |",
  "| --- | --- |",
  "| 1 | 2 |",
  "> quoted",
  "> - quoted item",
  ">",
  "- item",
  "  - nested item",
  "- [ ] task",
  "1. first",
  "2) second",
  "---",
  "***",
  "![alt](https://example.com/i.png)",
  '<ReplayTimestamp playbackTime={1000} sessionRecordingId="abc" />',
  'text <Backlink href="/insights/1" /> more',
  "\t- tabbed",
];

const lineSoup = fc
  .tuple(fc.array(fc.constantFrom(...LINES), { maxLength: 60 }), fc.constantFrom("\n", "\r\n"))
  .map(([lines, end]) => lines.join(end));

const markdownArbitrary = fc.oneof(
  lineSoup,
  documentArbitrary.map((doc) => revealInvisible(documentToMarkdown(doc))),
);

function inPieces(markdown: string, pieceChars: number) {
  const pieces: NodeJSON[][] = [];
  const { diagnostics } = convertInPieces(
    markdown,
    (nodes) => {
      pieces.push(nodes);
      return true;
    },
    pieceChars,
  );
  return { nodes: pieces.flat(), diagnostics, pieces: pieces.length };
}

/** The request body of a create as it was made whole: one document, stringified whole. */
function wholeBody(markdown: string, title: string | null | undefined): string {
  let doc = { type: "doc", content: inPieces(markdown, Number.POSITIVE_INFINITY).nodes };
  const leading = documentTitle(doc);
  const body: Record<string, unknown> = {};
  if (title) {
    if (leading !== title) doc = withTitle(doc, title) as typeof doc;
    body.title = title;
  } else if (leading !== null) body.title = leading;
  body.text_content = deriveTextContent(doc);
  return JSON.stringify({ content: doc, ...body });
}

describe("a new notebook made a piece at a time", () => {
  it(
    "reads as the whole Markdown does, cut between every block or at any size",
    () => {
      fc.assert(
        fc.property(markdownArbitrary, fc.integer({ min: 1, max: 400 }), (markdown, size) => {
          const whole = inPieces(markdown, Number.POSITIVE_INFINITY);
          expect(whole.pieces).toBe(1);
          for (const cut of [1, size]) {
            const cutUp = inPieces(markdown, cut);
            expect(cutUp.nodes).toStrictEqual(whole.nodes);
            expect(cutUp.diagnostics).toStrictEqual(whole.diagnostics);
          }
        }),
        { numRuns: RUNS, seed: 2112 },
      );
    },
    TIMEOUT,
  );

  it(
    "has the request body, byte for byte, of the document made whole",
    () => {
      const titles = fc.constantFrom(undefined, null, "", "Title", "A title\u200b with ⟦U+200B⟧");
      fc.assert(
        fc.property(markdownArbitrary, titles, fc.integer({ min: 1, max: 400 }), (markdown, title, size) => {
          const made = createWrite({ kind: "create", markdown, title }, {}, size);
          const body = new TextDecoder().decode(made.body as Uint8Array);
          const restored = title ? restoreInvisible(title) : title;
          expect(body).toBe(wholeBody(restoreInvisible(markdown), restored));
          const span = made.contentSpan as { start: number; end: number };
          const document = new TextDecoder().decode((made.body as Uint8Array).subarray(span.start, span.end));
          expect(document).toBe(JSON.stringify(JSON.parse(body).content));
        }),
        { numRuns: RUNS, seed: 2113 },
      );
    },
    TIMEOUT,
  );

  it("cuts a big Markdown into pieces of about the size asked for", () => {
    const markdown = Array.from({ length: 2000 }, (_, i) => `## Part ${i}\n\nSome text ${i}.`).join("\n\n");
    const { pieces, nodes } = inPieces(markdown, 4096);
    expect(nodes).toHaveLength(4000);
    expect(pieces).toBeGreaterThan(markdown.length / 4096 - 2);
    expect(pieces).toBeLessThan(markdown.length / 4096 + 2);
  });
});
