import { Node as PMNode } from "prosemirror-model";
import { describe, expect, it } from "vitest";
import {
  appendMarkdown,
  getNotebookSchema,
  isMarkdownNotebook,
  MARKDOWN_NOTEBOOK_NODE_ID,
  markdownNotebook,
  markdownToDoc,
  normalizeDoc,
} from "../../src/content/index.js";

const v1 = {
  type: "doc",
  content: [
    {
      type: "heading",
      attrs: { level: 1, id: "toc-1", textAlign: null },
      content: [{ type: "text", text: "T" }],
    },
    { type: "ph-recording", attrs: { id: "r1", noInspector: false, height: null, unknownFlag: 7 } },
  ],
};

describe("v2 (Markdown notebook) helpers", () => {
  it("builds a v2 document with PostHog's nodeId", () => {
    expect(markdownNotebook("# Hi")).toEqual({
      type: "doc",
      content: [
        { type: "ph-markdown-notebook", attrs: { nodeId: "markdown-notebook-v2", markdown: "# Hi" } },
      ],
    });
    expect(MARKDOWN_NOTEBOOK_NODE_ID).toBe("markdown-notebook-v2");
  });

  it("detects v2 only when the content is exactly one ph-markdown-notebook node", () => {
    expect(isMarkdownNotebook(markdownNotebook(""))).toBe(true);
    expect(isMarkdownNotebook(v1)).toBe(false);
    const two = markdownNotebook("x");
    two.content.push({ type: "paragraph" });
    expect(isMarkdownNotebook(two)).toBe(false);
    for (const value of [null, undefined, "x", [], {}, { type: "doc", content: [] }]) {
      expect(isMarkdownNotebook(value)).toBe(false);
    }
  });
});

describe("appendMarkdown", () => {
  it("appends parsed blocks to a v1 document and leaves existing nodes untouched", () => {
    const result = appendMarkdown(v1, "More **text**\n\n- a") as { type: string; content: unknown[] };
    expect(result.content.slice(0, 2)).toEqual(v1.content);
    expect(result.content.slice(2)).toEqual(markdownToDoc("More **text**\n\n- a").content);
    expect(v1.content).toHaveLength(2);
  });

  it("appends to a v2 document's Markdown after a blank line, keeping its nodeId", () => {
    const doc = markdownNotebook("# Notes", "custom-id");
    expect(appendMarkdown(doc, "- new")).toEqual(markdownNotebook("# Notes\n\n- new", "custom-id"));
    expect(appendMarkdown(markdownNotebook(""), "first")).toEqual(markdownNotebook("first"));
    expect(appendMarkdown(doc, "  ")).toEqual(markdownNotebook("# Notes", "custom-id"));
  });

  it("starts a new v1 document from null or empty content", () => {
    const expected = { type: "doc", content: markdownToDoc("# New\n\nbody").content };
    for (const empty of [null, undefined, {}, { type: "doc", content: [] }, []]) {
      expect(appendMarkdown(empty, "# New\n\nbody")).toEqual(expected);
    }
  });

  it("refuses content that is not a notebook document", () => {
    expect(() => appendMarkdown("text", "x")).toThrow(TypeError);
    expect(() => appendMarkdown({ type: "paragraph" }, "x")).toThrow(TypeError);
  });
});

describe("normalizeDoc", () => {
  it("drops what TipTap defaults or regenerates and keeps PostHog attributes verbatim", () => {
    expect(normalizeDoc(v1)).toEqual({
      type: "doc",
      content: [
        { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "T" }] },
        { type: "ph-recording", attrs: { id: "r1", noInspector: false, height: null, unknownFlag: 7 } },
      ],
    });
  });

  it("fills TipTap's defaults, merges text and canonicalizes marks", () => {
    const doc = {
      type: "doc",
      content: [
        { type: "heading" },
        {
          type: "orderedList",
          content: [{ type: "listItem", content: [{ type: "paragraph", content: [] }] }],
        },
        {
          type: "taskList",
          content: [{ type: "taskItem", attrs: { checked: null }, content: [{ type: "paragraph" }] }],
        },
        { type: "codeBlock", attrs: { language: "" } },
        {
          type: "paragraph",
          content: [
            { type: "text", text: "a", marks: [{ type: "italic" }, { type: "bold" }] },
            { type: "text", text: "b", marks: [{ type: "bold" }, { type: "italic" }] },
            { type: "text", text: "" },
            { type: "text", text: "c", marks: [{ type: "bold" }, { type: "code" }] },
            {
              type: "text",
              text: "d",
              marks: [
                {
                  type: "link",
                  attrs: { href: "https://x.y", target: "_blank", rel: "noopener", class: null },
                },
              ],
            },
          ],
        },
      ],
    };
    expect(normalizeDoc(doc)).toEqual({
      type: "doc",
      content: [
        { type: "heading", attrs: { level: 1 } },
        {
          type: "orderedList",
          attrs: { start: 1 },
          content: [{ type: "listItem", content: [{ type: "paragraph" }] }],
        },
        {
          type: "taskList",
          content: [{ type: "taskItem", attrs: { checked: false }, content: [{ type: "paragraph" }] }],
        },
        { type: "codeBlock", attrs: { language: null } },
        {
          type: "paragraph",
          content: [
            { type: "text", text: "ab", marks: [{ type: "bold" }, { type: "italic" }] },
            { type: "text", text: "c", marks: [{ type: "code" }] },
            { type: "text", text: "d", marks: [{ type: "link", attrs: { href: "https://x.y" } }] },
          ],
        },
      ],
    });
  });

  it("returns a v2 document unchanged, and does not share structure with its input", () => {
    const doc = markdownNotebook("x");
    const normalized = normalizeDoc(doc);
    expect(normalized).toEqual(doc);
    expect(normalized).not.toBe(doc);
  });
});

describe("schema", () => {
  it("holds every node markdownToDoc produces", () => {
    const schema = getNotebookSchema();
    expect(getNotebookSchema()).toBe(schema);
    const names = Object.keys(schema.nodes);
    for (const name of [
      "doc",
      "paragraph",
      "text",
      "heading",
      "blockquote",
      "bulletList",
      "orderedList",
      "listItem",
      "taskList",
      "taskItem",
      "codeBlock",
      "horizontalRule",
      "hardBreak",
      "table",
      "tableRow",
      "tableHeader",
      "tableCell",
    ]) {
      expect(names).toContain(name);
    }
    expect(Object.keys(schema.marks)).toEqual([
      "comment",
      "link",
      "underline",
      "bold",
      "italic",
      "strike",
      "code",
    ]);
    const json = markdownToDoc("# T\n\n- [x] done\n\n| a |\n| - |\n| b |\n\n```js\nx\n```");
    const node = PMNode.fromJSON(schema, json);
    expect(() => node.check()).not.toThrow();
  });
});
