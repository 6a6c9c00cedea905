/**
 * The one-word-edit property through the tools themselves: generated documents are created in the
 * sandbox as content JSON, one word is changed with notebooks-edit (and, for some, with a whole
 * Markdown rewrite through notebooks-partial-update), and what PostHog stored is compared with the
 * document with that word changed: nothing else may differ.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentToMarkdown } from "../../src/content/index.js";
import { revealInvisible } from "../../src/content/invisible.js";
import { documentArbitrary, replaceMarker, textMarkers } from "../helpers/doc-arbitraries.js";
import { type Harness, startHarness, textOf } from "../helpers/harness.js";

const RUNS = Math.ceil(Number(process.env.PROPERTY_RUNS ?? 2000) / 10);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { rateLimit: false } });
});
afterAll(async () => {
  await h.close();
});

describe("one-word edits through the tools, on generated documents", () => {
  it(
    "store the word changed and nothing else",
    async () => {
      await fc.assert(
        fc.asyncProperty(documentArbitrary, fc.nat(), fc.boolean(), async (doc, pick, whole) => {
          const markers = textMarkers(doc);
          fc.pre(markers.length > 0);
          const word = markers[pick % markers.length] as string;
          const made = await h.call("notebooks-create", { title: "Generated", content: doc });
          expect(made.isError, textOf(made)).toBeFalsy();
          const id = (made.structuredContent as { short_id: string }).short_id;
          // PostHog keeps the title in step with the first heading: compare from what it stored.
          const stored = h.sandbox.getNotebook(id)?.content;
          const result = whole
            ? await h.call("notebooks-partial-update", {
                short_id: id,
                markdown: revealInvisible(documentToMarkdown(stored)).replace(word, "EDITED"),
                version: 0,
              })
            : await h.call("notebooks-edit", { short_id: id, old_markdown: word, new_markdown: "EDITED" });
          expect(result.isError, textOf(result)).toBeFalsy();
          expect(h.sandbox.getNotebook(id)?.content).toStrictEqual(
            replaceMarker(stored as never, word, "EDITED"),
          );
        }),
        { numRuns: RUNS, seed: 1820 },
      );
    },
    Math.max(120_000, RUNS * 500),
  );
});
