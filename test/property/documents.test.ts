/**
 * The promise that no edit damages a notebook, proven on generated documents nobody chose
 * (fast-check, fixed seeds): every block PostHog's editor stores, every PostHog node type, atoms at
 * the start, middle and end of every inline container, every mark combination, text full of
 * Markdown's own characters and of invisible ones (test/helpers/doc-arbitraries.ts).
 *
 * Each property runs the conversions exactly as the tools do (the Markdown agents are shown, with
 * invisible characters made visible, and turned back on the way in). `RUNS` documents each; the
 * longer run is `npm run prove` (scripts/prove.mjs), and the README says how many documents each
 * property has held for.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appendToDocument,
  deriveTextContent,
  documentFromMarkdown,
  documentToMarkdown,
  rewriteDocument,
} from "../../src/content/index.js";
import { restoreInvisible, revealInvisible } from "../../src/content/invisible.js";
import {
  documentArbitrary,
  type Json,
  POSTHOG_TYPES,
  paragraphArbitrary,
  replaceMarker,
  textMarkers,
} from "../helpers/doc-arbitraries.js";
import { referenceTextContent } from "../helpers/tiptap-text.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);
const TIMEOUT = Math.max(120_000, RUNS * 60);

/** The Markdown an agent is shown. */
const shown = (doc: unknown) => revealInvisible(documentToMarkdown(doc));
/** A whole-Markdown write, as notebooks-partial-update and notebooks-edit make it. */
const written = (doc: unknown, markdown: string) => {
  const done = rewriteDocument(doc, restoreInvisible(markdown));
  // The write-time guard lets every faithful write through.
  expect(done.refused).toBeNull();
  return done.content;
};

