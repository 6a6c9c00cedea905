/**
 * The tool catalogue as agents see it: a snapshot of every tool's schema and annotations, the
 * README's generated table, and the invariants every tool must keep.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { toolTable } from "../../src/docs.js";
import { OPERATIONS } from "../../src/operations/index.js";
import { allTools } from "../../src/server/tools.js";

describe("the tool catalogue", () => {
  it("matches the reviewed snapshot (tool schemas are an API: change them on purpose)", async () => {
    await expect(`${JSON.stringify(allTools(), null, 2)}\n`).toMatchFileSnapshot("__snapshots__/tools.json");
  });

  it("sets every annotation explicitly and truthfully", () => {
    for (const tool of allTools()) {
      const op = OPERATIONS.find((o) => o.name === tool.name);
      const a = tool.annotations ?? {};
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        expect(typeof a[hint], `${tool.name}.${hint}`).toBe("boolean");
      }
      expect(a.readOnlyHint).toBe(!op?.writes);
      if (a.readOnlyHint) expect(a.destructiveHint).toBe(false);
    }
    const destroy = allTools().find((t) => t.name === "notebooks-destroy");
    expect(destroy?.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
  });

  it("rejects unknown arguments and takes project_id everywhere", () => {
    for (const tool of allTools()) {
      expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
      expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).toContain("project_id");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
    }
  });

  it("fits in an agent's context: all ten tools in at most 8 KB of tools/list", () => {
    expect(JSON.stringify({ tools: allTools() }).length).toBeLessThanOrEqual(8 * 1024);
  });

  it("has ten tools with PostHog's names", () => {
    expect(OPERATIONS.map((o) => o.name)).toEqual([
      "notebooks-list",
      "notebooks-create",
      "notebooks-retrieve",
      "notebooks-partial-update",
      "notebooks-destroy",
      "notebooks-activity-retrieve",
      "notebooks-all-activity-retrieve",
      "notebooks-recording-comments-retrieve",
      "notebooks-access-controls-retrieve",
      "notebooks-global-access-controls-retrieve",
    ]);
  });

  it("is documented in the README by the generated table (npm run docs)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme).toContain(toolTable());
  });
});
