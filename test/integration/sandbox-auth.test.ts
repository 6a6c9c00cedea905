import { beforeEach, describe, expect, it } from "vitest";
import { SANDBOX_DEFAULT_KEY, SANDBOX_ORGANIZATION_ID, type Sandbox } from "../../src/sandbox/index.js";
import { callSandbox as call, sandboxSuite } from "../helpers/sandbox-http.js";

const denied = (detail: string) => ({
  type: "authentication_error",
  code: "permission_denied",
  detail,
  attr: null,
});
const missing = (scope: string) => denied(`API key missing required scope '${scope}'`);
const UNSUPPORTED = denied("This action does not support personal API key access");

const { start } = sandboxSuite();

describe("routing and authentication", () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await start();
  });

  it("answers unknown routes with 404 Endpoint not found, without authentication", async () => {
    for (const path of [
      "/api/nope/",
      "/",
      "/api/projects/1/notebooks/abc/unknown/",
      "/api/projects/1/notebooks/a.b/",
    ]) {
      const r = await call(sb, "GET", path, { key: null });
      expect(r.status).toBe(404);
      expect(r.json).toEqual({
        type: "invalid_request",
        code: "not_found",
        detail: "Endpoint not found.",
        attr: null,
      });
    }
  });

  it("401 not_authenticated without credentials, with WWW-Authenticate", async () => {
    const expected = {
      type: "authentication_error",
      code: "not_authenticated",
      detail: "Authentication credentials were not provided.",
      attr: null,
    };
    const none = await call(sb, "GET", "/api/projects/1/notebooks/", { key: null });
    expect(none.status).toBe(401);
    expect(none.json).toEqual(expected);
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
    for (const authorization of ["Basic abc", "Token phx_x", "Bearer x", "Bearer"]) {
      const r = await call(sb, "GET", "/api/projects/1/notebooks/", {
        key: null,
        headers: { Authorization: authorization },
      });
      expect(r.status, authorization).toBe(401);
      expect(r.json).toEqual(expected);
    }
  });

  it("401 authentication_failed for an unknown key", async () => {
    const r = await call(sb, "GET", "/api/projects/1/notebooks/", { key: "phx_unknown" });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({
      type: "authentication_error",
      code: "authentication_failed",
      detail: "Personal API key found in request Authorization header is invalid.",
      attr: null,
    });
  });

  it("a revoked key is refused from then on", async () => {
    sb.addKey({ value: "phx_second", scopes: ["*"] });
    expect((await call(sb, "GET", "/api/projects/1/notebooks/", { key: "phx_second" })).status).toBe(200);
    sb.removeKey("phx_second");
    const r = await call(sb, "GET", "/api/projects/1/notebooks/", { key: "phx_second" });
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ code: "authentication_failed" });
  });

  it("scopes can shrink and grow mid-session", async () => {
    sb.addKey({ value: "phx_mutable", scopes: ["notebook:read"] });
    expect((await call(sb, "GET", "/api/projects/1/notebooks/", { key: "phx_mutable" })).status).toBe(200);
    sb.setScopes("phx_mutable", []);
    const r = await call(sb, "GET", "/api/projects/1/notebooks/", { key: "phx_mutable" });
    expect(r.status).toBe(403);
    expect(r.json).toEqual(missing("notebook:read"));
    sb.setScopes("phx_mutable", ["notebook:write"]);
    expect(
      (await call(sb, "POST", "/api/projects/1/notebooks/", { key: "phx_mutable", body: {} })).status,
    ).toBe(201);
  });

  it("accepts the /api/environments/ alias of /api/projects/", async () => {
    expect((await call(sb, "GET", "/api/environments/1/notebooks")).status).toBe(200);
  });
});

