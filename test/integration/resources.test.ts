/**
 * Resources: text_content per notebook, a paged listing mapped onto PostHog's offsets, and
 * resource-not-found for unknown or deleted notebooks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, structured } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe("resources", () => {
  it("offers the notebook template", async () => {
    const { resourceTemplates } = await h.client.listResourceTemplates();
    expect(resourceTemplates).toEqual([
      expect.objectContaining({ uriTemplate: "posthog://notebooks/{short_id}", mimeType: "text/plain" }),
      expect.objectContaining({
        uriTemplate: "posthog://notebooks/{short_id}/markdown",
        mimeType: "text/markdown",
      }),
    ]);
  });

  it("reads a notebook's text_content as text/plain", async () => {
    const nb = structured<{ short_id: string }>(
      await h.call("notebooks-create", { title: "Readable", text_content: "Readable\nline two" }),
    );
    h.mark();
    const uri = `posthog://notebooks/${nb.short_id}`;
    const read = await h.client.readResource({ uri });
    expect(read.contents).toEqual([{ uri, mimeType: "text/plain", text: "Readable\nline two" }]);
    expect(h.upstream().map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /api/projects/@current/notebooks/${nb.short_id}/`,
    ]);
  });

  it("answers resource-not-found for unknown, deleted and malformed URIs, as SEP-2164 says (-32602, the URI in data)", async () => {
    const nb = structured<{ short_id: string }>(await h.call("notebooks-create", { title: "Soon gone" }));
    await h.call("notebooks-destroy", { short_id: nb.short_id });
    for (const uri of [
      `posthog://notebooks/${nb.short_id}`,
      "posthog://notebooks/missing1",
      "posthog://notebooks/../etc",
      "posthog://other/x",
    ]) {
      await expect(h.client.readResource({ uri }), uri).rejects.toMatchObject({
        code: -32602,
        data: { uri },
      });
    }
  });

  it("lists page by page with cursors mapped onto offsets", async () => {
    await h.sandbox.seedNotebooks(1_050);
    h.mark();
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await h.client.listResources(cursor ? { cursor } : {});
      for (const r of page.resources) {
        expect(r.uri).toMatch(/^posthog:\/\/notebooks\/[A-Za-z0-9]+$/);
        expect(r.mimeType).toBe("text/plain");
        seen.add(r.uri);
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen.size).toBeGreaterThanOrEqual(1_050);
    expect(pages).toBe(Math.ceil(seen.size / 100));
    const offsets = h.upstream().map((r) => r.query.offset);
    expect(offsets).toEqual(Array.from({ length: pages }, (_, i) => String(i * 100)));
    expect(h.upstream().every((r) => r.query.limit === "100")).toBe(true);
  });

  it("rejects a cursor it did not issue", async () => {
    await expect(h.client.listResources({ cursor: "garbage!" })).rejects.toMatchObject({ code: -32602 });
  });
});
