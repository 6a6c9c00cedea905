/**
 * Nothing the agent did not change is changed (property-based): random v1 documents with every
 * kind of node, attributes Markdown cannot show and invisible characters; one block changed
 * through each write path (a rewrite, an append, an edit); every other block is the very node
 * that was stored. v2 notebooks: the pieces the agent did not touch stay byte-identical.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appendToDocument,
  documentToMarkdown,
  documentUnits,
  markdownNotebook,
  markdownToDocument,
  type NodeJSON,
  rewriteDocument,
} from "../../src/content/index.js";
import { restoreInvisible, revealInvisible } from "../../src/content/invisible.js";
import { applyReplacements } from "../../src/notebooks/edit-diff.js";
import { findApart as occurrences } from "../../src/text-search.js";

const CHARS = [
  ..."abcdefghij XYZ 0123",
  ..."*_`~[]()<>#|\\!-+.=:&{}\"'",
  "\u200B", // zero-width space (shown as a marker)
  "\u202E", // right-to-left override
  "\u200D", // zero-width joiner
  "\u00AD", // soft hyphen
  "\uFE0F",
  "👨",
  "é",
  "⟦",
  "\u{E0041}", // a tag character
];

const text = fc.string({ unit: fc.constantFrom(...CHARS), minLength: 1, maxLength: 12 });
const word = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnop"), minLength: 1, maxLength: 8 });
const attrValue = fc.oneof(word, fc.integer({ min: -5, max: 500 }), fc.boolean(), fc.constant(null));

const mark: fc.Arbitrary<NodeJSON["marks"] extends (infer M)[] | undefined ? M : never> = fc.oneof(
  fc.constantFrom(
    { type: "bold" },
    { type: "italic" },
    { type: "strike" },
    { type: "underline" },
    { type: "code" },
  ),
  word.map((w) => ({
    type: "link",
    attrs: { href: `https://example.com/${w}`, target: "_blank", rel: "noopener" },
  })),
  word.map((w) => ({ type: "comment", attrs: { id: `thread-${w}` } })),
);

const inline: fc.Arbitrary<NodeJSON> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        type: fc.constant("text"),
        text,
        marks: fc.uniqueArray(mark, { maxLength: 2, selector: (m) => m.type }),
      })
      .map((n) => (n.marks.length > 0 ? n : { type: "text", text: n.text })),
  },
  { weight: 1, arbitrary: fc.constant({ type: "hardBreak" }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 99 }).map((id) => ({ type: "ph-mention", attrs: { id } })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 600_000 }), word).map(([ms, id]) => ({
      type: "ph-replay-timestamp",
      attrs: { playbackTime: ms, sessionRecordingId: id, sourceNodeId: null },
    })),
  },
);

const paragraph = fc
  .array(inline, { maxLength: 5 })
  .map((content) => (content.length > 0 ? { type: "paragraph", content } : { type: "paragraph" }));

const listItem = (type: string): fc.Arbitrary<NodeJSON> =>
  paragraph.map((p) =>
    type === "taskItem"
      ? { type, attrs: { checked: p.content !== undefined }, content: [p] }
      : { type, content: [p] },
  );

const list: fc.Arbitrary<NodeJSON> = fc.oneof(
  fc
    .array(listItem("listItem"), { minLength: 1, maxLength: 3 })
    .map((content) => ({ type: "bulletList", content })),
  fc
    .tuple(fc.integer({ min: 1, max: 9 }), fc.array(listItem("listItem"), { minLength: 1, maxLength: 3 }))
    .map(([start, content]) => ({ type: "orderedList", attrs: { start }, content })),
  fc
    .array(listItem("taskItem"), { minLength: 1, maxLength: 3 })
    .map((content) => ({ type: "taskList", content })),
);

const cell = (type: string) =>
  paragraph.chain((p) =>
    fc.option(fc.integer({ min: 40, max: 300 })).map((width) => ({
      type,
      attrs: { colspan: 1, rowspan: 1, colwidth: width === null ? null : [width] },
      content: [p],
    })),
  );

const table: fc.Arbitrary<NodeJSON> = fc.integer({ min: 1, max: 3 }).chain((columns) =>
  fc
    .tuple(
      fc.array(cell("tableHeader"), { minLength: columns, maxLength: columns }),
      fc.array(fc.array(cell("tableCell"), { minLength: columns, maxLength: columns }), { maxLength: 2 }),
    )
    .map(([header, rows]) => ({
      type: "table",
      content: [
        { type: "tableRow", content: header },
        ...rows.map((content) => ({ type: "tableRow", content })),
      ],
    })),
);

const component: fc.Arbitrary<NodeJSON> = fc.oneof(
  fc.tuple(word, attrValue).map(([shortId, height]) => ({
    type: "ph-query",
    attrs: { query: { kind: "SavedInsightNode", shortId }, nodeId: `n-${shortId}`, height, __init: null },
  })),
  fc
    .tuple(word, fc.boolean())
    .map(([id, noInspector]) => ({ type: "ph-recording", attrs: { id, noInspector, nodeId: `r-${id}` } })),
  fc.tuple(word, text).map(([name, alt]) => ({
    type: "ph-image",
    attrs: { src: `https://example.com/${name}.png`, alt, title: `Figure ${name}`, width: 320 },
  })),
  fc.tuple(word, attrValue).map(([name, value]) => ({
    type: "ph-custom-widget",
    attrs: { name, value },
    content: [{ type: "paragraph", content: [{ type: "text", text: name }] }],
  })),
  word.map((shortId) => ({
    type: "ph-insight",
    attrs: { short_id: shortId, filters: { insight: "TRENDS" } },
  })),
);

const block: fc.Arbitrary<NodeJSON> = fc.oneof(
  { weight: 5, arbitrary: paragraph },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.array(inline, { minLength: 1, maxLength: 3 }))
      .map(([level, content]) => ({ type: "heading", attrs: { level, textAlign: "left" }, content })),
  },
  { weight: 2, arbitrary: list },
  { weight: 1, arbitrary: table },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.option(word), text).map(([language, code]) => ({
      type: "codeBlock",
      attrs: { language },
      content: [{ type: "text", text: code }],
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(paragraph, { minLength: 1, maxLength: 2 })
      .map((content) => ({ type: "blockquote", content })),
  },
  { weight: 1, arbitrary: fc.constant({ type: "horizontalRule" }) },
  { weight: 2, arbitrary: component },
  {
    weight: 1,
    arbitrary: fc
      .array(paragraph, { minLength: 1, maxLength: 2 })
      .map((content) => ({ type: "callout", attrs: { emoji: "💡" }, content })),
  },
);

const documents = fc
  .array(block, { minLength: 1, maxLength: 12 })
  .map((content) => ({ type: "doc", content }));

/** The units of a document that show in its Markdown. */
function visible(doc: { content: NodeJSON[] }): number[] {
  const units = documentUnits(doc);
  if (typeof units === "string") throw new Error("not a v1 document");
  return units.flatMap((unit, i) => (unit.markdown !== "" ? [i] : []));
}

