/**
 * The scope matrix: which tools each key sees, and that a call the key may not make sends nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/operations/index.js";
import { type Harness, startHarness, textOf } from "../helpers/harness.js";

const KEY = "phx_scopetest000000000000000000000000000000000000";
const ALL = OPERATIONS.map((op) => op.name).sort();
const READ_NOTEBOOKS = ["notebooks-list", "notebooks-recording-comments-retrieve", "notebooks-retrieve"];
const WRITE_NOTEBOOKS = [
  "notebooks-create",
  "notebooks-destroy",
  "notebooks-edit",
  "notebooks-partial-update",
];
const ACTIVITY = ["notebooks-activity-retrieve", "notebooks-all-activity-retrieve"];
const ACCESS = ["notebooks-access-controls-retrieve", "notebooks-global-access-controls-retrieve"];

/** Minimal valid arguments for every tool. */
const ARGS: Record<string, Record<string, unknown>> = {
  "notebooks-list": {},
  "notebooks-create": { title: "x" },
  "notebooks-retrieve": { short_id: "abcd1234" },
  "notebooks-partial-update": { short_id: "abcd1234", title: "y" },
  "notebooks-destroy": { short_id: "abcd1234" },
  "notebooks-activity-retrieve": { short_id: "abcd1234" },
  "notebooks-all-activity-retrieve": {},
  "notebooks-recording-comments-retrieve": { recording_id: "rec-1" },
  "notebooks-access-controls-retrieve": { short_id: "abcd1234" },
  "notebooks-global-access-controls-retrieve": { short_id: "abcd1234" },
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const matrix: { name: string; scopes: string[]; readOnly?: boolean; expected: string[] }[] = [
  { name: "notebook:read", scopes: ["notebook:read"], expected: READ_NOTEBOOKS },
  { name: "notebook:write", scopes: ["notebook:write"], expected: [...READ_NOTEBOOKS, ...WRITE_NOTEBOOKS] },
  { name: "*", scopes: ["*"], expected: ALL },
  { name: "activity_log:read", scopes: ["activity_log:read"], expected: ACTIVITY },
  { name: "access_control:read", scopes: ["access_control:read"], expected: ACCESS },
  {
    name: "* with --read-only",
    scopes: ["*"],
    readOnly: true,
    expected: [...READ_NOTEBOOKS, ...ACTIVITY, ...ACCESS],
  },
  {
    name: "notebook:write with --read-only",
    scopes: ["notebook:write"],
    readOnly: true,
    expected: READ_NOTEBOOKS,
  },
  { name: "unrelated scopes", scopes: ["insight:read", "feature_flag:write"], expected: [] },
];

describe("tools/list and refusals per key", () => {
  for (const row of matrix) {
    it(`${row.name}: lists exactly what the key may use; refuses the rest locally`, async () => {
      h = await startHarness({ key: { value: KEY, scopes: row.scopes }, readOnly: row.readOnly ?? false });
      expect(await h.toolNames()).toEqual([...row.expected].sort());

      for (const name of ALL.filter((n) => !row.expected.includes(n))) {
        h.mark();
        const result = await h.call(name, ARGS[name]);
        expect(result.isError, name).toBe(true);
        const op = OPERATIONS.find((o) => o.name === name);
        if (row.readOnly && op?.writes) {
          expect(textOf(result)).toMatch(/--read-only/);
        } else {
          expect(textOf(result)).toContain(`lacks the '${op?.scope}' scope`);
          expect(textOf(result)).toMatch(/nothing was sent to PostHog.*settings\/user-api-keys/);
        }
        expect(h.upstream(), `${name} sent a request`).toHaveLength(0);
      }
    });
  }
});

describe("scoped_teams", () => {
  it("refuses a project outside the key's projects without sending anything", async () => {
    h = await startHarness({ key: { value: KEY, scopes: ["*"], scoped_teams: [1] } });
    h.mark();
    const result = await h.call("notebooks-list", { project_id: 2 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/limited to project 1, not project 2.*nothing was sent/);
    expect(h.upstream()).toHaveLength(0);
    const allowed = await h.call("notebooks-list", { project_id: 1 });
    expect(allowed.isError).toBeFalsy();
  });
});

describe("grants that change mid-session", () => {
  it("re-reads the grants after a scope refusal, drops the tool and notifies the client", async () => {
    h = await startHarness({ key: { value: KEY, scopes: ["notebook:write"] } });
    expect(await h.toolNames()).toContain("notebooks-create");
    h.sandbox.setScopes(KEY, ["notebook:read"]);
    const refused = await h.call("notebooks-create", { title: "x" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("lacks the 'notebook:write' scope");
    await expect.poll(() => h?.notifications).toContain("notifications/tools/list_changed");
    expect(await h.toolNames()).toEqual(READ_NOTEBOOKS);
    // Now refused locally: nothing more is sent.
    h.mark();
    await h.call("notebooks-create", { title: "x" });
    expect(h.upstream()).toHaveLength(0);
  });

  it("a revoked key: every call says the key was rejected and how to make a new one", async () => {
    h = await startHarness({ key: { value: KEY, scopes: ["*"] } });
    h.sandbox.removeKey(KEY);
    const first = await h.call("notebooks-list", {});
    expect(first.isError).toBe(true);
    expect(textOf(first)).toMatch(/rejected the personal API key.*Create a new personal API key/);
    expect(await h.toolNames()).toEqual(ALL);
    const second = await h.call("notebooks-retrieve", { short_id: "abcd1234" });
    expect(textOf(second)).toMatch(/rejected the personal API key/);
    for (const text of [textOf(first), textOf(second)]) expect(text).not.toContain(KEY);
  });
});

describe("introspection unavailable", () => {
  it("a key PostHog rejects at start: lists every tool and explains each call", async () => {
    h = await startHarness({ key: { value: KEY, scopes: ["*"] } });
    // A second server started with a key the sandbox never knew.
    const other = await startHarness({
      upstream: h.sandbox,
      key: { value: "phx_unknown00000000000000000000000000000000000000" },
    });
    try {
      expect(await other.toolNames()).toEqual(ALL);
      const result = await other.call("notebooks-list", {});
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/rejected the personal API key/);
    } finally {
      await other.close();
    }
  });
});
