import { describe, expect, it } from "vitest";
import { deriveTextContent, markdownNotebook } from "../../src/content/index.js";
import { formatTimestamp } from "../../src/content/text-content.js";

const text = (value: string) => ({ type: "text", text: value });
const p = (...content: unknown[]) =>
  content.length > 0 ? { type: "paragraph", content } : { type: "paragraph" };
const doc = (...content: unknown[]) => ({ type: "doc", content });
const li = (...content: unknown[]) => ({ type: "listItem", content });
const ul = (...items: unknown[]) => ({ type: "bulletList", content: items });

describe("deriveTextContent", () => {
  it("reproduces the reference's worked example", () => {
    const content = doc(
      { type: "heading", attrs: { level: 1 }, content: [text("Title")] },
      p(text("Hello")),
      {
        type: "ph-query",
        attrs: { query: { kind: "DataTableNode", source: { kind: "HogQLQuery", query: "select 1" } } },
      },
      ul(li(p(text("a"))), li(p(text("b")))),
      p(text("end")),
    );
    expect(deriveTextContent(content)).toBe("Title\nHello\nselect 1\n\n\n\na\n\nb\nend");
  });

  it("returns empty text for null and invalid content", () => {
    for (const value of [
      null,
      undefined,
      "text",
      42,
      [],
      {},
      { type: "doc" },
      { type: "doc", content: "x" },
    ]) {
      expect(deriveTextContent(value)).toBe("");
    }
    expect(deriveTextContent(doc())).toBe("");
  });

  it("is the Markdown itself for a v2 notebook", () => {
    expect(deriveTextContent(markdownNotebook("# T\n\n- a"))).toBe("# T\n\n- a");
    expect(
      deriveTextContent({ type: "doc", content: [{ type: "ph-markdown-notebook", attrs: { markdown: 5 } }] }),
    ).toBe("");
  });

  it("separates every nested block of a list, first position excepted", () => {
    const content = doc(ul(li(p(text("a")), ul(li(p(text("b")))))));
    // bulletList (first, no separator) > listItem \n > paragraph \n a > bulletList \n > listItem \n > paragraph \n b
    expect(deriveTextContent(content)).toBe("\n\na\n\n\nb");
  });

  it("walks tables row by row and cell by cell", () => {
    const cell = (type: string, value: string) => ({ type, content: [p(text(value))] });
    const content = doc(
      { type: "heading", attrs: { level: 1 }, content: [text("T")] },
      {
        type: "table",
        content: [
          { type: "tableRow", content: [cell("tableHeader", "h1"), cell("tableHeader", "h2")] },
          { type: "tableRow", content: [cell("tableCell", "c1"), cell("tableCell", "c2")] },
        ],
      },
    );
    expect(deriveTextContent(content)).toBe("T\n\n\n\nh1\n\nh2\n\n\nc1\n\nc2");
  });

  it("separates blockquotes and their paragraphs, includes code text, ignores hard breaks", () => {
    const content = doc(
      p(text("a"), { type: "hardBreak" }, text("b")),
      { type: "blockquote", content: [p(text("q"))] },
      { type: "codeBlock", attrs: { language: "sql" }, content: [text("select 1\nfrom t")] },
      { type: "horizontalRule" },
    );
    expect(deriveTextContent(content)).toBe("ab\n\nq\nselect 1\nfrom t\n");
  });

  it("formats replay timestamps as mm:ss: plus a newline, with hours when present", () => {
    const ts = (playbackTime: unknown) => ({
      type: "ph-replay-timestamp",
      attrs: { playbackTime, sessionRecordingId: "s1", sourceNodeId: null },
    });
    expect(deriveTextContent(doc(p(ts(65_000), text("note"))))).toBe("01:05:\nnote");
    expect(deriveTextContent(doc(p(ts(3_723_000), text("x"))))).toBe("01:02:03:\nx");
    expect(deriveTextContent(doc(p(ts(null), text("x"))))).toBe("00:00:\nx");
    expect(deriveTextContent(doc(p(ts(0), text("x"))))).toBe("00:00:\nx");
    expect(deriveTextContent(doc(p(ts(999), text("x"))))).toBe("00:00:\nx");
    expect(formatTimestamp(36_000_000 + 61_000)).toBe("10:01:01");
    // dayjs durations have no day field in HH: a full day wraps around.
    expect(formatTimestamp(86_400_000 + 5_000)).toBe("00:05");
  });

  it("serializes mentions as (member:ID) followed by a newline", () => {
    expect(deriveTextContent(doc(p(text("hi "), { type: "ph-mention", attrs: { id: 5 } }, text("!"))))).toBe(
      "hi (member:5)\n!",
    );
  });

  it("extracts HogQL from ph-query, else falls back to the title", () => {
    const query = (attrs: unknown) => ({ type: "ph-query", attrs });
    const content = doc(
      p(text("x")),
      query({ query: { kind: "HogQLQuery", query: "select 2" } }),
      query({
        query: { kind: "DataVisualizationNode", source: { kind: "HogQLQuery", query: "select 3\n" } },
      }),
      query({ query: { kind: "SavedInsightNode", shortId: "abc" }, title: "Weekly users" }),
      query({ query: { kind: "SavedInsightNode", shortId: "abc" } }),
      query({ query: { kind: "EventsQuery", source: { kind: "HogQLQuery", query: "no" } }, title: "T" }),
    );
    expect(deriveTextContent(content)).toBe("x\nselect 2\n\nselect 3\n\nWeekly users\n\n\nT\n");
  });

  it("applies every PostHog node serializer", () => {
    const node = (type: string, attrs: unknown) => ({ type, attrs });
    const cases: [unknown, string][] = [
      [node("ph-recording", { id: "0188-abc", title: "ignored" }), "0188-abc\n"],
      [node("ph-recording", { title: "Fallback" }), "Fallback\n"],
      [node("ph-recording-playlist", { filters: {}, title: "T" }), "Recording playlist\n"],
      [node("ph-person", { id: "p1", title: "Ada" }), "Ada p1\n"],
      [node("ph-person", { id: "p1" }), "p1\n"],
      [node("ph-group", { id: "g1", groupTypeIndex: 0, title: "Acme" }), "Acme g1\n"],
      [node("ph-cohort", { id: 7 }), "7\n"],
      [node("ph-image", { src: "https://x/y.png", title: "Diagram" }), "Diagram\n"],
      [node("ph-image", { file: { name: "upload.png" } }), "upload.png\n"],
      [node("ph-embed", { src: "https://example.com", width: 1 }), "(embedded iframe:https://example.com)\n"],
      [node("ph-latex", { content: "E = mc^2" }), "E = mc^2\n"],
      [node("ph-latex", { content: "x\n" }), "x\n"],
      [node("ph-python", { code: "print(1)" }), "print(1)\n"],
      [node("ph-python", { code: "", title: "Py" }), "Py\n"],
      [node("ph-duck-sql", { code: "select 4" }), "select 4\n"],
      [node("ph-hogql-sql", { code: "select 5" }), "select 5\n"],
      [node("ph-feature-flag", { id: 3, title: "My flag" }), "My flag\n"],
      [node("ph-feature-flag", { id: 3 }), ""],
      [node("ph-survey", { id: "s", title: "NPS" }), "NPS\n"],
      [node("ph-map", { title: "Map" }), "Map\n"],
      [node("ph-llm-trace", { title: "Trace" }), "Trace\n"],
      [node("ph-some-future-node", { title: "Future" }), "Future\n"],
    ];
    for (const [block, expected] of cases) {
      expect(deriveTextContent(doc(p(text("x")), block)), JSON.stringify(block)).toBe(`x\n${expected}`);
    }
  });

  it("serializes inline backlinks by title and skips their children", () => {
    const backlink = {
      type: "ph-backlink",
      attrs: { href: "/insights/a", title: "Insight A" },
      content: [text("no")],
    };
    expect(deriveTextContent(doc(p(text("see "), backlink, text("end"))))).toBe("see Insight A\nend");
  });

  it("separates the blocks of a task list and list items inside a quote", () => {
    const content = doc(
      p(text("t")),
      {
        type: "taskList",
        content: [{ type: "taskItem", attrs: { checked: true }, content: [p(text("done"))] }],
      },
      { type: "blockquote", content: [ul(li(p(text("q"))))] },
    );
    expect(deriveTextContent(content)).toBe("t\n\n\ndone\n\n\n\nq");
  });
});