/** Asserts `after` holds every node of `before` but `changed`, as the same objects, in order. */
function expectOthersKept(before: NodeJSON[], after: NodeJSON[], changed: number | undefined): void {
  const others = before.filter((_, i) => i !== changed);
  expect(after.filter((node) => before.includes(node))).toEqual(others);
  for (const node of others) expect(after).toContain(node);
}

const RUNS = { seed: Number(process.env.FC_SEED ?? 20261130), numRuns: Number(process.env.FC_RUNS ?? 300) };
const REPLACEMENT = "A changed block, written by the agent.";

describe("nothing the agent did not change is changed", () => {
  it("Markdown sent back unchanged keeps every node as stored", () => {
    fc.assert(
      fc.property(documents, (doc) => {
        const shown = revealInvisible(documentToMarkdown(doc));
        const written = rewriteDocument(doc, restoreInvisible(shown));
        expect(written.content.content).toHaveLength(doc.content.length);
        written.content.content.forEach((node, i) => {
          expect(node).toBe(doc.content[i]);
        });
        expect(written.written).toBe(0);
      }),
      RUNS,
    );
  });

  it("a rewrite with one block changed changes only that block", () => {
    fc.assert(
      fc.property(documents, fc.nat(), (doc, pick) => {
        const shown = visible(doc);
        fc.pre(shown.length > 0);
        const changed = shown[pick % shown.length] as number;
        const units = documentUnits(doc) as { markdown: string }[];
        const markdown = units
          .map((unit, i) => (i === changed ? REPLACEMENT : unit.markdown))
          .filter((md) => md !== "")
          .join("\n\n");
        const written = rewriteDocument(doc, restoreInvisible(revealInvisible(markdown)));
        expectOthersKept(doc.content, written.content.content, changed);
        expect(written.content.content).toContainEqual(markdownToDocument(REPLACEMENT).doc.content[0]);
      }),
      RUNS,
    );
  });

  it("an edit of a passage changes only the block that holds it", () => {
    fc.assert(
      fc.property(documents, fc.nat(), (doc, pick) => {
        const shown = revealInvisible(documentToMarkdown(doc));
        const units = documentUnits(doc) as { markdown: string }[];
        const candidates = visible(doc).filter((i) => {
          const md = revealInvisible((units[i] as { markdown: string }).markdown);
          return occurrences(shown, md).length === 1;
        });
        fc.pre(candidates.length > 0);
        const changed = candidates[pick % candidates.length] as number;
        const old = revealInvisible((units[changed] as { markdown: string }).markdown);
        const next = applyReplacements(
          shown,
          occurrences(shown, old).map((start) => ({ start, end: start + old.length, text: REPLACEMENT })),
        );
        const written = rewriteDocument(doc, restoreInvisible(next));
        expectOthersKept(doc.content, written.content.content, changed);
      }),
      RUNS,
    );
  });

  it("an append adds blocks after the document and keeps every node as stored", () => {
    fc.assert(
      fc.property(documents, (doc) => {
        const written = appendToDocument(doc, `${REPLACEMENT}\n\n- one\n- two`);
        const nodes = written.content.content;
        doc.content.forEach((node, i) => {
          expect(nodes[i]).toBe(node);
        });
        expect(nodes.slice(doc.content.length).map((n) => n.type)).toEqual(["paragraph", "bulletList"]);
      }),
      RUNS,
    );
  });

  it("a block moved elsewhere whole is the same node, moved", () => {
    fc.assert(
      fc.property(documents, (doc) => {
        const shown = visible(doc);
        fc.pre(shown.length >= 2);
        const units = documentUnits(doc) as { markdown: string }[];
        const first = shown[0] as number;
        const order = [...shown.slice(1), first];
        fc.pre(
          units.filter((u) => u.markdown === (units[first] as { markdown: string }).markdown).length === 1,
        );
        const markdown = order.map((i) => (units[i] as { markdown: string }).markdown).join("\n\n");
        const written = rewriteDocument(doc, markdown);
        expect(written.content.content).toContain(doc.content[first]);
        expect(written.written).toBe(0);
      }),
      RUNS,
    );
  });
});

