import { describe, expect, it } from "vitest";
import { callSandbox as call, sandboxSuite } from "../helpers/sandbox-http.js";

const NB = "/api/projects/1/notebooks/";
const CONFLICT = {
  type: "server_error",
  code: "conflict",
  detail: "Someone else edited the Notebook",
  attr: null,
};
const NOT_FOUND = { type: "invalid_request", code: "not_found", detail: "Not found.", attr: null };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/;
const USER_KEYS = [
  "distinct_id",
  "email",
  "first_name",
  "hedgehog_config",
  "id",
  "is_email_verified",
  "last_name",
  "role_at_organization",
  "uuid",
];

const { start } = sandboxSuite();

describe("create", () => {
  it("POST {} creates a notebook with PostHog's defaults", async () => {
    const sb = await start();
    const r = await call(sb, "POST", NB, { body: {} });
    expect(r.status).toBe(201);
    expect(Object.keys(r.json).sort()).toEqual(
      [
        "content",
        "created_at",
        "created_by",
        "deleted",
        "id",
        "last_modified_at",
        "last_modified_by",
        "parent_resource",
        "short_id",
        "text_content",
        "title",
        "user_access_level",
        "version",
      ].sort(),
    );
    expect(r.json).toMatchObject({
      title: null,
      content: null,
      text_content: null,
      version: 0,
      deleted: false,
      user_access_level: "manager",
    });
    expect(r.json.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(r.json.short_id).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(r.json.created_at).toMatch(ISO);
    expect(r.json.last_modified_at).toBe(r.json.created_at);
    expect(Object.keys(r.json.created_by).sort()).toEqual(USER_KEYS);
    expect(r.json.created_by).toEqual(r.json.last_modified_by);
    expect(r.headers.get("content-type")).toBe("application/json");
  });

  it("stores every writable field as sent (strings trimmed, like DRF)", async () => {
    const sb = await start();
    const content = {
      type: "doc",
      content: [{ type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "T" }] }],
    };
    const r = await call(sb, "POST", NB, {
      body: { title: "  Title ", content, text_content: "T", version: 5, deleted: false, id: "ignored" },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ title: "Title", content, text_content: "T", version: 5 });
    expect(r.json.id).not.toBe("ignored");
  });

  it("validates the body", async () => {
    const sb = await start();
    const cases: [unknown, unknown][] = [
      [
        { title: "x".repeat(257) },
        {
          type: "validation_error",
          code: "max_length",
          detail: "Ensure this field has no more than 256 characters.",
          attr: "title",
        },
      ],
      [
        { version: "one" },
        {
          type: "validation_error",
          code: "invalid_input",
          detail: "A valid integer is required.",
          attr: "version",
        },
      ],
      [
        { deleted: "perhaps" },
        {
          type: "validation_error",
          code: "invalid_input",
          detail: "Must be a valid boolean.",
          attr: "deleted",
        },
      ],
      [
        [1, 2],
        {
          type: "validation_error",
          code: "invalid_input",
          detail: "Invalid data. Expected a dictionary, but got list.",
          attr: null,
        },
      ],
    ];
    for (const [body, expected] of cases) {
      const r = await call(sb, "POST", NB, { body });
      expect(r.status).toBe(400);
      expect(r.json).toEqual(expected);
    }
    expect((await call(sb, "POST", NB, { body: { title: "x".repeat(256) } })).status).toBe(201);
  });

  it("malformed JSON is a 400 parse_error; other media types a 415; form bodies are parsed", async () => {
    const sb = await start();
    const bad = await call(sb, "POST", NB, { raw: "{nope", headers: { "Content-Type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ type: "invalid_request", code: "parse_error", attr: null });
    expect(bad.json.detail).toMatch(/^JSON parse error - /);
    const text = await call(sb, "POST", NB, { raw: "title=x", headers: { "Content-Type": "text/plain" } });
    expect(text.status).toBe(415);
    expect(text.json).toEqual({
      type: "invalid_request",
      code: "unsupported_media_type",
      detail: 'Unsupported media type "text/plain" in request.',
      attr: null,
    });
    const form = await call(sb, "POST", NB, {
      raw: "title=From+a+form&version=2",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(201);
    expect(form.json).toMatchObject({ title: "From a form", version: 2 });
    const empty = await call(sb, "POST", NB, { raw: "", headers: { "Content-Type": "application/json" } });
    expect(empty.status).toBe(201);
  });

  it("accepts a client short_id (latest): alphanumeric, at most 12; duplicates return the existing one; 409 if deleted", async () => {
    const sb = await start();
    const first = await call(sb, "POST", NB, { body: { short_id: "myNotebook12", title: "one" } });
    expect(first.status).toBe(201);
    expect(first.json.short_id).toBe("myNotebook12");
    const again = await call(sb, "POST", NB, { body: { short_id: "myNotebook12", title: "two" } });
    expect(again.json.id).toBe(first.json.id);
    expect(again.json.title).toBe("one");
    expect((await call(sb, "GET", NB)).json.count).toBe(1);
    for (const short_id of ["bad-id", "x".repeat(13)]) {
      const r = await call(sb, "POST", NB, { body: { short_id } });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ type: "validation_error", attr: "short_id" });
    }
    await call(sb, "PATCH", `${NB}myNotebook12/`, { body: { deleted: true } });
    const deleted = await call(sb, "POST", NB, { body: { short_id: "myNotebook12" } });
    expect(deleted.status).toBe(409);
    expect(deleted.json).toMatchObject({ type: "server_error", code: "conflict" });
  });
});

describe("retrieve", () => {
  it("returns the full notebook; 404 for unknown, deleted or other-project notebooks", async () => {
    const sb = await start();
    sb.insertNotebook({
      short_id: "retrieve",
      title: "R",
      content: { type: "doc", content: [] },
      text_content: "R",
    });
    sb.insertNotebook({ short_id: "elsewher", projectId: 2 });
    sb.insertNotebook({ short_id: "gonegone", deleted: true });
    const r = await call(sb, "GET", `${NB}retrieve/`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      short_id: "retrieve",
      title: "R",
      content: { type: "doc", content: [] },
      text_content: "R",
      version: 0,
    });
    expect((await call(sb, "GET", `${NB}retrieve`)).status).toBe(200);
    for (const id of ["nothere1", "elsewher", "gonegone"]) {
      const miss = await call(sb, "GET", `${NB}${id}/`);
      expect(miss.status, id).toBe(404);
      expect(miss.json).toEqual(NOT_FOUND);
    }
  });

  it("304 with an empty body when If-None-Match equals the version (compared as PostHog does: raw)", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "etagtest", version: 3 });
    const hit = await call(sb, "GET", `${NB}etagtest/`, { headers: { "If-None-Match": "3" } });
    expect(hit.status).toBe(304);
    expect(hit.text).toBe("");
    expect(hit.headers.get("etag")).toBeNull();
    expect((await call(sb, "GET", `${NB}etagtest/`, { headers: { "If-None-Match": "2" } })).status).toBe(200);
    expect((await call(sb, "GET", `${NB}etagtest/`, { headers: { "If-None-Match": '"3"' } })).status).toBe(
      200,
    );
  });
});

