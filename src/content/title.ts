/**
 * The title and the first heading are one: in PostHog's editor, a v1 notebook's title is the text
 * of its leading heading, and a v2 notebook's is the text of its first level-1 heading.
 */

import { parseBlocks } from "./markdown/blocks.js";
import { escapeInline } from "./markdown/escape.js";
import { childNodes, type DocJSON, isRecord, markdownNotebookNode, type NodeJSON } from "./nodes.js";
import { markdownNotebook } from "./write-back.js";

function text(node: NodeJSON): string {
  if (node.type === "text") return typeof node.text === "string" ? node.text : "";
  if (node.type === "hardBreak") return "\n";
  return childNodes(node).map(text).join("");
}

/** The first level-1 heading of Markdown: its text and its line, or null. */
function firstTitleHeading(markdown: string): { text: string; line: number } | null {
  const block = parseBlocks(markdown).blocks.find((b) => b.type === "heading" && b.level === 1);
  if (block?.type !== "heading") return null;
  const value = block.children
    .map((n) => (n.type === "text" ? n.text : n.type === "hardBreak" ? "\n" : ""))
    .join("");
  return { text: value.trim(), line: block.line };
}

/** The title a document gives its notebook, or null when it gives none. */
export function documentTitle(content: unknown): string | null {
  const v2 = markdownNotebookNode(content);
  if (v2) {
    const markdown = typeof v2.attrs?.markdown === "string" ? v2.attrs.markdown : "";
    return firstTitleHeading(markdown)?.text || null;
  }
  if (!isRecord(content)) return null;
  const first = childNodes(content)[0];
  if (first?.type !== "heading") return null;
  return text(first).trim() || null;
}

/** The document with its title heading saying `title` (added at the top when it has none). */
export function withTitle(content: unknown, title: string): DocJSON {
  const v2 = markdownNotebookNode(content);
  if (v2) {
    const markdown = typeof v2.attrs?.markdown === "string" ? v2.attrs.markdown : "";
    const nodeId = typeof v2.attrs?.nodeId === "string" ? v2.attrs.nodeId : undefined;
    const heading = `# ${escapeInline(title)}`;
    const found = firstTitleHeading(markdown);
    if (!found)
      return markdownNotebook(markdown.trim() === "" ? heading : `${heading}\n\n${markdown}`, nodeId);
    const lines = markdown.split("\n");
    lines[found.line] = heading;
    return markdownNotebook(lines.join("\n"), nodeId);
  }
  const base = isRecord(content) && content.type === "doc" ? content : {};
  const nodes = isRecord(content) ? childNodes(content) : [];
  const first = nodes[0];
  const titled: NodeJSON[] = title === "" ? [] : [{ type: "text", text: title }];
  if (first?.type === "heading") {
    const heading: NodeJSON = { ...first, content: titled };
    if (titled.length === 0) delete heading.content;
    return { ...base, type: "doc", content: [heading, ...nodes.slice(1)] };
  }
  const heading: NodeJSON = {
    type: "heading",
    attrs: { level: 1 },
    ...(titled.length > 0 ? { content: titled } : {}),
  };
  return { ...base, type: "doc", content: [heading, ...nodes] };
}