describe("what Markdown cannot show survives an edit of its block", () => {
  const widths = {
    type: "table",
    attrs: { id: "t1" },
    content: [
      {
        type: "tableRow",
        content: [
          {
            type: "tableHeader",
            attrs: { colspan: 1, rowspan: 1, colwidth: [120] },
            content: [{ type: "paragraph", content: [{ type: "text", text: "step" }] }],
          },
          {
            type: "tableHeader",
            attrs: { colspan: 1, rowspan: 1, colwidth: [80] },
            content: [{ type: "paragraph", content: [{ type: "text", text: "users" }] }],
          },
        ],
      },
      {
        type: "tableRow",
        content: [
          {
            type: "tableCell",
            attrs: { colspan: 1, rowspan: 1, colwidth: [120] },
            content: [{ type: "paragraph", content: [{ type: "text", text: "cart" }] }],
          },
          {
            type: "tableCell",
            attrs: { colspan: 1, rowspan: 1, colwidth: [80] },
            content: [{ type: "paragraph", content: [{ type: "text", text: "100" }] }],
          },
        ],
      },
    ],
  };

  it("a table's column widths, when one cell's text changes", () => {
    const doc = {
      type: "doc",
      content: [{ type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "T" }] }, widths],
    };
    const md = documentToMarkdown(doc).replace("| cart | 100 |", "| cart | 120 |");
    const written = rewriteDocument(doc, md).content.content[1] as NodeJSON;
    expect(written.attrs).toEqual({ id: "t1" });
    const cells = (written.content ?? []).flatMap((row) => row.content ?? []);
    expect(cells.map((c) => c.attrs?.colwidth)).toEqual([[120], [80], [120], [80]]);
    expect(JSON.stringify(written)).toContain('"120"');
  });

  it("a link's target, and an image's title and width", () => {
    const doc = {
      type: "doc",
      content: [
        {
          type: "paragraph",
          content: [
            { type: "text", text: "see " },
            {
              type: "text",
              text: "the docs",
              marks: [{ type: "link", attrs: { href: "https://posthog.com/docs", target: "_blank" } }],
            },
          ],
        },
        {
          type: "ph-image",
          attrs: { src: "https://example.com/a.png", alt: "chart", title: "Q3", width: 480 },
        },
      ],
    };
    const md = documentToMarkdown(doc).replace("see ", "read ").replace("![chart]", "![chart of Q3]");
    const [para, image] = rewriteDocument(doc, md).content.content as NodeJSON[];
    expect(para?.content?.[1]?.marks).toEqual([
      { type: "link", attrs: { href: "https://posthog.com/docs", target: "_blank" } },
    ]);
    expect(image?.attrs).toEqual({
      src: "https://example.com/a.png",
      alt: "chart of Q3",
      title: "Q3",
      width: 480,
    });
  });
});

