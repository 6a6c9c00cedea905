/**
 * Property-based tests: v1 documents survive Markdown and back (up to normalizeDoc), Markdown written
 * by docToMarkdown is a fixpoint, and text full of Markdown metacharacters survives.
 *
 * The generators cover every standard node and mark, PostHog nodes with random JSON attributes
 * (strings with quotes, braces and newlines), lists in lists, quotes holding lists, tables, inline
 * atoms with marks, and text made of Markdown metacharacters. Left out on purpose, as PostHog's
 * editor cannot hold them: empty text nodes, and code text carrying other marks too (TipTap's code
 * mark excludes every other mark; normalizeDoc models that).
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  docToMarkdown,
  type MarkJSON,
  markdownToDoc,
  type NodeJSON,
  normalizeDoc,
} from "../../src/content/index.js";

const RUNS = 300;
const SEED = 20240611;

const CHAR_POOL = [
  ..."abcxyzABC019",
  ..." *_[]#<>`|~!&()-+.=:;\"'{}/\\@$%^?,",
  "\t",
  "\u00a0",
  "é",
  "日",
  "😀",
  "\n",
];

const textArb = fc
  .array(fc.constantFrom(...CHAR_POOL), { minLength: 1, maxLength: 8 })
  .map((chars) => chars.join(""));

/** Snippets that look like Markdown syntax, block syntax at a line start especially. */
const SYNTAX_SNIPPETS = [
  "1. ",
  "1) ",
  "- ",
  "+ ",
  "* ",
  "> ",
  "# ",
  "###### ",
  "---",
  "===",
  "```",
  "~~~",
  "    code",
  "| a | b |",
  "[ ] ",
  "[x] ",
  "&nbsp;",
  "&amp;",
  "<Query />",
  "<u>",
  "<br>",
  " ",
  "  ",
  "_a_",
  "**",
  "![a](b)",
  "[a](b)",
  "<https://x.y>",
];

const richTextArb = fc.oneof(
  { weight: 3, arbitrary: textArb },
  { weight: 1, arbitrary: fc.constantFrom(...SYNTAX_SNIPPETS) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...SYNTAX_SNIPPETS), textArb).map(([a, b]) => a + b) },
);

const SAFE_HREFS = [
  "https://posthog.com/docs",
  "https://example.com/a_b?x=1&y=2",
  "https://example.com/(paren)",
  "https://ex.com/ä ü",
  "/insights/abc123",
  "#anchor",
  "mailto:someone@example.com",
  "https://x.y/&amp;",
  "",
];

interface Arbitraries {
  doc: fc.Arbitrary<{ type: "doc"; content: NodeJSON[] }>;
  inline: fc.Arbitrary<NodeJSON[]>;
}

/**
 * Document generators. With `expressible`, only content Markdown can hold without the
 * `<RawNode>` escape hatch (no unknown node types, script links, sized table cells, code spans with
 * newlines, or attribute names that are not prop names).
 */
