/**
 * The tool schemas as a client receives them (tools/list through the SDK Client) pass strict
 * validators (the MCP Inspector's --strict mode, several clients' function-calling formats): no
 * JSON Schema `type` lists anywhere, every property described, every array with its items, and
 * the whole listing within its size budget.
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean", "null"]);

/** Every problem a strict validator would report in `schema`, each as `path: what`. */
function strictProblems(schema: unknown, path: string): string[] {
  if (Array.isArray(schema)) return schema.flatMap((item, i) => strictProblems(item, `${path}[${i}]`));
  if (schema === null || typeof schema !== "object") return [];
  const node = schema as Record<string, unknown>;
  const problems: string[] = [];
  if ("type" in node) {
    if (Array.isArray(node.type)) problems.push(`${path}: type is a list ${JSON.stringify(node.type)}`);
    else if (typeof node.type !== "string" || !TYPES.has(node.type))
      problems.push(`${path}: type ${JSON.stringify(node.type)} is not a JSON Schema type`);
  }
  if (node.type === "array" && !("items" in node)) problems.push(`${path}: array without items`);
  if ("properties" in node) {
    const properties = node.properties as Record<string, unknown>;
    for (const [name, property] of Object.entries(properties)) {
      const where = `${path}.properties.${name}`;
      if (!property || typeof property !== "object") {
        problems.push(`${where}: not a schema object (${JSON.stringify(property)})`);
        continue;
      }
      const p = property as Record<string, unknown>;
      if (typeof p.description !== "string" || p.description.trim() === "")
        problems.push(`${where}: no description`);
      if (!("type" in p) && !("anyOf" in p) && !("oneOf" in p) && !("enum" in p) && !("const" in p))
        problems.push(`${where}: no type`);
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === "properties") {
      for (const [name, child] of Object.entries(value as Record<string, unknown>))
        problems.push(...strictProblems(child, `${path}.properties.${name}`));
    } else if (key !== "description" && key !== "enum" && key !== "const" && key !== "default") {
      problems.push(...strictProblems(value, `${path}.${key}`));
    }
  }
  return problems;
}

let h: Harness;
let tools: Tool[];

beforeAll(async () => {
  h = await startHarness();
  tools = (await h.client.listTools()).tools;
});
afterAll(async () => {
  await h.close();
});

describe("tool schemas as clients receive them", () => {
  it("lists all eleven tools to a full-scope key", () => {
    expect(tools).toHaveLength(11);
  });

  it("have no type lists, and a description for every property, in every input schema", () => {
    const problems = tools.flatMap((tool) => strictProblems(tool.inputSchema, `${tool.name}.inputSchema`));
    expect(problems).toEqual([]);
  });

  it("declare each tool's real output schema: an object naming the fields results have", () => {
    for (const tool of tools) {
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      expect(Object.keys(tool.outputSchema?.properties ?? {}).length, tool.name).toBeGreaterThan(0);
    }
    const fields = (name: string) =>
      Object.keys(tools.find((t) => t.name === name)?.outputSchema?.properties ?? {});
    expect(fields("notebooks-list")).toEqual(expect.arrayContaining(["count", "next", "results"]));
    expect(fields("notebooks-retrieve")).toEqual(expect.arrayContaining(["version", "range"]));
    expect(fields("notebooks-partial-update")).toContain("version");
  });

  it("describe the arguments a review found undescribed (project_id, title, offset, max_length)", () => {
    const described = (tool: string, name: string) => {
      const schema = tools.find((t) => t.name === tool)?.inputSchema.properties?.[name] as
        | { description?: string; type?: unknown }
        | undefined;
      expect(schema?.description, `${tool}.${name}`).toMatch(/\w/);
      expect(typeof schema?.type, `${tool}.${name}`).toBe("string");
    };
    for (const tool of tools) described(tool.name, "project_id");
    described("notebooks-create", "title");
    described("notebooks-partial-update", "title");
    described("notebooks-list", "offset");
    described("notebooks-retrieve", "offset");
    described("notebooks-retrieve", "max_length");
  });

  it("the checker finds what strict clients reject", () => {
    expect(
      strictProblems(
        {
          type: "object",
          properties: {
            title: { type: ["string", "null"] },
            project_id: { anyOf: [{ type: ["integer", "string"] }], description: "Project." },
            tags: { type: "array", description: "Tags." },
          },
        },
        "t",
      ),
    ).toEqual([
      "t.properties.title: no description",
      't.properties.title: type is a list ["string","null"]',
      't.properties.project_id.anyOf[0]: type is a list ["integer","string"]',
      "t.properties.tags: array without items",
    ]);
  });

  it("fit in 9 KB of what a model reads of tools/list (all but the output schemas)", () => {
    const size = JSON.stringify({ tools: tools.map(({ outputSchema: _, ...read }) => read) }).length;
    expect(size).toBeLessThanOrEqual(9 * 1024);
  });
});