describe("scope matrix", () => {
  const keys: Record<string, string[]> = {
    all: ["*"],
    read: ["notebook:read"],
    write: ["notebook:write"],
    activity: ["activity_log:read"],
    activityWrite: ["activity_log:write"],
    acl: ["access_control:read"],
    none: [],
  };
  const routes: {
    name: string;
    method: string;
    path: string;
    body?: unknown;
    scope: string | null;
    ok: number;
  }[] = [
    { name: "list", method: "GET", path: "/api/projects/1/notebooks/", scope: "notebook:read", ok: 200 },
    {
      name: "create",
      method: "POST",
      path: "/api/projects/1/notebooks/",
      body: {},
      scope: "notebook:write",
      ok: 201,
    },
    {
      name: "retrieve",
      method: "GET",
      path: "/api/projects/1/notebooks/matrix01/",
      scope: "notebook:read",
      ok: 200,
    },
    {
      name: "partial_update",
      method: "PATCH",
      path: "/api/projects/1/notebooks/matrix01/",
      body: { title: "a" },
      scope: "notebook:write",
      ok: 200,
    },
    {
      name: "update",
      method: "PUT",
      path: "/api/projects/1/notebooks/matrix01/",
      body: { title: "b" },
      scope: "notebook:write",
      ok: 200,
    },
    {
      name: "destroy",
      method: "DELETE",
      path: "/api/projects/1/notebooks/matrix01/",
      scope: "notebook:write",
      ok: 405,
    },
    {
      name: "activity",
      method: "GET",
      path: "/api/projects/1/notebooks/matrix01/activity/",
      scope: "activity_log:read",
      ok: 200,
    },
    {
      name: "access_controls",
      method: "GET",
      path: "/api/projects/1/notebooks/matrix01/access_controls/",
      scope: "access_control:read",
      ok: 200,
    },
    {
      name: "global_access_controls",
      method: "GET",
      path: "/api/projects/1/notebooks/matrix01/global_access_controls/",
      scope: "access_control:read",
      ok: 400,
    },
    {
      name: "project activity_log",
      method: "GET",
      path: "/api/projects/1/activity_log/?scope=Notebook",
      scope: "activity_log:read",
      ok: 200,
    },
    { name: "all activity", method: "GET", path: "/api/projects/1/notebooks/activity/", scope: null, ok: 0 },
    {
      name: "recording_comments",
      method: "GET",
      path: "/api/projects/1/notebooks/recording_comments/?recording_id=r",
      scope: null,
      ok: 0,
    },
  ];

  const allows = (granted: string[], scope: string) =>
    granted.includes("*") ||
    granted.includes(scope) ||
    (scope.endsWith(":read") && granted.includes(scope.replace(":read", ":write")));

  it("allows or refuses every route for every kind of key, with PostHog's exact 403", async () => {
    const sb = await start({
      keys: Object.entries(keys).map(([name, scopes]) => ({ value: `phx_${name}`, scopes })),
    });
    sb.insertNotebook({ short_id: "matrix01", title: "Matrix" });
    for (const [keyName, granted] of Object.entries(keys)) {
      for (const route of routes) {
        const r = await call(sb, route.method, route.path, { key: `phx_${keyName}`, body: route.body });
        const label = `${keyName} ${route.name}`;
        if (route.scope === null) {
          expect(r.status, label).toBe(403);
          expect(r.json, label).toEqual(UNSUPPORTED);
        } else if (allows(granted, route.scope)) {
          expect(r.status, label).toBe(route.ok);
        } else {
          expect(r.status, label).toBe(403);
          expect(r.json, label).toEqual(missing(route.scope));
        }
      }
    }
  });

  it("checks the scope before looking the notebook up", async () => {
    const sb = await start({ keys: [{ value: "phx_read", scopes: ["notebook:read"] }] });
    const r = await call(sb, "PATCH", "/api/projects/1/notebooks/nothere1/", { body: { title: "x" } });
    expect(r.status).toBe(403);
    expect(r.json).toEqual(missing("notebook:write"));
    expect((await call(sb, "GET", "/api/projects/1/notebooks/nothere1/")).status).toBe(404);
  });
});

