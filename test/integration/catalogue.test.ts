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

  it("sets every annotation truthfully, saying readOnlyHint always and leaving MCP's defaults out", () => {
    // MCP's defaults: not read-only, destructive, not idempotent, open world.
    const resolved = (a: Record<string, unknown> = {}) => ({
      readOnlyHint: a.readOnlyHint ?? false,
      destructiveHint: a.readOnlyHint === true ? false : (a.destructiveHint ?? true),
      idempotentHint: a.readOnlyHint === true ? true : (a.idempotentHint ?? false),
      openWorldHint: a.openWorldHint ?? true,
    });
    for (const tool of allTools()) {
      const op = OPERATIONS.find((o) => o.name === tool.name);
      expect(typeof tool.annotations?.readOnlyHint, tool.name).toBe("boolean");
      expect(resolved(tool.annotations), tool.name).toEqual(op?.annotations);
      expect(tool.annotations?.readOnlyHint).toBe(!op?.writes);
    }
    const destroy = allTools().find((t) => t.name === "notebooks-destroy");
    expect(resolved(destroy?.annotations)).toMatchObject({ destructiveHint: true, readOnlyHint: false });
  });

  it("describes every property, with one type each (no type lists, which some clients reject)", () => {
    for (const tool of allTools()) {
      for (const [name, property] of Object.entries(tool.inputSchema.properties ?? {})) {
        const p = property as { type?: unknown; description?: unknown };
        expect(typeof p.description, `${tool.name}.${name}`).toBe("string");
        expect(typeof p.type, `${tool.name}.${name}`).toBe("string");
      }
    }
  });

  it("rejects unknown arguments and takes project_id everywhere", () => {
    for (const tool of allTools()) {
      expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
      expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).toContain("project_id");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
    }
  });

  it("fits in an agent's context: what a model reads of all eleven tools in at most 9 KB of tools/list", () => {
    const read = allTools().map(({ outputSchema: _, ...rest }) => rest);
    expect(JSON.stringify({ tools: read }).length).toBeLessThanOrEqual(9 * 1024);
  });

  it("has eleven tools with PostHog's names", () => {
    expect(OPERATIONS.map((o) => o.name)).toEqual([
      "notebooks-list",
      "notebooks-create",
      "notebooks-retrieve",
      "notebooks-partial-update",
      "notebooks-edit",
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
