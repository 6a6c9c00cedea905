import { describe, expect, it } from "vitest";
import { markdownToDoc } from "../../src/content/index.js";
import { br, cell, heading, li, ol, p, row, task, tasks, text, ul } from "../helpers/doc-builders.js";

const parse = (md: string) => markdownToDoc(md).content;

describe("markdownToDoc: blocks", () => {
  it("reads headings, paragraphs and rules with TipTap's attributes", () => {
    expect(parse("# Title\n\nHello\n\n---\n\n###### Six\n\nSetext\n===\n\n***")).toEqual([
      heading(1, text("Title")),
      p(text("Hello")),
      { type: "horizontalRule" },
      heading(6, text("Six")),
      heading(1, text("Setext")),
      { type: "horizontalRule" },
    ]);
    expect(markdownToDoc("")).toEqual({ type: "doc", content: [] });
  });

  it("reads a newline inside a paragraph (and <br>) as a hard break", () => {
    expect(parse("a\nb  \nc\\\nd<br>e<br/>")).toEqual([
      p(text("a"), br, text("b"), br, text("c"), br, text("d"), br, text("e"), br),
    ]);
  });

  it("reads nested bullet, ordered and task lists", () => {
    const md =
      "- a\n  - b\n    1. c\n    2. d\n- e\n\n3. three\n   - [ ] todo\n   - [x] done\n     - [X] deep";
    expect(parse(md)).toEqual([
      ul(li(p(text("a")), ul(li(p(text("b")), ol(1, li(p(text("c"))), li(p(text("d"))))))), li(p(text("e")))),
      ol(
        3,
        li(
          p(text("three")),
          tasks(
            task(false, p(text("todo"))),
            task(true, p(text("done")), tasks(task(true, p(text("deep"))))),
          ),
        ),
      ),
    ]);
  });

  it("reads task markers only when every item of a bullet list has one", () => {
    expect(parse("- [ ] a\n- b")).toEqual([ul(li(p(text("[ ] a"))), li(p(text("b"))))]);
    expect(parse("1. [x] literal")).toEqual([ol(1, li(p(text("[x] literal"))))]);
    expect(parse("- [ ]\n- [x]")).toEqual([tasks(task(false, p()), task(true, p()))]);
  });

  it("reads block content inside list items and quotes", () => {
    expect(parse("- a\n\n  second\n\n  ```\n  code\n  ```\n- &nbsp;\n  - n")).toEqual([
      ul(
        li(p(text("a")), p(text("second")), {
          type: "codeBlock",
          attrs: { language: null },
          content: [text("code")],
        }),
        li(p(), ul(li(p(text("n"))))),
      ),
    ]);
    expect(parse("> quote\n> - item\n>\n> > nested")).toEqual([
      {
        type: "blockquote",
        content: [
          p(text("quote")),
          ul(li(p(text("item")))),
          { type: "blockquote", content: [p(text("nested"))] },
        ],
      },
    ]);
  });

  it("reads fenced and indented code with its language", () => {
    expect(
      parse("```sql\nselect 1\n\nfrom t\n```\n\n~~~ python  \nprint(1)\n~~~\n\n    indented\n\n```\n```"),
    ).toEqual([
      { type: "codeBlock", attrs: { language: "sql" }, content: [text("select 1\n\nfrom t")] },
      { type: "codeBlock", attrs: { language: "python" }, content: [text("print(1)")] },
      { type: "codeBlock", attrs: { language: null }, content: [text("indented")] },
      { type: "codeBlock", attrs: { language: null } },
    ]);
  });

  it("reads GFM tables, first row as header cells", () => {
    expect(parse("| a | b \\| c |\n| :-- | --: |\n| `x\\|y` | **z** |\n| only |")).toEqual([
      {
        type: "table",
        content: [
          row(cell("tableHeader", text("a")), cell("tableHeader", text("b | c"))),
          row(
            cell("tableCell", text("x|y", { type: "code" })),
            cell("tableCell", text("z", { type: "bold" })),
          ),
          row(cell("tableCell", text("only")), cell("tableCell")),
        ],
      },
    ]);
  });

  it("reads empty paragraphs: a top-level line holding one space, or &nbsp; on its own line", () => {
    expect(parse(" \n\n# T\n\n \n\n \n\npara\n\n&nbsp;")).toEqual([
      p(),
      heading(1, text("T")),
      p(),
      p(),
      p(text("para")),
      p(),
    ]);
  });
});