describe("projects", () => {
  it("@current means currentProjectId", async () => {
    const sb = await start({ currentProjectId: 2 });
    const created = await call(sb, "POST", "/api/projects/@current/notebooks/", {
      body: { title: "in two" },
    });
    expect(created.status).toBe(201);
    const inTwo = await call(sb, "GET", "/api/projects/2/notebooks/");
    expect(inTwo.json).toMatchObject({ count: 1 });
    expect((await call(sb, "GET", "/api/projects/1/notebooks/")).json).toMatchObject({ count: 0 });
  });

  it("404 Project not found for a non-integer or unknown project", async () => {
    const sb = await start();
    const expected = { type: "invalid_request", code: "not_found", detail: "Project not found.", attr: null };
    for (const project of ["abc", "999", "current", "1x"]) {
      const r = await call(sb, "GET", `/api/projects/${project}/notebooks/`);
      expect(r.status, project).toBe(404);
      expect(r.json).toEqual(expected);
    }
  });

  it("the project is resolved after the unsupported-action check and before the scope check", async () => {
    const sb = await start({ keys: [{ value: "phx_read", scopes: ["notebook:read"] }] });
    expect((await call(sb, "GET", "/api/projects/abc/notebooks/activity/")).json).toEqual(UNSUPPORTED);
    const r = await call(sb, "POST", "/api/projects/999/notebooks/", { body: {} });
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ detail: "Project not found." });
  });

  it("scoped_teams limits the key to its projects, before the scope check", async () => {
    const sb = await start({
      keys: [
        { value: "phx_team2", scopes: ["*"], scoped_teams: [2] },
        { value: "phx_team2_activity", scopes: ["activity_log:read"], scoped_teams: [2] },
      ],
    });
    const denied1 = denied("API key does not have access to the requested project: ID 1.");
    for (const path of [
      "/api/projects/1/notebooks/",
      "/api/projects/@current/notebooks/",
      "/api/projects/1/activity_log/",
    ]) {
      const r = await call(sb, "GET", path, { key: "phx_team2" });
      expect(r.status, path).toBe(403);
      expect(r.json).toEqual(denied1);
    }
    expect((await call(sb, "GET", "/api/projects/2/notebooks/", { key: "phx_team2" })).status).toBe(200);
    expect((await call(sb, "GET", "/api/projects/1/notebooks/", { key: "phx_team2_activity" })).json).toEqual(
      denied1,
    );
    expect((await call(sb, "GET", "/api/projects/2/notebooks/", { key: "phx_team2_activity" })).json).toEqual(
      missing("notebook:read"),
    );
  });

  it("scoped_organizations limits the key to its organizations", async () => {
    const sb = await start({
      keys: [
        {
          value: "phx_other_org",
          scopes: ["*"],
          scoped_organizations: ["00000000-0000-4000-8000-000000000000"],
        },
        { value: "phx_this_org", scopes: ["*"], scoped_organizations: [SANDBOX_ORGANIZATION_ID] },
      ],
    });
    const r = await call(sb, "GET", "/api/projects/1/notebooks/", { key: "phx_other_org" });
    expect(r.status).toBe(403);
    expect(r.json).toEqual(
      denied(`API key does not have access to the requested organization: ID ${SANDBOX_ORGANIZATION_ID}.`),
    );
    expect((await call(sb, "GET", "/api/projects/1/notebooks/", { key: "phx_this_org" })).status).toBe(200);
  });
});

describe("methods", () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await start({
      keys: [{ value: SANDBOX_DEFAULT_KEY }, { value: "phx_read", scopes: ["notebook:read"] }],
    });
    sb.insertNotebook({ short_id: "methods1", title: "M" });
  });

  it("DELETE on a notebook is a 405 with an empty body, after the scope check", async () => {
    const r = await call(sb, "DELETE", "/api/projects/1/notebooks/methods1/");
    expect(r.status).toBe(405);
    expect(r.text).toBe("");
    expect((await call(sb, "GET", "/api/projects/1/notebooks/methods1/")).status).toBe(200);
    expect((await call(sb, "DELETE", "/api/projects/1/notebooks/nothere1/")).status).toBe(405);
    const readOnly = await call(sb, "DELETE", "/api/projects/1/notebooks/methods1/", { key: "phx_read" });
    expect(readOnly.status).toBe(403);
    expect(readOnly.json).toEqual(missing("notebook:write"));
  });

  it("a method with no action is refused to personal API keys, as DRF+PostHog do", async () => {
    for (const [method, path] of [
      ["PUT", "/api/projects/1/notebooks/"],
      ["DELETE", "/api/projects/1/notebooks/"],
      ["POST", "/api/projects/1/notebooks/methods1/"],
      ["POST", "/api/projects/1/notebooks/methods1/access_controls/"],
      ["POST", "/api/projects/1/activity_log/"],
    ] as const) {
      const r = await call(sb, method, path, { body: {} });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.json).toEqual(UNSUPPORTED);
    }
  });

  it("405 method_not_allowed where the action resolves but the handler does not exist", async () => {
    const patchList = await call(sb, "PATCH", "/api/projects/1/notebooks/", { body: {} });
    expect(patchList.status).toBe(405);
    expect(patchList.json).toEqual({
      type: "invalid_request",
      code: "method_not_allowed",
      detail: 'Method "PATCH" not allowed.',
      attr: null,
    });
    const postActivity = await call(sb, "POST", "/api/projects/1/notebooks/methods1/activity/", { body: {} });
    expect(postActivity.status).toBe(405);
    expect(postActivity.json).toMatchObject({ detail: 'Method "POST" not allowed.' });
    const patchLog = await call(sb, "PATCH", "/api/projects/1/activity_log/", { body: {} });
    expect(patchLog.json).toMatchObject({ code: "method_not_allowed" });
  });

  it("HEAD behaves like GET without a body; OPTIONS needs read access", async () => {
    const head = await call(sb, "HEAD", "/api/projects/1/notebooks/");
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    const options = await call(sb, "OPTIONS", "/api/projects/1/notebooks/methods1/", { key: "phx_read" });
    expect(options.status).toBe(200);
    expect(options.json).toMatchObject({ renders: ["application/json"] });
  });
});

