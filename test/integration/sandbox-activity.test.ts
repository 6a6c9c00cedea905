import { describe, expect, it } from "vitest";
import { type Sandbox, SEED_RECORDING_ID } from "../../src/sandbox/index.js";
import { callSandbox as call, sandboxSuite } from "../helpers/sandbox-http.js";

const NB = "/api/projects/1/notebooks/";
const doc = (text: string) => ({
  type: "doc",
  content: [{ type: "paragraph", content: [{ type: "text", text }] }],
});

const { start } = sandboxSuite();

describe("per-notebook activity", () => {
  it("logs create, field changes, delete and restore", async () => {
    const sb = await start();
    const created = (await call(sb, "POST", NB, { body: {} })).json;
    const path = `${NB}${created.short_id}/`;
    await call(sb, "PATCH", path, { body: { title: "First" } });
    await call(sb, "PATCH", path, { body: { title: "Second", content: doc("hello"), version: 0 } });
    await call(sb, "PATCH", path, { body: { title: "Second" } }); // no change: no entry
    await call(sb, "PATCH", path, { body: { deleted: true } });
    await call(sb, "PATCH", path, { body: { deleted: false } });
    const r = await call(sb, "GET", `${path}activity/`);
    expect(r.status).toBe(200);
    expect(r.json.total_count).toBe(5);
    expect(r.json.results.map((e: { activity: string }) => e.activity)).toEqual([
      "restored",
      "deleted",
      "updated",
      "updated",
      "created",
    ]);
    const [restored, deleted, second, first, creation] = r.json.results;
    expect(creation).toEqual({
      id: expect.any(String),
      user: { first_name: "Sandy", email: "sandbox@example.com" },
      activity: "created",
      scope: "Notebook",
      item_id: created.short_id,
      detail: {
        id: null,
        changes: null,
        merge: null,
        trigger: null,
        name: null,
        short_id: created.short_id,
        type: null,
      },
      created_at: expect.stringMatching(/Z$/),
    });
    expect(first.detail.changes).toEqual([
      { type: "Notebook", action: "created", field: "title", before: null, after: "First" },
    ]);
    expect(first.detail.name).toBe("First");
    expect(second.detail.changes).toEqual([
      { type: "Notebook", action: "changed", field: "title", before: "First", after: "Second" },
      { type: "Notebook", action: "created", field: "content", before: null, after: doc("hello") },
      { type: "Notebook", action: "changed", field: "version", before: 0, after: 1 },
    ]);
    expect(deleted.detail.changes).toEqual([
      { type: "Notebook", action: "changed", field: "deleted", before: false, after: true },
    ]);
    expect(restored.detail.changes).toEqual([
      { type: "Notebook", action: "changed", field: "deleted", before: true, after: false },
    ]);
  });

  it("legacy PostHog logs delete and restore as 'updated'", async () => {
    const sb = await start({ apiVersion: "legacy" });
    sb.insertNotebook({ short_id: "legacyac" });
    await call(sb, "PATCH", `${NB}legacyac/`, { body: { deleted: true } });
    await call(sb, "PATCH", `${NB}legacyac/`, { body: { deleted: false } });
    const r = await call(sb, "GET", `${NB}legacyac/activity/`);
    expect(r.json.results.map((e: { activity: string }) => e.activity)).toEqual(["updated", "updated"]);
  });

  it("pages with limit/page (default 10) and absolute URLs", async () => {
    const sb = await start();
    const created = (await call(sb, "POST", NB, { body: {} })).json;
    const path = `${NB}${created.short_id}/`;
    for (let i = 1; i <= 24; i++) await call(sb, "PATCH", path, { body: { title: `t${i}` } });
    const first = await call(sb, "GET", `${path}activity/`);
    expect(first.json.total_count).toBe(25);
    expect(first.json.results).toHaveLength(10);
    expect(first.json.results[0].detail.name).toBe("t24");
    expect(first.json.next).toBe(`${sb.url}${path}activity/?page=2&limit=10`);
    expect(first.json.previous).toBeNull();
    const third = await call(sb, "GET", `${path}activity/?limit=10&page=3`);
    expect(third.json.results).toHaveLength(5);
    expect(third.json.next).toBeNull();
    expect(third.json.previous).toBe(`${sb.url}${path}activity/?limit=10&page=2`);
    const custom = await call(sb, "GET", `${path}activity/?limit=4&page=2`);
    expect(custom.json.results.map((e: { detail: { name: string } }) => e.detail.name)).toEqual([
      "t20",
      "t19",
      "t18",
      "t17",
    ]);
    expect(custom.json.next).toBe(`${sb.url}${path}activity/?limit=4&page=3`);
  });

  it("rejects bad paging parameters and pages past the end", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "pagingac", logActivity: true });
    const zero = await call(sb, "GET", `${NB}pagingac/activity/?limit=0`);
    expect(zero.status).toBe(400);
    expect(zero.json).toEqual({
      type: "validation_error",
      code: "min_value",
      detail: "Ensure this value is greater than or equal to 1.",
      attr: "limit",
    });
    const junk = await call(sb, "GET", `${NB}pagingac/activity/?page=abc`);
    expect(junk.json).toMatchObject({
      code: "invalid_input",
      detail: "A valid integer is required.",
      attr: "page",
    });
    expect((await call(sb, "GET", `${NB}pagingac/activity/?page=2`)).status).toBe(500);
    expect((await call(sb, "GET", `${NB}nothere1/activity/`)).status).toBe(404);
  });

  it("the project-wide notebooks/activity route refuses personal API keys", async () => {
    const sb = await start();
    const r = await call(sb, "GET", `${NB}activity/`);
    expect(r.status).toBe(403);
    expect(r.json).toEqual({
      type: "authentication_error",
      code: "permission_denied",
      detail: "This action does not support personal API key access",
      attr: null,
    });
  });
});