describe("markdownToDoc: marks", () => {
  it("reads every mark, PostHog's <u> and <ref> included", () => {
    expect(
      parse('**b** __b2__ *i* _i2_ ~~s~~ <u>u</u> `c` [l](https://posthog.com) <ref id="c1">r *e*</ref>'),
    ).toEqual([
      p(
        text("b", { type: "bold" }),
        text(" "),
        text("b2", { type: "bold" }),
        text(" "),
        text("i", { type: "italic" }),
        text(" "),
        text("i2", { type: "italic" }),
        text(" "),
        text("s", { type: "strike" }),
        text(" "),
        text("u", { type: "underline" }),
        text(" "),
        text("c", { type: "code" }),
        text(" "),
        text("l", { type: "link", attrs: { href: "https://posthog.com" } }),
        text(" "),
        text("r ", { type: "comment", attrs: { id: "c1" } }),
        text("e", { type: "comment", attrs: { id: "c1" } }, { type: "italic" }),
      ),
    ]);
  });

  it("keeps link destinations verbatim and refuses script links", () => {
    expect(parse("[a](<https://x.y/a b>) [b](https://x.y/ä?q=1&r=2) [c](javascript:alert(1))")).toEqual([
      p(
        text("a", { type: "link", attrs: { href: "https://x.y/a b" } }),
        text(" "),
        text("b", { type: "link", attrs: { href: "https://x.y/ä?q=1&r=2" } }),
        text(" [c](javascript:alert(1))"),
      ),
    ]);
  });

  it("leaves unmatched inline tags as text", () => {
    expect(parse('<u>open </ref> and <ref id="x">never closed')).toEqual([
      p(text('<u>open </ref> and <ref id="x">never closed')),
    ]);
  });

  it("unescapes backslash escapes and character references", () => {
    expect(parse("\\*not\\* \\_em\\_ \\# &amp; &#35; &#32;x")).toEqual([p(text("*not* _em_ # & #  x"))]);
  });

  it("lets code bind the other marks out, as TipTap's code mark does", () => {
    expect(parse("**`x`**")).toEqual([p(text("x", { type: "code" }))]);
  });
});

describe("markdownToDoc: PostHog extensions", () => {
  it("reads component tags with string, JSON and bare props", () => {
    const md =
      '<Query query={{"kind":"SavedInsightNode","shortId":"abc123"}} hideFilters />\n\n' +
      '<Recording id="0188" noInspector={false} timestampMs={1500} title={null} />\n\n' +
      "<Latex content='E = mc^2' />\n\n" +
      '<Embed\n  src="https://e.x/{}"\n  width={100}\n/>';
    expect(parse(md)).toEqual([
      {
        type: "ph-query",
        attrs: { query: { kind: "SavedInsightNode", shortId: "abc123" }, hideFilters: true },
      },
      { type: "ph-recording", attrs: { id: "0188", noInspector: false, timestampMs: 1500, title: null } },
      { type: "ph-latex", attrs: { content: "E = mc^2" } },
      { type: "ph-embed", attrs: { src: "https://e.x/{}", width: 100 } },
    ]);
  });

  it("reads props holding quotes, braces and escaped newlines", () => {
    expect(
      parse('<Survey title="say \\"hi\\" {x}\\nnext />" filters={{"a":"}{","b":[1,{"c":"\\""}]}} />'),
    ).toEqual([
      {
        type: "ph-survey",
        attrs: { title: 'say "hi" {x}\nnext />', filters: { a: "}{", b: [1, { c: '"' }] } },
      },
    ]);
  });

  it("reads a component tag that interrupts a paragraph, inside lists and quotes", () => {
    expect(
      parse('Intro\n<Recording id="r" />\n\n- item\n\n  <Cohort id={3} />\n\n> <FeatureFlag id={1} />'),
    ).toEqual([
      p(text("Intro")),
      { type: "ph-recording", attrs: { id: "r" } },
      ul(li(p(text("item")), { type: "ph-cohort", attrs: { id: 3 } })),
      { type: "blockquote", content: [{ type: "ph-feature-flag", attrs: { id: 1 } }] },
    ]);
  });

  it("reads UnknownNode, RawNode and Divider, and drops PostHog's discussion threads", () => {
    const raw = { type: "callout", attrs: { emoji: "💡" }, content: [p(text("x"))] };
    const md = `<UnknownNode nodeType="ph-insight" id="i1" />\n\n<RawNode node={${JSON.stringify(raw)}} />\n\n<Divider />\n\n<Comment ref="c1" replies={[]} />`;
    expect(parse(md)).toEqual([{ type: "ph-insight", attrs: { id: "i1" } }, raw, { type: "horizontalRule" }]);
  });

  it("keeps unknown or malformed tags as text", () => {
    expect(parse('<Chart x={1} />\n\n<Query query={{"unclosed": 1} />\n\n<UnknownNode a="1" />')).toEqual([
      p(text("<Chart x={1} />")),
      p(text('<Query query={{"unclosed": 1} />')),
      p(text('<UnknownNode a="1" />')),
    ]);
  });

  it("reads inline tags: timestamps, backlinks, mentions and raw inline nodes", () => {
    const md =
      'at <ReplayTimestamp playbackTime={65000} sessionRecordingId="abc" /> ask <mention id="5">@Marius</mention> ' +
      '<Backlink href="/insights/a" title="A" /><RawInlineNode node={{"type":"ph-x","attrs":{"y":2}}} />';
    expect(parse(md)).toEqual([
      p(
        text("at "),
        { type: "ph-replay-timestamp", attrs: { playbackTime: 65000, sessionRecordingId: "abc" } },
        text(" ask "),
        { type: "ph-mention", attrs: { id: 5 } },
        text(" "),
        { type: "ph-backlink", attrs: { href: "/insights/a", title: "A" } },
        { type: "ph-x", attrs: { y: 2 } },
      ),
    ]);
    expect(parse('<mention id="bob">@Bob</mention>')).toEqual([p(text("@Bob"))]);
  });

  it("reads an image alone in a paragraph as ph-image, an inline image as a link", () => {
    expect(parse("![Alt text](https://x/y.png)\n\n![](/a.png)\n\nsee ![pic](https://x/p.png) here")).toEqual([
      { type: "ph-image", attrs: { src: "https://x/y.png", alt: "Alt text" } },
      { type: "ph-image", attrs: { src: "/a.png" } },
      p(text("see "), text("pic", { type: "link", attrs: { href: "https://x/p.png" } }), text(" here")),
    ]);
  });
});
