/**
 * Result sentences say what happened: "Restored" only for a notebook that was deleted, and the
 * list's count agrees with its noun and verb.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, structured, textOf } from "../helpers/harness.js";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.mark());

interface Written {
  short_id: string;
  version: number;
  deleted: boolean;
  title: string | null;
}

const create = async (title: string, text = "wording") =>
  structured<Written>(await h.call("notebooks-create", { title, markdown: `# ${title}\n\n${text}` }));

describe("notebooks-partial-update with deleted: false", () => {
  it("on a notebook that is not deleted: says there was nothing to restore, and changes nothing", async () => {
    const nb = await create("Never deleted");
    h.mark();
    const result = await h.call("notebooks-partial-update", { short_id: nb.short_id, deleted: false });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toMatch(
      new RegExp(`^Notebook ${nb.short_id} "Never deleted" is not deleted, so there was nothing to restore`),
    );
    expect(textOf(result)).not.toMatch(/Restored/);
    expect(structured<Written>(result)).toMatchObject({ short_id: nb.short_id, deleted: false, version: 0 });
    // Read, not written: no PATCH (which would move last_modified_at and log an activity entry).
    expect(h.upstream().map((r) => [r.method, r.path])).toEqual([
      ["GET", `/api/projects/@current/notebooks/${nb.short_id}/`],
    ]);
  });

  it("with another change: makes it, and says there was nothing to restore", async () => {
    const nb = await create("Renamed, not deleted");
    h.mark();
    const result = await h.call("notebooks-partial-update", {
      short_id: nb.short_id,
      deleted: false,
      text_content: "plain text",
    });
    expect(textOf(result)).toMatch(/^Updated notebook \w{8} "Renamed, not deleted"; .*nothing to restore\./);
    const patches = h.upstream().filter((r) => r.method === "PATCH");
    expect(patches.map((r) => r.body)).toEqual([{ text_content: "plain text" }]);
  });

  it("on a notebook deleted elsewhere: reads it, restores it and says so", async () => {
    const nb = h.sandbox.insertNotebook({
      title: "Deleted then restored",
      deleted: true,
    }) as unknown as Written;
    h.mark();
    const result = await h.call("notebooks-partial-update", { short_id: nb.short_id, deleted: false });
    expect(textOf(result)).toMatch(new RegExp(`^Restored notebook ${nb.short_id} "Deleted then restored"`));
    expect(h.upstream().map((r) => [r.method, r.path, r.body])).toEqual([
      ["GET", `/api/projects/@current/notebooks/${nb.short_id}/`, undefined],
      ["PATCH", `/api/projects/@current/notebooks/${nb.short_id}/`, { deleted: false }],
    ]);
    expect(h.sandbox.getNotebook(nb.short_id)?.deleted).toBe(false);
  });

  it("on a notebook this session deleted: restored in one request", async () => {
    const nb = await create("Deleted here");
    await h.call("notebooks-destroy", { short_id: nb.short_id });
    h.mark();
    const result = await h.call("notebooks-partial-update", { short_id: nb.short_id, deleted: false });
    expect(textOf(result)).toMatch(new RegExp(`^Restored notebook ${nb.short_id} "Deleted here"`));
    expect(h.upstream().map((r) => r.method)).toEqual(["PATCH"]);
  });

  it("on a notebook that does not exist: not found, as before", async () => {
    const result = await h.call("notebooks-partial-update", { short_id: "zzzzzzzz", deleted: false });
    expect(result.isError).toBe(true);
    expect(h.upstream().map((r) => r.method)).toEqual(["GET", "PATCH"]);
  });
});

describe("notebooks-list's count", () => {
  it("agrees in number: 1 notebook matches, 0 and 2 notebooks match", async () => {
    const one = await create("Singular", "uniqueonewordzz");
    expect(textOf(await h.call("notebooks-list", { search: "uniqueonewordzz" }))).toMatch(
      /^1 notebook matches; showing 1–1\./,
    );
    await create("Plural", "uniqueonewordzz");
    expect(textOf(await h.call("notebooks-list", { search: "uniqueonewordzz" }))).toMatch(
      /^2 notebooks match; showing 1–2\./,
    );
    expect(textOf(await h.call("notebooks-list", { search: "nosuchwordanywhere" }))).toMatch(
      /^0 notebooks match; showing none\./,
    );
    expect(one.short_id).toMatch(/^\w{8}$/);
  });
});
