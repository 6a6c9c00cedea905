import { describe, expect, it } from "vitest";
import { docToMarkdown, markdownNotebook, markdownToDoc, normalizeDoc } from "../../src/content/index.js";
import {
  bold,
  br,
  cell,
  cellAttrs,
  doc,
  italic,
  li,
  link,
  type Node,
  ol,
  p,
  row,
  task,
  tasks,
  text,
  ul,
} from "../helpers/doc-builders.js";

/** docToMarkdown, also checking that the output reads back as the same document. */
function md(content: { type: string; content: Node[] }): string {
  const out = docToMarkdown(content);
  expect(normalizeDoc(markdownToDoc(out)), out).toEqual(normalizeDoc(content));
  return out;
}

describe("docToMarkdown: blocks", () => {
  it("writes headings, paragraphs, rules and joins blocks with a blank line", () => {
    const content = doc(
      { type: "heading", attrs: { level: 1 }, content: [text("Title")] },
      p(text("Hello")),
      { type: "horizontalRule" },
      { type: "heading", attrs: { level: 3, id: "toc-1" }, content: [text("Sub")] },
      { type: "heading", attrs: { level: 6 } },
    );
    expect(md(content)).toBe("# Title\n\nHello\n\n---\n\n### Sub\n\n######");
  });

  it("writes hard breaks as newlines, and as <br> where a newline cannot hold one", () => {
    expect(md(doc(p(text("a"), br, text("b"))))).toBe("a\nb");
    expect(md(doc(p(text("a"), br)))).toBe("a<br>");
    expect(md(doc(p(text("a"), br, br, text("b"))))).toBe("a<br>\nb");
    expect(md(doc(p(br, text("b"))))).toBe("<br>b");
    expect(md(doc({ type: "heading", attrs: { level: 2 }, content: [text("a"), br, text("b")] }))).toBe(
      "## a<br>b",
    );
  });

  it("writes bullet, ordered and task lists, nested two spaces (marker width) per level", () => {
    const content = doc(
      ul(li(p(text("a")), ul(li(p(text("b")), ul(li(p(text("c"))))))), li(p(text("d")))),
      ol(1, li(p(text("one")), ol(1, li(p(text("sub"))))), li(p(text("two")))),
      tasks(task(false, p(text("todo"))), task(true, p(text("done")), tasks(task(false, p(text("sub")))))),
    );
    expect(md(content)).toBe(
      ["- a\n  - b\n    - c\n- d", "1. one\n   1. sub\n2. two", "- [ ] todo\n- [x] done\n  - [ ] sub"].join(
        "\n\n",
      ),
    );
  });

  it("keeps an ordered list's start and numbers items from it", () => {
    expect(md(doc(ol(3, li(p(text("c"))), li(p(text("d"))))))).toBe("3. c\n4. d");
    expect(md(doc(ol(0, li(p(text("zero"))))))).toBe("0. zero");
  });

  it("alternates markers so that adjacent lists stay separate", () => {
    const content = doc(
      ul(li(p(text("a")))),
      ul(li(p(text("b")))),
      tasks(task(false, p(text("c")))),
      ol(1, li(p(text("d")))),
      ol(1, li(p(text("e")))),
    );
    expect(md(content)).toBe("- a\n\n* b\n\n- [ ] c\n\n1. d\n\n1) e");
  });

  it("indents block content inside list items", () => {
    const content = doc(
      ul(
        li(p(text("a")), p(text("second paragraph")), {
          type: "codeBlock",
          attrs: { language: "js" },
          content: [text("x\n\ny")],
        }),
        li(p()),
        li(p(), ul(li(p(text("nested under empty"))))),
      ),
    );
    expect(md(content)).toBe(
      "- a\n\n  second paragraph\n\n  ```js\n  x\n\n  y\n  ```\n-\n- &nbsp;\n  - nested under empty",
    );
  });

  it("writes block quotes holding paragraphs, lists and code", () => {
    const content = doc({
      type: "blockquote",
      content: [p(text("q")), ul(li(p(text("item")))), { type: "codeBlock", content: [text("c")] }],
    });
    expect(md(content)).toBe("> q\n>\n> - item\n>\n> ```\n> c\n> ```");
  });

  it("writes empty paragraphs: a single space at the top level, &nbsp; elsewhere", () => {
    expect(md(doc(p(text("a")), p(), p(text("b"))))).toBe("a\n\n \n\nb");
    expect(md(doc({ type: "blockquote", content: [p(text("a")), p()] }))).toBe("> a\n>\n> &nbsp;");
    expect(md(doc(p()))).toBe(" ");
    expect(docToMarkdown(doc())).toBe("");
  });

  it("writes code blocks with a fence longer than any backtick run inside, plus the language", () => {
    const code = (language: string | null, value: string): Node => ({
      type: "codeBlock",
      attrs: { language },
      ...(value ? { content: [text(value)] } : {}),
    });
    expect(md(doc(code("sql", "select 1")))).toBe("```sql\nselect 1\n```");
    expect(md(doc(code(null, "a ``` b\n````")))).toBe("`````\na ``` b\n````\n`````");
    expect(md(doc(code("", "")))).toBe("```\n\n```");
    expect(md(doc(code("a`b", "x")))).toBe("~~~a`b\nx\n~~~");
    expect(md(doc(code("python", "x\n")))).toBe("```python\nx\n\n```");
  });

  it("writes GFM tables, escaping pipes in text and code", () => {
    const content = doc({
      type: "table",
      content: [
        row(cell("tableHeader", text("a|b")), cell("tableHeader", text("h"))),
        row(cell("tableCell", text("x|y", { type: "code" })), cell("tableCell")),
      ],
    });
    expect(md(content)).toBe("| a\\|b | h |\n| --- | --- |\n| `x\\|y` |  |");
  });

  it("falls back to a raw node for tables Markdown cannot hold", () => {
    const sized = doc({
      type: "table",
      content: [
        row({ type: "tableHeader", attrs: { ...cellAttrs, colwidth: [150] }, content: [p(text("a"))] }),
      ],
    });
    expect(md(sized)).toBe(
      '<RawNode node={{"type":"table","content":[{"type":"tableRow","content":[{"type":"tableHeader",' +
        '"attrs":{"colspan":1,"rowspan":1,"colwidth":[150]},"content":[{"type":"paragraph",' +
        '"content":[{"type":"text","text":"a"}]}]}]}]}} />',
    );
    const noHeader = doc({ type: "table", content: [row(cell("tableCell", text("a")))] });
    expect(md(noHeader)).toMatch(/^<RawNode node=\{\{"type":"table"/);
  });
});

describe("docToMarkdown: marks", () => {
  it("writes every mark in PostHog's syntax", () => {
    const content = doc(
      p(
        text("b", bold),
        text(" "),
        text("i", italic),
        text(" "),
        text("s", { type: "strike" }),
        text(" "),
        text("u", { type: "underline" }),
        text(" "),
        text("c", { type: "code" }),
        text(" "),
        text("l", link("https://posthog.com")),
        text(" "),
        text("r", { type: "comment", attrs: { id: "c1" } }),
      ),
    );
    expect(md(content)).toBe('**b** *i* ~~s~~ <u>u</u> `c` [l](https://posthog.com) <ref id="c1">r</ref>');
  });

  it("nests overlapping marks", () => {
    expect(md(doc(p(text("a", bold), text("b", bold, italic), text("c", bold))))).toBe("**a*b*c**");
    expect(md(doc(p(text("x", bold, italic))))).toBe("**_x_**");
    expect(md(doc(p(text("bold link", bold, link("https://x.y")))))).toBe("[**bold link**](https://x.y)");
  });

  it("keeps emphasis delimiters flanking by writing edge characters as references", () => {
    expect(md(doc(p(text("a"), text(" b ", bold), text("c"))))).toBe("&#97;**&#32;b&#32;**&#99;");
    expect(md(doc(p(text("x"), text(".y", bold))))).toBe("&#120;**.y**");
  });

  it("writes links with awkward destinations in a form that reads back verbatim", () => {
    expect(md(doc(p(text("a", link("https://x.y/a b")))))).toBe("[a](<https://x.y/a b>)");
    expect(md(doc(p(text("a", link("https://x.y/(p)")))))).toBe("[a](https://x.y/\\(p\\))");
    expect(md(doc(p(text("a", link("/insights/abc")))))).toBe("[a](/insights/abc)");
  });

  it("keeps a script link through the raw escape hatch instead of writing it as a link", () => {
    const out = md(doc(p(text("x", link("javascript:alert(1)")))));
    expect(out).toBe(
      '<RawInlineNode node={{"type":"text","marks":[{"type":"link","attrs":{"href":"javascript:alert(1)"}}],"text":"x"}} />',
    );
  });

  it("writes code spans with fences that differ from the backtick runs inside", () => {
    expect(md(doc(p(text("a`b", { type: "code" }))))).toBe("``a`b``");
    expect(md(doc(p(text("`x`", { type: "code" }))))).toBe("`` `x` ``");
    expect(md(doc(p(text(" padded ", { type: "code" }))))).toBe("`  padded  `");
  });
});

describe("docToMarkdown: escaping", () => {
  it("backslash-escapes inline metacharacters", () => {
    expect(md(doc(p(text("*a* _b_ [c](d) <e> `f` ~g~ h|i \\ snake_case !x"))))).toBe(
      "\\*a\\* \\_b\\_ \\[c\\](d) \\<e> \\`f\\` \\~g\\~ h\\|i \\\\ snake_case !x",
    );
    expect(md(doc(p(text("&amp; & &#35;"))))).toBe("\\&amp; & \\&#35;");
  });

  it("escapes what would start another block at the beginning of a line", () => {
    const lines = ["# h", "1. o", "2) p", "- l", "+ l", "> q", "---", "===", "   x", "12345. n"];
    const content = doc(
      p(...lines.flatMap((line, i) => (i === 0 ? [text(line)] : [br, text(line)]))),
      p(text("- ")),
    );
    expect(md(content)).toBe(
      "\\# h\n1\\. o\n2\\) p\n\\- l\n\\+ l\n\\> q\n\\---\n\\===\n&#32;  x\n12345\\. n\n\n-&#32;",
    );
  });

  it("escapes trailing hashes of a heading", () => {
    expect(md(doc({ type: "heading", attrs: { level: 2 }, content: [text("C#")] }))).toBe("## C\\#");
    expect(md(doc({ type: "heading", attrs: { level: 2 }, content: [text("#")] }))).toBe("## \\#");
  });

  it("writes newlines inside text as character references", () => {
    expect(md(doc(p(text("a\nb"))))).toBe("a&#10;b");
  });
});

describe("docToMarkdown: PostHog nodes", () => {
  const block = (type: string, attrs: Node) => doc({ type, attrs });
  const cases: [string, Node, string][] = [
    [
      "ph-query",
      { query: { kind: "SavedInsightNode", shortId: "abc123" }, hideFilters: true },
      '<Query query={{"kind":"SavedInsightNode","shortId":"abc123"}} hideFilters />',
    ],
    ["ph-recording", { id: "0188", noInspector: false }, '<Recording id="0188" noInspector={false} />'],
    ["ph-recording-playlist", { pinned: ["a"], id: null }, '<RecordingPlaylist pinned={["a"]} id={null} />'],
    ["ph-feature-flag", { id: 12 }, "<FeatureFlag id={12} />"],
    ["ph-feature-flag-code-example", { id: 12 }, "<FeatureFlagCodeExample id={12} />"],
    ["ph-experiment", { id: 3, view: "results" }, '<Experiment id={3} view="results" />'],
    ["ph-early-access-feature", { id: "e" }, '<EarlyAccessFeature id="e" />'],
    ["ph-survey", { id: "s" }, '<Survey id="s" />'],
    ["ph-person", { id: "u", distinctId: "d" }, '<Person id="u" distinctId="d" />'],
    ["ph-group", { id: "g", groupTypeIndex: 0 }, '<Group id="g" groupTypeIndex={0} />'],
    ["ph-cohort", { id: 9 }, "<Cohort id={9} />"],
    ["ph-image", { src: "https://x/y.png", file: null }, '<Image src="https://x/y.png" file={null} />'],
    [
      "ph-embed",
      { src: "https://e.x", width: 100, height: 50 },
      '<Embed src="https://e.x" width={100} height={50} />',
    ],
    ["ph-latex", { content: "E = mc^2" }, '<Latex content="E = mc^2" />'],
    ["ph-map", { id: "m" }, '<Map id="m" />'],
    ["ph-person-feed", { id: "p" }, '<PersonFeed id="p" />'],
    ["ph-person-properties", { id: "p" }, '<PersonProperties id="p" />'],
    ["ph-task-create", { title: "T" }, '<TaskCreate title="T" />'],
    ["ph-llm-trace", { traceId: "t" }, '<LLMTrace traceId="t" />'],
    ["ph-python", { code: "print(1)", returnVariable: "x" }, '<Python code="print(1)" returnVariable="x" />'],
    ["ph-duck-sql", { code: "select 1" }, '<DuckSQL code="select 1" />'],
    ["ph-hogql-sql", { code: "select 1" }, '<HogQLSQL code="select 1" />'],
    ["ph-issues", { id: "i" }, '<Issues id="i" />'],
    ["ph-dashboard-widget", { id: 4, view: "summary" }, '<Dashboard id={4} view="summary" />'],
    ["ph-error-tracking-issue", { id: "e1" }, '<ErrorTrackingIssue id="e1" />'],
    ["ph-insight", { id: "legacy" }, '<UnknownNode nodeType="ph-insight" id="legacy" />'],
    ["ph-python-v2", { code: "1" }, '<UnknownNode nodeType="ph-python-v2" code="1" />'],
  ];
  for (const [type, attrs, expected] of cases) {
    it(`writes ${type} as a component tag`, () => {
      expect(md(block(type, attrs))).toBe(expected);
    });
  }

  it("keeps every attribute, nulls and strings with quotes, braces and newlines included", () => {
    const attrs = { title: 'say "hi" {x}\nnext />', height: null, nodeId: "n1", __init: { expanded: true } };
    expect(md(block("ph-recording", attrs))).toBe(
      '<Recording title="say \\"hi\\" {x}\\nnext />" height={null} nodeId="n1" __init={{"expanded":true}} />',
    );
  });

  it("writes ph-image as ![alt](src) only when nothing else would be lost", () => {
    expect(md(block("ph-image", { src: "https://x/y.png" }))).toBe("![](https://x/y.png)");
    expect(md(block("ph-image", { src: "https://x/y.png", alt: "a [b]" }))).toBe(
      "![a \\[b\\]](https://x/y.png)",
    );
    expect(md(block("ph-image", { src: "https://x/y.png", alt: "" }))).toBe(
      '<Image src="https://x/y.png" alt="" />',
    );
  });

  it("writes inline PostHog nodes inside the paragraph", () => {
    const content = doc(
      p(
        text("at "),
        {
          type: "ph-replay-timestamp",
          attrs: { playbackTime: 65000, sessionRecordingId: "abc", sourceNodeId: null },
        },
        text(" ask "),
        { type: "ph-mention", attrs: { id: 5 } },
        text(" see "),
        { type: "ph-backlink", attrs: { href: "/insights/a", type: "insight", title: "A" } },
      ),
    );
    expect(md(content)).toBe(
      'at <ReplayTimestamp playbackTime={65000} sessionRecordingId="abc" sourceNodeId={null} /> ask ' +
        '<mention id="5">@member</mention> see <Backlink href="/insights/a" type="insight" title="A" />',
    );
  });

  it("keeps unknown node types and attributes Markdown cannot hold through raw nodes", () => {
    const callout = { type: "callout", attrs: { emoji: "💡" }, content: [p(text("x"))] };
    expect(md(doc(callout))).toBe(`<RawNode node={${JSON.stringify(callout)}} />`);
    expect(md(doc(p(text("a"), { type: "ph-future-inline", attrs: { x: 1 } })))).toBe(
      'a<RawInlineNode node={{"type":"ph-future-inline","attrs":{"x":1}}} />',
    );
    expect(md(doc({ type: "ph-query", attrs: { "bad key": 1 } }))).toBe(
      '<RawNode node={{"type":"ph-query","attrs":{"bad key":1}}} />',
    );
    expect(md(doc({ type: "paragraph", attrs: { textAlign: "center" }, content: [text("c")] }))).toBe(
      '<RawNode node={{"type":"paragraph","attrs":{"textAlign":"center"},"content":[{"type":"text","text":"c"}]}} />',
    );
  });

  it("returns a v2 notebook's Markdown as is", () => {
    expect(docToMarkdown(markdownNotebook("# Mine\n\n*as is*"))).toBe("# Mine\n\n*as is*");
  });

  it("returns an empty string for content that is not a document", () => {
    for (const value of [null, undefined, 1, "x", {}]) expect(docToMarkdown(value)).toBe("");
  });
});