describe("update", () => {
  const doc = (text: string) => ({
    type: "doc",
    content: [{ type: "paragraph", content: [{ type: "text", text }] }],
  });

  it("content needs the current version; success bumps it by one", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "versions", version: 4 });
    for (const body of [
      { content: doc("a") },
      { content: doc("a"), version: 3 },
      { content: doc("a"), version: "5" },
    ]) {
      const r = await call(sb, "PATCH", `${NB}versions/`, { body });
      expect(r.status).toBe(409);
      expect(r.json).toEqual(CONFLICT);
    }
    const ok = await call(sb, "PATCH", `${NB}versions/`, { body: { content: doc("a"), version: 4 } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ version: 5, content: doc("a") });
    // content: null is still "content in the payload" on the latest variant.
    expect((await call(sb, "PATCH", `${NB}versions/`, { body: { content: null } })).status).toBe(409);
    const cleared = await call(sb, "PATCH", `${NB}versions/`, { body: { content: null, version: 5 } });
    expect(cleared.json).toMatchObject({ content: null, version: 6 });
  });

  it("title, text_content and deleted need no version and do not bump it; every update touches last_modified", async () => {
    const sb = await start({ keys: [{ value: "phx_user1" }, { value: "phx_user2", userId: 2 }] });
    const created = sb.insertNotebook({
      short_id: "metadata",
      version: 2,
      createdAt: "2024-01-01T00:00:00Z",
    });
    const r = await call(sb, "PATCH", `${NB}metadata/`, {
      key: "phx_user2",
      body: { title: "New", text_content: "words" },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ title: "New", text_content: "words", version: 2 });
    expect(Date.parse(r.json.last_modified_at)).toBeGreaterThan(
      Date.parse(created.last_modified_at as string),
    );
    expect(r.json.last_modified_by.id).toBe(2);
    expect(r.json.created_by.id).toBe(1);
    expect(r.json.user_access_level).toBe("editor");
  });

  it("PUT behaves like PATCH", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "puttest1", version: 1, title: "keep" });
    expect((await call(sb, "PUT", `${NB}puttest1/`, { body: { content: doc("x") } })).json).toEqual(CONFLICT);
    const ok = await call(sb, "PUT", `${NB}puttest1/`, { body: { content: doc("x"), version: 1 } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ title: "keep", version: 2 });
  });

  it("a version without content is written as sent (PostHog's serializer does the same)", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "setversi", version: 1 });
    expect((await call(sb, "PATCH", `${NB}setversi/`, { body: { version: 10 } })).json.version).toBe(10);
  });

  it("a payload with no writable field is a 500, as PostHog's update fails on it", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "emptypat" });
    const r = await call(sb, "PATCH", `${NB}emptypat/`, { body: { unknown: 1 } });
    expect(r.status).toBe(500);
    expect(r.json).toEqual({
      type: "server_error",
      code: "error",
      detail: "A server error occurred.",
      attr: null,
    });
  });

  it("validates like create, after the lookup", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "validate" });
    expect(
      (await call(sb, "PATCH", `${NB}validate/`, { body: { title: "x".repeat(257) } })).json,
    ).toMatchObject({ code: "max_length", attr: "title" });
    expect(
      (
        await call(sb, "PATCH", `${NB}nothere1/`, {
          raw: "{bad",
          headers: { "Content-Type": "application/json" },
        })
      ).status,
    ).toBe(404);
  });

  it("50 concurrent PATCHes with the same version: exactly one wins", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "racerace", version: 7 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(sb, "PATCH", `${NB}racerace/`, { body: { content: doc(`writer ${i}`), version: 7 } }),
      ),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(49);
    const final = await call(sb, "GET", `${NB}racerace/`);
    expect(final.json.version).toBe(8);
    expect(final.json.content).toEqual(winners[0]?.json.content);
  });
});

