/**
 * The JSON Schemas agents see in tools/list, generated from the operations' zod schemas and then
 * made compact: every tool's schema is sent into the agent's context on every conversation, so
 * what carries no information for the agent is left out (JSON Schema's defaults, safe-integer
 * bounds, patterns the descriptions put in words, unions spelled out branch by branch), and output
 * schemas name the fields results have. Every property has one `type`, never a list (several
 * clients' function-calling formats reject lists): a value the server also takes in another form
 * (`null`, a number as a string, JSON as a string) is described, and still accepted.
 */
import type { StandardSchemaWithJSON, Tool } from "@modelcontextprotocol/server";
import { z } from "zod";

type Json = Record<string, unknown>;

const SAFE = Number.MAX_SAFE_INTEGER;

/** The one type a property is declared with, of those it accepts: the most specific. */
function preferredType(types: string[]): string | undefined {
  for (const type of ["object", "array", "integer", "number", "boolean", "string"]) {
    if (types.includes(type)) return type;
  }
  return types[0];
}

/** Merges `anyOf` branches into one schema with a list of types, when their keywords do not overlap. */
function mergeBranches(branches: Json[]): Json | undefined {
  const types: string[] = [];
  const merged: Json = {};
  for (const branch of branches) {
    const { type, ...rest } = branch;
    if (typeof type === "string") types.push(type);
    else if (Array.isArray(type)) types.push(...(type as string[]));
    else return undefined;
    for (const [key, value] of Object.entries(rest)) {
      if (key in merged) return undefined;
      merged[key] = value;
    }
  }
  return { type: [...new Set(types)], ...merged };
}

function compact(node: unknown, oneType = true): unknown {
  if (Array.isArray(node)) return node.map((item) => compact(item, oneType));
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === "$schema" || key === "propertyNames") continue;
    if (
      key === "additionalProperties" &&
      value &&
      typeof value === "object" &&
      Object.keys(value).length === 0
    )
      continue;
    if ((key === "minimum" && value === -SAFE) || (key === "maximum" && value === SAFE)) continue;
    // Patterns (and the formats that spell them out) are in the descriptions, in words.
    if (key === "pattern") continue;
    if (key === "maxLength" && typeof value === "number" && value >= 500) continue;
    if (key === "properties" && value && typeof value === "object") {
      out.properties = Object.fromEntries(
        Object.entries(value as Json).map(([name, child]) => [name, compact(child, oneType)]),
      );
      continue;
    }
    out[key] = compact(value, oneType);
  }
  if (Array.isArray(out.anyOf)) {
    const merged = mergeBranches(out.anyOf as Json[]);
    if (merged) {
      delete out.anyOf;
      Object.assign(out, merged);
    }
  }
  if (oneType && Array.isArray(out.type)) out.type = preferredType(out.type as string[]);
  return out;
}

/** A tool's input schema: strict (unknown arguments are refused), arguments described where their name is not enough. */
export function inputJsonSchema(schema: z.ZodObject, projectId: Json): Tool["inputSchema"] {
  const json = compact(z.toJSONSchema(schema, { io: "input", target: "draft-7" })) as Json;
  const properties = json.properties as Json;
  properties.project_id = projectId;
  return json as Tool["inputSchema"];
}

/**
 * A tool's output schema, from the operation's zod schema: clients learn what a result holds
 * (`version`, `range.next_offset`, `next`…), and code-writing agents can type it. Compacted as
 * input schemas are, but a field that may be null says so with a type list (clients validate
 * results with these; no model's function-calling format reads them). Descriptions are left to the
 * fields' names: what a model reads of tools/list is the names, descriptions, input schemas and hints.
 */
export function outputJsonSchema(schema: z.ZodType): NonNullable<Tool["outputSchema"]> {
  const json = compact(
    z.toJSONSchema(schema, { io: "output", target: "draft-7", unrepresentable: "any" }),
    false,
  ) as Json;
  if (json.type !== "object") return { type: "object" };
  return json as NonNullable<Tool["outputSchema"]>;
}

/**
 * A tool's schemas as the SDK's `registerTool` takes them (a Standard Schema with its JSON Schema):
 * the compact JSON Schema above is what clients see, and `check` is what the SDK runs. Arguments
 * pass through unchecked (the tool guard checks them after mode, key and scope, in its own words);
 * results are checked against the operation's output schema.
 */
export function standardSchema(
  json: Record<string, unknown>,
  check: (value: unknown) => { ok: true } | { ok: false; message: string } = () => ({ ok: true }),
): StandardSchemaWithJSON<Record<string, unknown>> {
  return {
    "~standard": {
      version: 1,
      vendor: "posthog-notebooks-mcp",
      validate(value: unknown) {
        const checked = check(value);
        return checked.ok
          ? { value: value as Record<string, unknown> }
          : { issues: [{ message: checked.message }] };
      },
      jsonSchema: { input: () => json, output: () => json },
    },
  };
}