function arbitraries(expressible: boolean): Arbitraries {
  const hrefs = expressible ? SAFE_HREFS : [...SAFE_HREFS, "javascript:alert(1)"];
  const propKey = fc.constantFrom(
    "id",
    "title",
    "nodeId",
    "height",
    "__init",
    "children",
    "query",
    "view",
    "x-y",
  );
  const jsonAttrs: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
    expressible
      ? propKey
      : fc.oneof({ weight: 9, arbitrary: propKey }, { weight: 1, arbitrary: fc.string({ maxLength: 4 }) }),
    fc.oneof(
      // Through JSON text and back, as content travels to PostHog (this turns -0 into 0).
      fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown),
      fc.constantFrom('say "hi" {x} </Query> />', "line1\nline2", "}{", "a|b", "\\", true, false, null),
    ),
    { maxKeys: 4 },
  );

  const mark: fc.Arbitrary<MarkJSON> = fc.oneof(
    fc.constantFrom<MarkJSON>(
      { type: "bold" },
      { type: "italic" },
      { type: "strike" },
      { type: "underline" },
    ),
    fc.constantFrom(...hrefs).map((href): MarkJSON => ({ type: "link", attrs: { href, target: "_blank" } })),
    fc.constantFrom("c1", 'c"2', "c3 <x>", "").map((id): MarkJSON => ({ type: "comment", attrs: { id } })),
  );
  const marks: fc.Arbitrary<MarkJSON[]> = fc.oneof(
    { weight: 3, arbitrary: fc.constant<MarkJSON[]>([]) },
    { weight: 4, arbitrary: fc.uniqueArray(mark, { maxLength: 3, selector: (m) => m.type }) },
    { weight: 1, arbitrary: fc.constant<MarkJSON[]>([{ type: "code" }]) },
  );
  const textNode: fc.Arbitrary<NodeJSON> = fc.tuple(richTextArb, marks).map(([value, ms]) => {
    const isCode = ms.some((m) => m.type === "code");
    const text = expressible && isCode ? value.replace(/\n/g, " ") : value;
    return ms.length > 0 ? { type: "text", text, marks: ms } : { type: "text", text };
  });

  const inlineAtom: fc.Arbitrary<NodeJSON> = fc.oneof(
    fc.nat({ max: 5000 }).map((id): NodeJSON => ({ type: "ph-mention", attrs: { id } })),
    fc
      .record({
        playbackTime: fc.oneof(fc.constant(null), fc.nat({ max: 10_000_000 })),
        sessionRecordingId: fc.constantFrom("0188-abc", 'quote"id', "a|b"),
        sourceNodeId: fc.constantFrom(null, "node-1"),
      })
      .map((attrs): NodeJSON => ({ type: "ph-replay-timestamp", attrs })),
    fc
      .record({
        href: fc.constantFrom("/insights/abc", "/feature_flags/12"),
        type: fc.constant("insight"),
        title: textArb,
      })
      .map((attrs): NodeJSON => ({ type: "ph-backlink", attrs })),
    ...(expressible ? [] : [jsonAttrs.map((attrs): NodeJSON => ({ type: "ph-future-inline", attrs }))]),
  );
  const markedAtom: fc.Arbitrary<NodeJSON> = fc.tuple(inlineAtom, marks).map(([atom, ms]) => {
    const usable = ms.filter((m) => m.type !== "code");
    return usable.length > 0 ? { ...atom, marks: usable } : atom;
  });

  const inline: fc.Arbitrary<NodeJSON[]> = fc.array(
    fc.oneof(
      { weight: 6, arbitrary: textNode },
      { weight: 1, arbitrary: fc.constant<NodeJSON>({ type: "hardBreak" }) },
      { weight: 1, arbitrary: markedAtom },
    ),
    { maxLength: 6 },
  );
  const paragraph = (content: NodeJSON[]): NodeJSON =>
    content.length > 0 ? { type: "paragraph", content } : { type: "paragraph" };
  const paragraphArb = inline.map(paragraph);

  const phTypes = [
    "ph-query",
    "ph-recording",
    "ph-recording-playlist",
    "ph-feature-flag",
    "ph-feature-flag-code-example",
    "ph-experiment",
    "ph-early-access-feature",
    "ph-survey",
    "ph-person",
    "ph-group",
    "ph-cohort",
    "ph-image",
    "ph-embed",
    "ph-latex",
    "ph-map",
    "ph-person-feed",
    "ph-task-create",
    "ph-llm-trace",
    "ph-python",
    "ph-duck-sql",
    "ph-hogql-sql",
    "ph-insight",
    "ph-dashboard-widget",
    "ph-python-v2",
  ];
  const phBlock: fc.Arbitrary<NodeJSON> = fc.oneof(
    fc.tuple(fc.constantFrom(...phTypes), jsonAttrs).map(([type, attrs]): NodeJSON => ({ type, attrs })),
    fc
      .tuple(
        fc.constantFrom("https://x/y.png", "/uploaded/a b.png", "https://x/(1).png"),
        fc.option(fc.constantFrom("alt text", "a*b", "x]y")),
      )
      .map(([src, alt]): NodeJSON => ({ type: "ph-image", attrs: alt === null ? { src } : { src, alt } })),
    fc.constant<NodeJSON>({
      type: "ph-query",
      attrs: { query: { kind: "SavedInsightNode", shortId: "abc123" }, hideFilters: true, nodeId: "n1" },
    }),
  );

  const codeBlock: fc.Arbitrary<NodeJSON> = fc
    .tuple(
      fc.constantFrom(null, "", "sql", "python", "c++", "with space", "a`b", "x\\y"),
      fc
        .array(
          fc.constantFrom(
            "select 1",
            "```",
            "~~~~",
            "`",
            "  indented",
            "\tTab",
            "",
            "<Query />",
            "- x",
            "a|b",
          ),
          {
            maxLength: 4,
          },
        )
        .map((lines) => lines.join("\n")),
    )
    .map(
      ([language, value]): NodeJSON => ({
        type: "codeBlock",
        attrs: { language },
        ...(value ? { content: [{ type: "text", text: value }] } : {}),
      }),
    );

  const cell = (type: string, sized: boolean): fc.Arbitrary<NodeJSON> =>
    inline.map(
      (content): NodeJSON => ({
        type,
        attrs: { colspan: 1, rowspan: 1, colwidth: sized ? [120] : null },
        content: [paragraph(content)],
      }),
    );
  const table: fc.Arbitrary<NodeJSON> = fc
    .record({
      cols: fc.integer({ min: 1, max: 3 }),
      rows: fc.integer({ min: 0, max: 2 }),
      sized: fc.boolean(),
    })
    .chain(({ cols, rows, sized }) =>
      fc
        .tuple(
          fc.array(cell("tableHeader", false), { minLength: cols, maxLength: cols }),
          fc.array(fc.array(cell("tableCell", !expressible && sized), { minLength: cols, maxLength: cols }), {
            minLength: rows,
            maxLength: rows,
          }),
        )
        .map(
          ([header, body]): NodeJSON => ({
            type: "table",
            content: [header, ...body].map((cells) => ({ type: "tableRow", content: cells })),
          }),
        ),
    );

  const tree = fc.letrec<{ block: NodeJSON; item: NodeJSON[] }>((tie) => ({
    block: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      { weight: 5, arbitrary: paragraphArb },
      {
        weight: 2,
        arbitrary: fc.tuple(fc.integer({ min: 1, max: 6 }), inline).map(
          ([level, content]): NodeJSON => ({
            type: "heading",
            attrs: { level },
            ...(content.length > 0 ? { content } : {}),
          }),
        ),
      },
      { weight: 1, arbitrary: codeBlock },
      { weight: 1, arbitrary: fc.constant<NodeJSON>({ type: "horizontalRule" }) },
      { weight: 2, arbitrary: phBlock },
      { weight: 1, arbitrary: table },
      {
        weight: 1,
        arbitrary: fc
          .array(tie("block"), { minLength: 1, maxLength: 3 })
          .map((content): NodeJSON => ({ type: "blockquote", content })),
      },
      {
        weight: 1,
        arbitrary: fc.array(tie("item"), { minLength: 1, maxLength: 3 }).map(
          (items): NodeJSON => ({
            type: "bulletList",
            content: items.map((content) => ({ type: "listItem", content })),
          }),
        ),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(1, 1, 0, 7, 10), fc.array(tie("item"), { minLength: 1, maxLength: 3 }))
          .map(
            ([start, items]): NodeJSON => ({
              type: "orderedList",
              attrs: { start },
              content: items.map((content) => ({ type: "listItem", content })),
            }),
          ),
      },
      {
        weight: 1,
        arbitrary: fc.array(fc.tuple(fc.boolean(), tie("item")), { minLength: 1, maxLength: 3 }).map(
          (items): NodeJSON => ({
            type: "taskList",
            content: items.map(([checked, content]) => ({ type: "taskItem", attrs: { checked }, content })),
          }),
        ),
      },
      {
        weight: expressible ? 0 : 1,
        arbitrary: fc.constant<NodeJSON>({
          type: "callout",
          attrs: { emoji: "💡" },
          content: [{ type: "paragraph" }],
        }),
      },
    ),
    item: fc
      .tuple(paragraphArb, fc.array(tie("block"), { maxLength: 2 }))
      .map(([first, rest]) => [first, ...rest]),
  }));

  return {
    doc: fc.array(tree.block, { maxLength: 6 }).map((content) => ({ type: "doc", content })),
    inline,
  };
}