describe("GET /api/personal_api_keys/@current/", () => {
  it("describes the calling key, with no scope needed", async () => {
    const sb = await start({
      keys: [
        {
          value: "phx_introspectMe1234",
          scopes: ["notebook:read"],
          label: "MCP",
          userId: 7,
          scoped_teams: [1],
        },
        { value: "phx_noScopesAtAll999", scopes: [] },
      ],
    });
    const r = await call(sb, "GET", "/api/personal_api_keys/@current/");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      id: expect.any(String),
      label: "MCP",
      value: null,
      mask_value: "phx_...1234",
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/),
      last_used_at: expect.stringMatching(/Z$/),
      user_id: 7,
      scopes: ["notebook:read"],
      scoped_teams: [1],
      scoped_organizations: null,
      last_rolled_at: null,
    });
    const empty = await call(sb, "GET", "/api/personal_api_keys/@current", { key: "phx_noScopesAtAll999" });
    expect(empty.json).toMatchObject({ scopes: ["*"], mask_value: "phx_...l999" });
    // An empty scope list is shown as ["*"] but grants nothing, as in PostHog.
    expect(
      (await call(sb, "GET", "/api/projects/1/notebooks/", { key: "phx_noScopesAtAll999" })).json,
    ).toEqual(missing("notebook:read"));
  });

  it("a key may only retrieve itself", async () => {
    const sb = await start({ keys: [{ value: "phx_first" }, { value: "phx_second" }] });
    const refusal = denied("This action does not support Personal API Key access");
    expect((await call(sb, "GET", "/api/personal_api_keys/")).json).toEqual(refusal);
    expect((await call(sb, "POST", "/api/personal_api_keys/@current/", { body: {} })).json).toEqual(refusal);
    expect((await call(sb, "DELETE", "/api/personal_api_keys/@current/")).json).toEqual(refusal);
    const own = (await call(sb, "GET", "/api/personal_api_keys/@current/")).json as { id: string };
    expect((await call(sb, "GET", `/api/personal_api_keys/${own.id}/`)).status).toBe(200);
    const other = (await call(sb, "GET", "/api/personal_api_keys/@current/", { key: "phx_second" })).json as {
      id: string;
    };
    expect((await call(sb, "GET", `/api/personal_api_keys/${other.id}/`)).json).toEqual(refusal);
    expect((await call(sb, "GET", "/api/personal_api_keys/nope/")).status).toBe(404);
    expect((await call(sb, "GET", "/api/personal_api_keys/@current/", { key: null })).status).toBe(401);
  });

  it("is a 404 on the legacy variant", async () => {
    const sb = await start({ apiVersion: "legacy" });
    const r = await call(sb, "GET", "/api/personal_api_keys/@current/");
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ type: "invalid_request", code: "not_found", detail: "Not found.", attr: null });
    expect((await call(sb, "GET", "/api/projects/1/notebooks/activity/")).json).toEqual(
      denied("This action does not support Personal API Key access"),
    );
  });
});
