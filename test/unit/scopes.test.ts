import { describe, expect, it } from "vitest";
import { grantsAllow, grantsFromPayload, projectAllowed, scopeAllowed } from "../../src/posthog/scopes.js";

describe("scopeAllowed", () => {
  const cases: [string[], `${string}:${"read" | "write"}`, boolean][] = [
    [["*"], "notebook:write", true],
    [["notebook:read"], "notebook:read", true],
    [["notebook:read"], "notebook:write", false],
    [["notebook:write"], "notebook:read", true],
    [["notebook:write"], "activity_log:read", false],
    [["activity_log:read"], "activity_log:read", true],
    [["access_control:write"], "access_control:read", true],
    [[], "notebook:read", false],
    [["notebooks:read"], "notebook:read", false],
  ];
  for (const [scopes, required, allowed] of cases) {
    it(`${JSON.stringify(scopes)} ${allowed ? "allows" : "refuses"} ${required}`, () => {
      expect(scopeAllowed(scopes, required)).toBe(allowed);
    });
  }
});

describe("grants", () => {
  it("reads PostHog's introspection payload; no scopes recorded means all", () => {
    const grants = grantsFromPayload({
      id: "k",
      scopes: [],
      scoped_teams: [],
      scoped_organizations: null,
      value: null,
    });
    expect(grants).toMatchObject({ status: "known", scopes: ["*"], scopedTeams: null });
  });
  it("limits projects by scoped_teams; @current is left to PostHog", () => {
    const grants = grantsFromPayload({ scopes: ["notebook:read"], scoped_teams: [7] });
    expect(projectAllowed(grants, 7)).toBe(true);
    expect(projectAllowed(grants, 8)).toBe(false);
    expect(projectAllowed(grants, "@current")).toBe(true);
  });
  it("offers everything while grants are unknown or the key is rejected", () => {
    expect(grantsAllow({ status: "unknown", reason: "404" }, "notebook:write")).toBe(true);
    expect(grantsAllow({ status: "rejected", reason: "401" }, "notebook:write")).toBe(true);
  });
});