describe("project activity log", () => {
  let sb: Sandbox;
  async function withEntries(n: number) {
    sb = await start();
    for (let i = 0; i < n; i++)
      sb.insertNotebook({ short_id: `log${String(i).padStart(5, "0")}`, title: `N${i}`, logActivity: true });
    return sb;
  }

  it("cursor-paginates 100 a page with next/previous URLs", async () => {
    await withEntries(130);
    const first = await call(sb, "GET", "/api/projects/1/activity_log/?scope=Notebook");
    expect(first.status).toBe(200);
    expect(Object.keys(first.json).sort()).toEqual(["next", "previous", "results"]);
    expect(first.json.results).toHaveLength(100);
    expect(first.json.previous).toBeNull();
    expect(first.json.results[0]).toMatchObject({
      activity: "created",
      scope: "Notebook",
      item_id: "log00129",
      unread: false,
      team_id: 1,
      was_impersonated: false,
      is_system: false,
      user: { id: 1, email: "sandbox@example.com" },
      detail: { name: "N129", short_id: "log00129", changes: null },
    });
    expect(first.json.next).toMatch(
      new RegExp(`^${sb.url}/api/projects/1/activity_log/\\?cursor=[A-Za-z0-9%]+&scope=Notebook$`),
    );
    const second = await call(sb, "GET", first.json.next);
    expect(second.json.results).toHaveLength(30);
    expect(second.json.results[0].item_id).toBe("log00029");
    expect(second.json.next).toBeNull();
    expect(second.json.previous).not.toBeNull();
    const back = await call(sb, "GET", second.json.previous);
    expect(back.json.results.map((e: { id: string }) => e.id)).toEqual(
      first.json.results.map((e: { id: string }) => e.id),
    );
    expect(back.json.previous).toBeNull();
    expect(back.json.next).not.toBeNull();
  });

  it("filters by item_id and scope, pages by page_size, orders ascending on request", async () => {
    await withEntries(5);
    await call(sb, "PATCH", `${NB}log00002/`, { body: { title: "changed" } });
    const item = await call(sb, "GET", "/api/projects/1/activity_log/?scope=Notebook&item_id=log00002");
    expect(item.json.results.map((e: { activity: string }) => e.activity)).toEqual(["updated", "created"]);
    expect((await call(sb, "GET", "/api/projects/1/activity_log/?scope=Insight")).json.results).toEqual([]);
    const small = await call(sb, "GET", "/api/projects/1/activity_log/?page_size=2");
    expect(small.json.results).toHaveLength(2);
    const oldest = await call(sb, "GET", "/api/projects/1/activity_log/?ordering=created_at&page_size=2");
    expect(oldest.json.results.map((e: { item_id: string }) => e.item_id)).toEqual(["log00000", "log00001"]);
    const walk: string[] = [];
    let next: string | null = `${sb.url}/api/projects/1/activity_log/?ordering=created_at&page_size=2`;
    while (next) {
      const page: { json: { next: string | null; results: { item_id: string; activity: string }[] } } =
        await call(sb, "GET", next);
      walk.push(...page.json.results.map((e) => `${e.item_id}:${e.activity}`));
      next = page.json.next;
    }
    expect(walk).toEqual(
      ["log00000", "log00001", "log00002", "log00003", "log00004"]
        .map((s) => `${s}:created`)
        .concat("log00002:updated"),
    );
  });

  it("page mode: ?page= gives {count,next,previous,results}", async () => {
    await withEntries(5);
    const p1 = await call(sb, "GET", "/api/projects/1/activity_log/?scope=Notebook&page=1&page_size=2");
    expect(p1.json.count).toBe(5);
    expect(p1.json.next).toBe(`${sb.url}/api/projects/1/activity_log/?page=2&page_size=2&scope=Notebook`);
    expect(p1.json.previous).toBeNull();
    const p2 = await call(sb, "GET", p1.json.next);
    expect(p2.json.previous).toBe(`${sb.url}/api/projects/1/activity_log/?page_size=2&scope=Notebook`);
    const bad = await call(sb, "GET", "/api/projects/1/activity_log/?page=9");
    expect(bad.status).toBe(404);
    expect(bad.json).toEqual({
      type: "invalid_request",
      code: "not_found",
      detail: "Invalid page.",
      attr: null,
    });
  });

  it("a malformed cursor is a 404 Invalid cursor", async () => {
    await withEntries(1);
    for (const cursor of [
      "abc",
      Buffer.from("o=abc").toString("base64"),
      Buffer.from("r=x").toString("base64"),
    ]) {
      const r = await call(sb, "GET", `/api/projects/1/activity_log/?cursor=${encodeURIComponent(cursor)}`);
      expect(r.status, cursor).toBe(404);
      expect(r.json).toEqual({
        type: "invalid_request",
        code: "not_found",
        detail: "Invalid cursor",
        attr: null,
      });
    }
  });

  it("only shows the project's own entries", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "project2", projectId: 2, logActivity: true });
    expect((await call(sb, "GET", "/api/projects/1/activity_log/")).json.results).toEqual([]);
    expect((await call(sb, "GET", "/api/projects/2/activity_log/")).json.results).toHaveLength(1);
  });
});