describe("soft delete", () => {
  it("PATCH deleted:true hides the notebook; PATCH deleted:false restores it; DELETE is a 405", async () => {
    const sb = await start();
    sb.insertNotebook({ short_id: "softdele", title: "Soft" });
    const del = await call(sb, "PATCH", `${NB}softdele/`, { body: { deleted: true } });
    expect(del.status).toBe(200);
    expect(del.json.deleted).toBe(true);
    for (const path of [`${NB}softdele/`, `${NB}softdele/activity/`, `${NB}softdele/access_controls/`]) {
      const r = await call(sb, "GET", path);
      expect(r.status, path).toBe(404);
      expect(r.json).toEqual(NOT_FOUND);
    }
    expect((await call(sb, "GET", NB)).json.count).toBe(0);
    const restored = await call(sb, "PATCH", `${NB}softdele/`, { body: { deleted: false } });
    expect(restored.status).toBe(200);
    expect(restored.json).toMatchObject({ deleted: false, title: "Soft" });
    expect((await call(sb, "GET", `${NB}softdele/`)).status).toBe(200);
    expect((await call(sb, "GET", NB)).json.count).toBe(1);
    const hard = await call(sb, "DELETE", `${NB}softdele/`);
    expect(hard.status).toBe(405);
    expect(hard.text).toBe("");
    expect(sb.getNotebook("softdele")).toMatchObject({ deleted: false });
  });
});

describe("legacy variant", () => {
  it("ignores short_id, checks versions only for truthy content and has no parent_resource", async () => {
    const sb = await start({ apiVersion: "legacy" });
    const created = await call(sb, "POST", NB, { body: { short_id: "mine1234" } });
    expect(created.status).toBe(201);
    expect(created.json.short_id).not.toBe("mine1234");
    expect(created.json).not.toHaveProperty("parent_resource");
    const path = `${NB}${created.json.short_id}/`;
    const emptyContent = await call(sb, "PATCH", path, { body: { content: {} } });
    expect(emptyContent.status).toBe(200);
    expect(emptyContent.json.version).toBe(0);
    expect((await call(sb, "PATCH", path, { body: { content: { type: "doc" } } })).json).toEqual(CONFLICT);
    const ok = await call(sb, "PATCH", path, { body: { content: { type: "doc" }, version: 0 } });
    expect(ok.json.version).toBe(1);
  });
});
