/**
 * The MCP Registry entry: `server.json` is valid against the registry's published JSON Schema
 * (vendored in test/fixtures/mcp-registry, see its README), and agrees with package.json
 * (`mcpName`, which the registry checks on npm to prove ownership, the version, the package) and
 * with the environment variables the server reads.
 */
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { ENVIRONMENT } from "../../src/config.js";

const read = (path: string) => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), "utf8"));
const schema = read("test/fixtures/mcp-registry/server.schema.json");
const server = read("server.json");
const pkg = read("package.json");

// ajv-formats is CommonJS: its function is the default export, or that export's `default`.
const formats = addFormatsModule as unknown as { default?: unknown };
const addFormats = (formats.default ?? formats) as (ajv: Ajv) => Ajv;

function validator() {
  // Not strict: the registry's schema annotates with `example` (not a JSON Schema keyword) and
  // requires properties declared in a sibling subschema, as its own validator allows.
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe("server.json (MCP Registry)", () => {
  it("is valid against the registry's schema, which it names", () => {
    const validate = validator();
    const valid = validate(server);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(server.$schema).toBe(schema.$id);
    expect(server.$schema).toBe(
      "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    );
  });

  it("is checked by a live validator (a broken copy fails)", () => {
    const validate = validator();
    expect(validate({ ...server, name: "no-namespace" })).toBe(false);
    expect(validate({ ...server, description: "x".repeat(101) })).toBe(false);
    const [npm] = server.packages;
    expect(validate({ ...server, packages: [{ ...npm, version: "latest" }] })).toBe(false);
  });

  it("carries the name package.json declares as mcpName, in the io.github namespace", () => {
    expect(pkg.mcpName).toBe(server.name);
    expect(server.name).toMatch(/^io\.github\.[a-zA-Z0-9-]+\/posthog-notebooks-mcp$/);
  });

  it("describes the npm package at this version, run with npx over stdio", () => {
    expect(server.version).toBe(pkg.version);
    expect(server.packages).toHaveLength(1);
    expect(server.packages[0]).toMatchObject({
      registryType: "npm",
      registryBaseUrl: "https://registry.npmjs.org",
      identifier: pkg.name,
      version: pkg.version,
      runtimeHint: "npx",
      transport: { type: "stdio" },
    });
  });

  it("lists every environment variable the server reads, and only the key and the state secret as secret", () => {
    const variables: { name: string; isSecret?: boolean; isRequired?: boolean }[] =
      server.packages[0].environmentVariables;
    expect(variables.map((v) => v.name)).toEqual(Object.keys(ENVIRONMENT));
    for (const v of variables) {
      expect(v.isSecret ?? false).toBe(
        v.name === "POSTHOG_PERSONAL_API_KEY" || v.name === "POSTHOG_MCP_STATE_SECRET",
      );
      expect(v.isRequired ?? false).toBe(v.name === "POSTHOG_PERSONAL_API_KEY");
    }
  });
});