describe("v2 notebooks: what the agent did not touch stays byte-identical", () => {
  const line = fc.string({ unit: fc.constantFrom(...CHARS, "\n"), minLength: 1, maxLength: 30 });

  it("what is stored is exactly what was sent", () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 10 }), fc.nat(), (parts, pick) => {
        const stored = parts.join("\n\n");
        const doc = markdownNotebook(stored, "node-7");
        const changed = pick % parts.length;
        const next = parts.map((part, i) => (i === changed ? REPLACEMENT : part)).join("\n\n");
        const written = rewriteDocument(doc, restoreInvisible(revealInvisible(next)));
        const node = written.content.content[0] as NodeJSON;
        expect(node.attrs?.nodeId).toBe("node-7");
        expect(node.attrs?.markdown).toBe(next);
      }),
      RUNS,
    );
  });

  it("a changed piece linking to a script loses the link; every other byte stays", () => {
    const stored = "# Plan\n\nKeep [this](javascript:old) as it is.\n\nLast\u200B line";
    const next = stored.replace("Last", "[Click](javascript:alert(1)) Last");
    const written = rewriteDocument(markdownNotebook(stored), next);
    const markdown = (written.content.content[0] as NodeJSON).attrs?.markdown as string;
    expect(markdown).toBe("# Plan\n\nKeep [this](javascript:old) as it is.\n\nClick Last\u200B line");
    expect(written.diagnostics).toEqual([
      {
        line: 5,
        message:
          'a link to "javascript:alert(1)", which is not http(s): stored as its text, without the link',
      },
    ]);
  });
});
