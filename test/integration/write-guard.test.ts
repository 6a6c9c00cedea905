/**
 * The write-time guard, shown by breaking the converter on purpose: the three-way merge is
 * replaced by one that stores the new Markdown's nodes as they are read (what this server did
 * before), or that loses atoms and marks. Every write that would lose a node or a mark, or turn
 * one into text, is refused with a sentence naming the line and what would be lost, and nothing
 * is sent upstream; writes with nothing to lose still go through.
 */
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { documentToMarkdown, rewriteDocument } from "../../src/content/index.js";
import type { NodeJSON } from "../../src/content/nodes.js";
import { HEADERLESS_REPORT, TIMESTAMPED_LINE } from "../helpers/damage-fixtures.js";
import { documentArbitrary, type Json, replaceMarker, textMarkers } from "../helpers/doc-arbitraries.js";
import { type Harness, startHarness, textOf } from "../helpers/harness.js";

/** Generated documents per broken merge: a fifth of the properties' runs. */
const RUNS = Math.ceil(Number(process.env.PROPERTY_RUNS ?? 2000) / 5);

/** How the broken merge behaves: "fresh" stores the new nodes; "lossy" also drops atoms and marks. */
const sabotage = vi.hoisted(() => ({ mode: "off" as "off" | "fresh" | "lossy" }));

vi.mock("../../src/content/merge.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/content/merge.js")>();
  const strip = (nodes: NodeJSON[]): NodeJSON[] =>
    nodes
      .filter((node) => !node.type.startsWith("ph-"))
      .map((node) => {
        const { marks: _marks, ...rest } = node;
        return node.content ? { ...rest, content: strip(node.content) } : rest;
      });
  return {
    ...real,
    mergeList: (stored: NodeJSON[], base: NodeJSON[], next: NodeJSON[]) => {
      if (sabotage.mode === "off") return real.mergeList(stored, base, next);
      return sabotage.mode === "fresh" ? next : strip(next);
    },
  };
});

const headerless = HEADERLESS_REPORT;
const timestamped = TIMESTAMPED_LINE;

const edit = (doc: unknown, from: string, to: string) =>
  rewriteDocument(doc, documentToMarkdown(doc).replace(from, to));

describe("the write-time guard, with the converter broken on purpose", () => {
  beforeEach(() => {
    sabotage.mode = "off";
  });

  it("refuses a write that would turn a table's cells into header cells", () => {
    sabotage.mode = "fresh";
    const done = edit(headerless, "delta4", "DELTA4");
    expect(done.refused?.message).toMatch(
      /^This write would lose 2 tableCell nodes.*add 2 tableHeader nodes/,
    );
    expect(done.refused?.message).toMatch(/around line 5 of your Markdown, so nothing was sent/);
    sabotage.mode = "off";
    expect(edit(headerless, "delta4", "DELTA4").refused).toBeNull();
  });

  it("refuses a write that would lose a replay timestamp or a mark", () => {
    sabotage.mode = "lossy";
    const atom = edit(timestamped, "swallowed", "ignored");
    expect(atom.refused?.message).toMatch(/lose 1 <ReplayTimestamp> component/);
    expect(atom.refused?.line).toBe(3);
    const mark = edit(headerless, "alpha1", "ALPHA1");
    expect(mark.refused?.message, mark.refused?.message).toMatch(
      /lose bold formatting \(on 11 characters\), italic formatting \(on 11 characters\)/,
    );
  });

  it("lets a write through where the broken merge loses nothing", () => {
    sabotage.mode = "lossy";
    const plain = {
      type: "doc",
      content: [
        { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "T" }] },
        { type: "paragraph", content: [{ type: "text", text: "just words here" }] },
      ],
    };
    expect(edit(plain, "words", "letters").refused).toBeNull();
  });

  it(
    "on generated documents, every write is refused or changes only the word",
    () => {
      for (const mode of ["fresh", "lossy"] as const) {
        sabotage.mode = mode;
        let refused = 0;
        fc.assert(
          fc.property(documentArbitrary, fc.nat(), (doc, pick) => {
            const markers = textMarkers(doc);
            fc.pre(markers.length > 0);
            const word = markers[pick % markers.length] as string;
            const done = rewriteDocument(doc, documentToMarkdown(doc).replace(word, "EDITED"));
            if (done.refused) {
              refused++;
              expect(done.refused.message).toMatch(/^This write would .* around line \d+ of your Markdown/);
              return;
            }
            // Let through: then nothing of the nodes, marks or text was lost (attributes Markdown
            // does not show are the merge's to keep; the guard counts nodes, marks and text).
            expect(shape(done.content)).toStrictEqual(shape(replaceMarker(doc, word, "EDITED")));
          }),
          { numRuns: RUNS, seed: 1810 },
        );
        expect(refused).toBeGreaterThan(50);
      }
    },
    Math.max(120_000, RUNS * 300),
  );
});

/**
 * Nodes, text and marks as the guard counts them: every node by type, every character, and the
 * marks of every character but spaces (attributes Markdown does not show are the merge's to keep).
 */
function shape(node: unknown): unknown {
  const n = node as Json;
  const children = (n.content ?? []) as Json[];
  if (children.some((child) => child.type === "text")) {
    return {
      type: n.type,
      items: children.flatMap((child) =>
        child.type === "text"
          ? [...String(child.text)].map((ch) =>
              /\s/.test(ch) ? ch : `${ch}${((child.marks ?? []) as Json[]).map((mark) => mark.type).sort()}`,
            )
          : [String(child.type)],
      ),
    };
  }
  return { type: n.type, content: children.map(shape) };
}

describe("a refused write over MCP", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    sabotage.mode = "off";
    await h.close();
  });

  it("is an isError result naming what would be lost, and nothing is sent", async () => {
    const made = await h.call("notebooks-create", { title: "Replay", content: timestamped });
    const id = (made.structuredContent as { short_id: string }).short_id;
    sabotage.mode = "lossy";
    h.mark();
    const result = await h.call("notebooks-edit", {
      short_id: id,
      old_markdown: "swallowed",
      new_markdown: "ignored",
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /lose 1 <ReplayTimestamp> component around line 3 of your Markdown, so nothing was sent/,
    );
    expect(h.upstream().filter((r) => r.method !== "GET")).toEqual([]);
    expect(h.sandbox.getNotebook(id)?.content).toStrictEqual(timestamped);
  });
});