describe("generated documents", () => {
  it(
    "reading and writing back the same Markdown stores exactly what was there",
    () => {
      fc.assert(
        fc.property(documentArbitrary, (doc) => {
          expect(written(doc, shown(doc))).toStrictEqual(doc);
        }),
        { numRuns: RUNS, seed: 1801 },
      );
    },
    TIMEOUT,
  );

  it(
    "an edit of one word anywhere changes that word and nothing else",
    () => {
      fc.assert(
        fc.property(documentArbitrary, fc.nat(), (doc, pick) => {
          const markers = textMarkers(doc);
          fc.pre(markers.length > 0);
          const word = markers[pick % markers.length] as string;
          const markdown = shown(doc);
          // The passage an agent would copy: the word, once in the Markdown.
          expect(markdown.split(word)).toHaveLength(2);
          expect(written(doc, markdown.replace(word, "EDITED"))).toStrictEqual(
            replaceMarker(doc, word, "EDITED"),
          );
        }),
        { numRuns: RUNS, seed: 1802 },
      );
    },
    TIMEOUT,
  );

  it(
    "an edit of a word and its neighbours' marks keeps every other node",
    () => {
      // Deleting a word, and putting a new word in bold, beside atoms and marks.
      fc.assert(
        fc.property(documentArbitrary, fc.nat(), fc.boolean(), (doc, pick, remove) => {
          const markers = textMarkers(doc);
          fc.pre(markers.length > 0);
          const word = markers[pick % markers.length] as string;
          const markdown = shown(doc);
          const done = rewriteDocument(
            doc,
            restoreInvisible(markdown.replace(word, remove ? "" : "**new**")),
          );
          // Deleting a word beside a hard break on one line (a list item, cell or heading shows it
          // as a space) is refused, nothing lost: the guard cannot tell it from a lost break.
          if (remove && done.refused && /lose 1 hardBreak node/.test(done.refused.message)) return;
          expect(done.refused).toBeNull();
          const after = done.content;
          // Outside the word's block, everything is as stored.
          const blocks = (doc.content as Json[]).filter((block) => !JSON.stringify(block).includes(word));
          for (const block of blocks)
            expect((after as unknown as { content: Json[] }).content).toContainEqual(block);
          expect(JSON.stringify(after)).not.toContain(word);
        }),
        { numRuns: Math.ceil(RUNS / 2), seed: 1803 },
      );
    },
    TIMEOUT,
  );

  it(
    "an append keeps every earlier block exactly",
    () => {
      fc.assert(
        fc.property(documentArbitrary, documentArbitrary, (doc, more) => {
          const before = doc.content as Json[];
          const done = appendToDocument(doc, restoreInvisible(shown(more)));
          expect(done.refused).toBeNull();
          const after = done.content.content;
          expect(after.slice(0, before.length)).toStrictEqual(before);
          expect(after.length).toBeGreaterThan(before.length);
        }),
        { numRuns: RUNS, seed: 1804 },
      );
    },
    TIMEOUT,
  );

  it(
    "a notebook created from the Markdown just read has the same nodes, in the same order, with every attribute Markdown shows",
    () => {
      fc.assert(
        fc.property(documentArbitrary, (doc) => {
          const made = documentFromMarkdown(restoreInvisible(shown(doc)));
          const created = made.content;
          expect(visible(created)).toStrictEqual(visible(doc));
        }),
        { numRuns: RUNS, seed: 1805 },
      );
    },
    TIMEOUT,
  );

  it(
    "text_content is what PostHog's editor derives (TipTap's getText walk)",
    () => {
      fc.assert(
        fc.property(documentArbitrary, (doc) => {
          expect(deriveTextContent(doc)).toBe(referenceTextContent(doc, POSTHOG_TYPES));
        }),
        { numRuns: RUNS, seed: 1806 },
      );
    },
    TIMEOUT,
  );

  it(
    "every paragraph reads back as itself: the same characters, atoms and marks",
    () => {
      fc.assert(
        fc.property(paragraphArbitrary, (paragraph) => {
          const doc = { type: "doc", content: [paragraph] };
          expect(visible(documentFromMarkdown(restoreInvisible(shown(doc))).content)).toStrictEqual(
            visible(doc),
          );
        }),
        { numRuns: RUNS, seed: 1807 },
      );
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------
// What Markdown shows of a document: every node in order with the attributes Markdown can say,
// and of text its characters with their marks as Markdown writes them.

/** The attributes Markdown shows, per node type (components show all of theirs as props). */
function shownAttrs(node: Json): unknown {
  const attrs = (node.attrs ?? {}) as Json;
  switch (node.type) {
    case "heading":
      return { level: attrs.level };
    case "codeBlock":
      return { language: attrs.language ?? null };
    case "taskItem":
      return { checked: attrs.checked === true };
    case "orderedList":
      return { start: attrs.start ?? 1 };
    case "ph-image":
      return { src: attrs.src };
    default:
      if (!String(node.type).startsWith("ph-")) return null;
      // Props are JSON: a query kept as a JSON string reads back as the object it holds.
      // The panel props are PostHog's grammar's own: `hideFilters`/`hideResults` written for
      // widgets, `edit`/`view` never written.
      return Object.fromEntries(
        Object.entries(attrs)
          .filter(([key]) => !PANEL.has(key))
          .map(([key, value]) => {
            if (typeof value === "string" && /^\s*[{[]/.test(value)) {
              try {
                return [key, JSON.parse(value)];
              } catch {
                return [key, value];
              }
            }
            return [key, value];
          }),
      );
  }
}

const PANEL = new Set(["hideFilters", "hideResults", "edit", "view"]);

function markKey(mark: Json): string {
  const attrs = (mark.attrs ?? {}) as Json;
  if (mark.type === "link") return `link:${String(attrs.href)}`;
  if (mark.type === "comment") return `comment:${String(attrs.id)}`;
  return String(mark.type);
}

/**
 * Inline content as characters with their marks (a space's marks Markdown cannot always show). On
 * one line (headings, list items, cells) a hard break is a space.
 */
function inlineItems(content: Json[], oneLine = false): unknown[] {
  const items: unknown[] = [];
  for (const node of content) {
    if (oneLine && node.type === "hardBreak") items.push(" ");
    else if (node.type === "text") {
      const marks = ((node.marks ?? []) as Json[]).map(markKey).sort().join(",");
      for (const ch of String(node.text)) items.push(/\s/.test(ch) ? ch : `${ch}|${marks}`);
    } else items.push({ type: node.type, attrs: shownAttrs(node) });
  }
  // Spaces at either end of a line Markdown trims in some blocks (list items, cells, quotes).
  while (typeof items[0] === "string" && /^\s$/.test(items[0])) items.shift();
  while (typeof items[items.length - 1] === "string" && /^\s$/.test(items[items.length - 1] as string))
    items.pop();
  return items;
}

/** Node types whose inline content Markdown shows on one line. */
const ONE_LINE = new Set(["heading", "listItem", "taskItem", "tableCell", "tableHeader"]);

function visible(input: unknown, oneLine = false): unknown {
  const node = input as Json;
  const content = (node.content ?? []) as Json[];
  const inline =
    content.length > 0 &&
    content.every(
      (child) =>
        child.type === "text" || child.type === "hardBreak" || POSTHOG_INLINE.has(String(child.type)),
    );
  const type = node.type === "tableHeader" ? "tableCell" : node.type;
  return {
    type,
    attrs: shownAttrs(node),
    // An empty paragraph has no Markdown (a write keeps it where it was; a new notebook has none).
    content:
      inline || node.type === "codeBlock"
        ? inlineItems(content, oneLine || node.type === "heading")
        : content
            .filter(
              (child) => !(child.type === "paragraph" && !(child.content as Json[] | undefined)?.length),
            )
            .map((child) => visible(child, ONE_LINE.has(String(node.type)))),
  };
}

const POSTHOG_INLINE = new Set(["ph-replay-timestamp", "ph-backlink", "ph-mention"]);
