/**
 * A prosemirror-model schema mirroring PostHog's TipTap notebook editor (v1 format), used to
 * parse Markdown (prosemirror-markdown) into TipTap-shaped JSON.
 *
 * - Node and mark names are TipTap's (`bulletList`, `codeBlock`, `hardBreak`, …) so a parsed
 *   document serializes straight to the JSON PostHog stores; attributes are TipTap's, with TipTap's
 *   defaults. The document accepts any block sequence (PostHog's editor wants `heading block*`).
 * - PostHog nodes are two generic atoms, `ph_block` and `ph_inline`, holding the real node type in
 *   `nodeType` and ALL of its attributes, untouched, in `attrs`; `toNotebookJSON` unwraps them.
 * - `raw_block` / `raw_inline` hold a node that Markdown cannot express (see markdown-serialize.ts)
 *   as its original JSON; unknown attributes of standard nodes travel this way.
 * - `code` excludes every other mark, as TipTap's Code mark does (`excludes: "_"`).
 *
 * Built on first use so importing this module stays cheap.
 */

import { type Mark, type Node as PMNode, Schema } from "prosemirror-model";
import { type MarkJSON, type NodeJSON, plainObject } from "./json.js";

const cellAttrs = {
  colspan: { default: 1 },
  rowspan: { default: 1 },
  colwidth: { default: null },
};

let schema: Schema | undefined;

export function getNotebookSchema(): Schema {
  schema ??= new Schema({
    nodes: {
      doc: { content: "block*" },
      paragraph: { content: "inline*", group: "block" },
      text: { group: "inline" },
      heading: { content: "inline*", group: "block", attrs: { level: { default: 1 } }, defining: true },
      blockquote: { content: "block+", group: "block", defining: true },
      bulletList: { content: "listItem+", group: "block" },
      orderedList: { content: "listItem+", group: "block", attrs: { start: { default: 1 } } },
      listItem: { content: "paragraph block*", defining: true },
      taskList: { content: "taskItem+", group: "block" },
      taskItem: { content: "paragraph block*", attrs: { checked: { default: false } }, defining: true },
      codeBlock: {
        content: "text*",
        group: "block",
        marks: "",
        code: true,
        defining: true,
        attrs: { language: { default: null } },
      },
      horizontalRule: { group: "block" },
      hardBreak: { inline: true, group: "inline", selectable: false },
      table: { content: "tableRow+", group: "block", isolating: true, tableRole: "table" },
      tableRow: { content: "(tableCell | tableHeader)*", tableRole: "row" },
      tableHeader: { content: "block+", attrs: cellAttrs, isolating: true, tableRole: "header_cell" },
      tableCell: { content: "block+", attrs: cellAttrs, isolating: true, tableRole: "cell" },
      ph_block: { group: "block", atom: true, attrs: { nodeType: {}, attrs: { default: null } } },
      ph_inline: {
        inline: true,
        group: "inline",
        atom: true,
        attrs: { nodeType: {}, attrs: { default: null } },
      },
      raw_block: { group: "block", atom: true, attrs: { json: {} } },
      raw_inline: { inline: true, group: "inline", atom: true, attrs: { json: {} } },
    },
    marks: {
      comment: { attrs: { id: { default: null }, extra: { default: null } }, inclusive: true },
      link: { attrs: { href: { default: null }, target: { default: null } }, inclusive: false },
      underline: {},
      bold: {},
      italic: {},
      strike: {},
      code: { excludes: "_", code: true },
    },
  });
  return schema;
}

const STANDARD_ATTRS: Readonly<Record<string, readonly string[]>> = {
  heading: ["level"],
  orderedList: ["start"],
  taskItem: ["checked"],
  codeBlock: ["language"],
  tableHeader: ["colspan", "rowspan", "colwidth"],
  tableCell: ["colspan", "rowspan", "colwidth"],
};

function markToJSON(mark: Mark): MarkJSON {
  const type = mark.type.name;
  if (type === "link") {
    const attrs: Record<string, unknown> = { href: mark.attrs.href };
    if (mark.attrs.target !== null) attrs.target = mark.attrs.target;
    return { type, attrs };
  }
  if (type === "comment") {
    const extra = (mark.attrs.extra ?? {}) as Record<string, unknown>;
    const entries: [string, unknown][] = [];
    if (mark.attrs.id !== null) entries.push(["id", mark.attrs.id]);
    entries.push(...Object.entries(extra));
    return entries.length > 0 ? { type, attrs: plainObject(entries) } : { type };
  }
  return { type };
}

/** A parsed ProseMirror node as the JSON TipTap (and PostHog) store. */
export function toNotebookJSON(node: PMNode): NodeJSON {
  const name = node.type.name;
  if (name === "raw_block" || name === "raw_inline") return structuredClone(node.attrs.json as NodeJSON);
  const marks = node.marks.map(markToJSON);
  if (name === "ph_block" || name === "ph_inline") {
    const out: NodeJSON = { type: node.attrs.nodeType as string };
    const attrs = node.attrs.attrs as Record<string, unknown> | null;
    if (attrs && Object.keys(attrs).length > 0) out.attrs = structuredClone(attrs);
    if (marks.length > 0) out.marks = marks;
    return out;
  }
  const out: NodeJSON = { type: name };
  const keys = STANDARD_ATTRS[name];
  if (keys) out.attrs = plainObject(keys.map((key) => [key, node.attrs[key]]));
  if (node.isText) {
    if (marks.length > 0) out.marks = marks;
    out.text = node.text ?? "";
    return out;
  }
  if (node.childCount > 0) {
    const content: NodeJSON[] = [];
    node.forEach((child) => {
      content.push(toNotebookJSON(child));
    });
    out.content = content;
  }
  if (marks.length > 0) out.marks = marks;
  return out;
}
