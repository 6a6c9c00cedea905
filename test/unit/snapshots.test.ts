/**
 * Stored versions: one store for the process, bounded in bytes whatever the number of sessions;
 * each key sees only its own entries.
 */
import { describe, expect, it } from "vitest";
import { charsOf, NotebookSnapshots, SnapshotStore } from "../../src/notebooks/snapshots.js";
import type { Notebook } from "../../src/posthog/schemas.js";

function notebook(shortId: string, chars: number): Notebook {
  return {
    short_id: shortId,
    version: 1,
    title: shortId,
    content: {
      type: "doc",
      content: [{ type: "paragraph", content: [{ type: "text", text: "x".repeat(chars) }] }],
    },
    text_content: null,
  } as unknown as Notebook;
}

describe("the process's store of stored versions", () => {
  it("stays within its bytes however many sessions fill it", () => {
    const store = new SnapshotStore(8 * 1024 * 1024);
    const client = {};
    // 100 sessions of one key, each reading four notebooks of 100,000 characters.
    for (let s = 0; s < 100; s++) {
      const view = new NotebookSnapshots(client, store);
      for (let n = 0; n < 4; n++) view.remember("@current", notebook(`s${s}n${n}`, 100_000));
      expect(store.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    }
    expect(store.size).toBeGreaterThan(0);
    expect(store.size).toBeLessThan(400);
  });

  it("counts the Markdown made later, and keeps no notebook bigger than a quarter of it", () => {
    const store = new SnapshotStore(4 * 1024 * 1024);
    const view = new NotebookSnapshots({}, store);
    const small = view.remember("@current", notebook("a", 100_000));
    const before = store.bytes;
    small.markdown = "y".repeat(200_000);
    expect(store.bytes).toBe(before + 400_000);
    view.remember("@current", notebook("huge", 600_000));
    expect(view.get("@current", "huge")).toBeUndefined();
    expect(view.get("@current", "a")?.markdown?.length).toBe(200_000);
  });

  it("shares entries between sessions of one key, never with another key", () => {
    const store = new SnapshotStore();
    const alice = {};
    const bob = {};
    new NotebookSnapshots(alice, store).remember("@current", notebook("n1", 10));
    expect(new NotebookSnapshots(alice, store).get("@current", "n1")?.notebook.short_id).toBe("n1");
    expect(new NotebookSnapshots(bob, store).get("@current", "n1")).toBeUndefined();
    expect(new NotebookSnapshots(alice, store).get(2 as never, "n1")).toBeUndefined();
  });

  it("measures a document without writing it out", () => {
    const doc = notebook("m", 1_000).content;
    const json = JSON.stringify(doc).length;
    expect(charsOf(doc)).toBeGreaterThanOrEqual(json * 0.9);
    expect(charsOf(doc)).toBeLessThanOrEqual(json * 1.5);
  });
});
