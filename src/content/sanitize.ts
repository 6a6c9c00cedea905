/**
 * Agent-written Markdown may carry any node (through `<RawNode …/>`), so documents built from it
 * are cleaned of what a browser would execute: link marks and `href`/`src` attributes with a
 * script (javascript:, vbscript:), file or non-image data URL are dropped. Everything else stays.
 */
import { isNodeJSON, isRecord, type NodeJSON } from "./json.js";
import { isAllowedLink } from "./markdown-serialize.js";

const URL_ATTRS = ["href", "src"];

function cleanNode(node: NodeJSON): NodeJSON {
  const out: NodeJSON = { ...node };
  if (node.marks) {
    out.marks = node.marks.filter(
      (mark) =>
        !(mark.type === "link" && typeof mark.attrs?.href === "string" && !isAllowedLink(mark.attrs.href)),
    );
    if (out.marks.length === 0) delete out.marks;
  }
  if (isRecord(node.attrs)) {
    const attrs = { ...node.attrs };
    for (const name of URL_ATTRS) {
      const value = attrs[name];
      if (typeof value === "string" && !isAllowedLink(value)) delete attrs[name];
    }
    out.attrs = attrs;
  }
  if (Array.isArray(node.content)) out.content = node.content.filter(isNodeJSON).map(cleanNode);
  return out;
}

/** A copy of `doc` without executable links or sources. */
export function sanitizeDocument<T>(doc: T): T {
  if (!isRecord(doc) || !Array.isArray(doc.content)) return doc;
  return { ...doc, content: doc.content.filter(isNodeJSON).map(cleanNode) } as T;
}