const all = arbitraries(false);
const expressible = arbitraries(true);
const options = { numRuns: RUNS, seed: SEED };

describe("Markdown round trip (property-based)", () => {
  it("v1 document → Markdown → document is the same document up to normalizeDoc", () => {
    fc.assert(
      fc.property(all.doc, (doc) => {
        const md = docToMarkdown(doc);
        expect(normalizeDoc(markdownToDoc(md)), md).toEqual(normalizeDoc(doc));
      }),
      options,
    );
  });

  it("Markdown written by docToMarkdown is stable: md → doc → md gives it back", () => {
    fc.assert(
      fc.property(all.doc, (doc) => {
        const md = docToMarkdown(doc);
        expect(docToMarkdown(markdownToDoc(md))).toBe(md);
      }),
      options,
    );
  });

  it("content Markdown can express is written without the raw escape hatch", () => {
    fc.assert(
      fc.property(expressible.doc, (doc) => {
        const md = docToMarkdown(doc);
        expect(md).not.toMatch(/<Raw(?:Inline)?Node /);
        expect(normalizeDoc(markdownToDoc(md)), md).toEqual(normalizeDoc(doc));
      }),
      options,
    );
  });

  it("adjacent and overlapping marks survive in paragraphs, headings and table cells", () => {
    const wrap = (content: NodeJSON[], where: number): NodeJSON => {
      const body = content.length > 0 ? content : [{ type: "text", text: "x" }];
      if (where === 0) return { type: "paragraph", content: body };
      if (where === 1) return { type: "heading", attrs: { level: 2 }, content: body };
      const cellNode = {
        type: "tableHeader",
        attrs: { colspan: 1, rowspan: 1, colwidth: null },
        content: [{ type: "paragraph", content: body }],
      };
      return { type: "table", content: [{ type: "tableRow", content: [cellNode] }] };
    };
    fc.assert(
      fc.property(expressible.inline, fc.integer({ min: 0, max: 2 }), (content, where) => {
        const doc = { type: "doc", content: [wrap(content, where)] };
        const md = docToMarkdown(doc);
        expect(md).not.toMatch(/<Raw(?:Inline)?Node /);
        expect(normalizeDoc(markdownToDoc(md)), md).toEqual(normalizeDoc(doc));
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it("text made of Markdown metacharacters survives in every text position", () => {
    const metaText = fc
      .array(
        fc.constantFrom(..."*_[]#<>`|~!&\\-+.=)( \t", "1.", "1)", "- ", "> ", "```", "&amp;", "<br>", "\n"),
        {
          minLength: 1,
          maxLength: 12,
        },
      )
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(metaText, (value) => {
        const t = { type: "text", text: value };
        const cellNode = {
          type: "tableCell",
          attrs: { colspan: 1, rowspan: 1, colwidth: null },
          content: [{ type: "paragraph", content: [t] }],
        };
        const doc = {
          type: "doc",
          content: [
            { type: "paragraph", content: [t] },
            { type: "heading", attrs: { level: 1 }, content: [t] },
            {
              type: "bulletList",
              content: [{ type: "listItem", content: [{ type: "paragraph", content: [t] }] }],
            },
            { type: "blockquote", content: [{ type: "paragraph", content: [t] }] },
            {
              type: "table",
              content: [
                { type: "tableRow", content: [{ ...cellNode, type: "tableHeader" }] },
                { type: "tableRow", content: [cellNode] },
              ],
            },
          ],
        };
        const md = docToMarkdown(doc);
        expect(md).not.toMatch(/<Raw(?:Inline)?Node /);
        expect(markdownToDoc(md), md).toEqual(markdownToDoc(docToMarkdown(markdownToDoc(md))));
        expect(normalizeDoc(markdownToDoc(md)), md).toEqual(normalizeDoc(doc));
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe("arbitrary Unicode text (property-based)", () => {
  it("any text, control characters included, survives with any marks in any text position", () => {
    const markPool: MarkJSON[] = [
      { type: "bold" },
      { type: "italic" },
      { type: "strike" },
      { type: "underline" },
      { type: "link", attrs: { href: "https://x.y" } },
      { type: "comment", attrs: { id: "c" } },
    ];
    const anyText = fc.string({ unit: "binary", minLength: 1, maxLength: 6 });
    const inline = fc.array(
      fc.oneof(
        fc
          .tuple(anyText, fc.subarray(markPool))
          .map(
            ([text, marks]): NodeJSON =>
              marks.length > 0 ? { type: "text", text, marks } : { type: "text", text },
          ),
        anyText.map((text): NodeJSON => ({ type: "text", text, marks: [{ type: "code" }] })),
        fc
          .subarray(markPool)
          .map(
            (marks): NodeJSON => (marks.length > 0 ? { type: "hardBreak", marks } : { type: "hardBreak" }),
          ),
      ),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(inline, (content) => {
        const paragraph = { type: "paragraph", content };
        const doc = {
          type: "doc",
          content: [
            paragraph,
            { type: "heading", attrs: { level: 1 }, content },
            {
              type: "orderedList",
              attrs: { start: 1 },
              content: [{ type: "listItem", content: [paragraph] }],
            },
            {
              type: "table",
              content: [
                {
                  type: "tableRow",
                  content: [
                    {
                      type: "tableHeader",
                      attrs: { colspan: 1, rowspan: 1, colwidth: null },
                      content: [paragraph],
                    },
                  ],
                },
              ],
            },
          ],
        };
        const md = docToMarkdown(doc);
        expect(normalizeDoc(markdownToDoc(md)), md).toEqual(normalizeDoc(doc));
        expect(docToMarkdown(markdownToDoc(md))).toBe(md);
      }),
      { numRuns: 200, seed: SEED },
    );
  });
});

const SNIPPETS = [
  "# Title",
  "## Sub *it*",
  "para **b** _i_ ~~s~~ `c`",
  "- a\n- b",
  "1. x\n2. y",
  "* star",
  "+ plus",
  "- [ ] t\n- [x] u",
  "> q",
  "> - ql",
  "```js\ncode\n```",
  "~~~\ntilde\n~~~",
  "    indented",
  "---",
  "***",
  "| a | b |\n| - | - |\n| c | d |",
  '<Query query={{"kind":"HogQLQuery","query":"select 1"}} />',
  '<Recording id="r1" />',
  '<u>u</u> <ref id="c">r</ref>',
  '<mention id="7">@Bob</mention>',
  "line\nnext",
  "trailing  \nbreak",
  "&amp; &copy; &#35;",
  "\\* \\_ \\#",
  '[l](https://x.y "title")',
  "<https://auto.link>",
  "![i](https://x/i.png)",
  "Setext\n===",
  "Setext2\n---",
  "1) paren",
  "- a\n\n  b",
  "- a\n  ```\n  c\n  ```",
  "<Divider />",
  'text <ReplayTimestamp playbackTime={1000} sessionRecordingId="s" />',
  " ",
  "&nbsp;",
  "a | b",
  "<!-- comment -->",
  "<div>html</div>",
  "[ref]: https://x.y\n\n[ref]",
  "**unclosed",
  "a_b_c",
  "__strong__",
  "10. ten\n11. eleven",
  "- \n- x",
];

describe("Markdown stability from hand-written Markdown (property-based)", () => {
  it("after one pass through a document, Markdown is a fixpoint", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...SNIPPETS), { minLength: 1, maxLength: 6 }),
        fc.constantFrom("\n\n", "\n"),
        (parts, separator) => {
          const source = parts.join(separator);
          const doc = markdownToDoc(source);
          const md = docToMarkdown(doc);
          expect(docToMarkdown(markdownToDoc(md)), JSON.stringify({ source, md })).toBe(md);
          expect(normalizeDoc(markdownToDoc(md))).toEqual(normalizeDoc(doc));
        },
      ),
      options,
    );
  });
});
