/** Builders for notebook documents (TipTap JSON) in tests, with the attributes TipTap writes. */
export type Node = Record<string, unknown>;

export const text = (value: string, ...marks: Node[]): Node =>
  marks.length > 0 ? { type: "text", text: value, marks } : { type: "text", text: value };
export const p = (...content: Node[]): Node =>
  content.length > 0 ? { type: "paragraph", content } : { type: "paragraph" };
export const doc = (...content: Node[]) => ({ type: "doc", content });
export const heading = (level: number, ...content: Node[]): Node =>
  content.length > 0 ? { type: "heading", attrs: { level }, content } : { type: "heading", attrs: { level } };
export const li = (...content: Node[]): Node => ({ type: "listItem", content });
export const ul = (...items: Node[]): Node => ({ type: "bulletList", content: items });
export const ol = (start: number, ...items: Node[]): Node => ({
  type: "orderedList",
  attrs: { start },
  content: items,
});
export const task = (checked: boolean, ...content: Node[]): Node => ({
  type: "taskItem",
  attrs: { checked },
  content,
});
export const tasks = (...items: Node[]): Node => ({ type: "taskList", content: items });
export const br: Node = { type: "hardBreak" };
export const bold: Node = { type: "bold" };
export const italic: Node = { type: "italic" };
export const link = (href: string): Node => ({ type: "link", attrs: { href, target: "_blank" } });
export const cellAttrs = { colspan: 1, rowspan: 1, colwidth: null };
export const cell = (type: string, ...content: Node[]): Node => ({
  type,
  attrs: cellAttrs,
  content: [p(...content)],
});
export const row = (...cells: Node[]): Node => ({ type: "tableRow", content: cells });