describe("access controls", () => {
  it("GET returns the notebook's access controls for the creator", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "aclnotes" });
    const r = await call(sb, "GET", `${NB}aclnotes/access_controls/`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      access_controls: [],
      available_access_levels: ["none", "viewer", "editor", "manager"],
      default_access_level: "editor",
      minimum_access_level: "none",
      maximum_access_level: "manager",
      user_access_level: "manager",
      user_can_edit_access_levels: true,
    });
  });

  it("someone else's notebook: editor, cannot edit access levels", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "aclother", createdBy: 5 });
    const r = await call(sb, "GET", `${NB}aclother/access_controls/`);
    expect(r.json).toMatchObject({ user_access_level: "editor", user_can_edit_access_levels: false });
    const put = await call(sb, "PUT", `${NB}aclother/access_controls/`, { body: { access_level: "viewer" } });
    expect(put.status).toBe(403);
  });

  it("PUT upserts and deletes entries", async () => {
    const sb = await start();
    const nb = sb.insertNotebook({ short_id: "aclwrite" });
    const put = await call(sb, "PUT", `${NB}aclwrite/access_controls/`, { body: { access_level: "viewer" } });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({
      access_level: "viewer",
      resource: "notebook",
      resource_id: nb.id,
      organization_member: null,
      role: null,
      created_by: 1,
    });
    await call(sb, "PUT", `${NB}aclwrite/access_controls/`, { body: { access_level: "none" } });
    const listed = await call(sb, "GET", `${NB}aclwrite/access_controls/`);
    expect(listed.json.access_controls).toHaveLength(1);
    expect(listed.json.access_controls[0].access_level).toBe("none");
    const bad = await call(sb, "PUT", `${NB}aclwrite/access_controls/`, { body: { access_level: "owner" } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ attr: "access_level" });
    const removed = await call(sb, "PUT", `${NB}aclwrite/access_controls/`, { body: { access_level: null } });
    expect(removed.status).toBe(204);
    expect((await call(sb, "GET", `${NB}aclwrite/access_controls/`)).json.access_controls).toEqual([]);
  });

  it("global_access_controls (and resource_access_controls) are a 400 for notebooks, even before the lookup", async () => {
    const sb = await start();
    const expected = {
      type: "validation_error",
      code: "invalid_input",
      detail: "Resource-level access controls can only be configured for projects.",
      attr: null,
    };
    for (const path of [`${NB}nothere1/global_access_controls/`, `${NB}nothere1/resource_access_controls`]) {
      const r = await call(sb, "GET", path);
      expect(r.status).toBe(400);
      expect(r.json).toEqual(expected);
    }
  });

  it("legacy PostHog has no minimum/maximum levels", async () => {
    const sb = await start({ apiVersion: "legacy" });
    sb.insertNotebook({ short_id: "acllegac" });
    const r = await call(sb, "GET", `${NB}acllegac/access_controls/`);
    expect(r.json).not.toHaveProperty("minimum_access_level");
    expect(r.json).toHaveProperty("user_can_edit_access_levels", true);
  });
});

describe("recording comments", () => {
  it("the route refuses personal API keys, before checking recording_id", async () => {
    const sb = await start({ seed: true });
    for (const path of [
      `${NB}recording_comments/`,
      `${NB}recording_comments/?recording_id=${SEED_RECORDING_ID}`,
    ]) {
      const r = await call(sb, "GET", path);
      expect(r.status).toBe(403);
      expect(r.json.detail).toBe("This action does not support personal API key access");
    }
  });

  it("the extraction is available directly", async () => {
    const sb = await start({ seed: true });
    expect(sb.recordingComments(SEED_RECORDING_ID)).toEqual([
      {
        timeInRecording: 83000,
        comment: "User taps Pay twice; the second tap is swallowed.",
        notebookShortId: "chk9Drop",
        notebookTitle: "Checkout drop-off investigation",
        id: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    await call(sb, "PATCH", `${NB}chk9Drop/`, { body: { deleted: true } });
    expect(sb.recordingComments(SEED_RECORDING_ID)).toEqual([]);
  });
});
