/**
 * A new user's first session, as the "done" describes it: the sandbox entry of mcp.json,
 * started by a real MCP client over stdio, taken through a notebook's whole life.
 */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { assertBuilt, BIN, childEnv, ROOT } from "../helpers/binary.js";
import { fencedDocument } from "../helpers/results.js";

interface ServerEntry {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

let client: Client;

beforeAll(async () => {
  assertBuilt();
  const config = JSON.parse(readFileSync(join(ROOT, "mcp.json"), "utf8")) as {
    mcpServers: Record<string, ServerEntry>;
  };
  const entry = Object.values(config.mcpServers).find((server) => server.args?.includes("--sandbox"));
  if (!entry) throw new Error("mcp.json has no --sandbox entry");
  // mcp.json starts the command `npm install -g .` installs, which is this build's bin (the package
  // test starts it through a real global install); here the build itself stands in for it.
  expect(entry.command).toBe("posthog-notebooks-mcp");
  client = new Client({ name: "journey", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, ...(entry.args ?? [])],
      env: childEnv(entry.env),
      cwd: tmpdir(),
      stderr: "ignore",
    }),
  );
});
afterAll(async () => {
  await client?.close();
});

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}
const text = (result: CallToolResult) => (result.content[0]?.type === "text" ? result.content[0].text : "");
const data = <T>(result: CallToolResult) => {
  expect(result.isError, text(result)).toBeFalsy();
  return result.structuredContent as T;
};

it("create → list → retrieve → update → conflict → destroy → deleted → restore", async () => {
  const created = data<{ short_id: string; version: number }>(
    await call("notebooks-create", { markdown: "# Onboarding funnel\n\nStep 2 loses 40% of users." }),
  );
  expect(created.version).toBe(0);
  const id = created.short_id;

  const listed = data<{ results: { short_id: string }[] }>(
    await call("notebooks-list", { search: "onboarding" }),
  );
  expect(listed.results.map((r) => r.short_id)).toContain(id);

  const retrieved = await call("notebooks-retrieve", { short_id: id });
  const read = { ...data<{ version: number }>(retrieved), markdown: fencedDocument(text(retrieved)) ?? "" };
  expect(read.markdown).toBe("# Onboarding funnel\n\nStep 2 loses 40% of users.");

  const updated = data<{ version: number }>(
    await call("notebooks-partial-update", {
      short_id: id,
      version: read.version,
      markdown: `${read.markdown} Fixed in 1.4.`,
    }),
  );
  expect(updated.version).toBe(read.version + 1);

  const stale = await call("notebooks-partial-update", {
    short_id: id,
    version: read.version,
    markdown: "# An older edit",
  });
  expect(stale.isError).toBe(true);
  expect(text(stale)).toMatch(/changed by someone else.*notebooks-retrieve.*new version/);

  expect(data<{ deleted: boolean }>(await call("notebooks-destroy", { short_id: id })).deleted).toBe(true);

  const gone = await call("notebooks-retrieve", { short_id: id });
  expect(gone.isError).toBe(true);
  expect(text(gone)).toMatch(
    /is deleted.*Restore it with notebooks-partial-update \{"short_id": "\w+", "deleted": false\}/,
  );

  data(await call("notebooks-partial-update", { short_id: id, deleted: false }));
  const restored = await call("notebooks-retrieve", { short_id: id });
  expect(data(restored)).toMatchObject({ deleted: false, version: updated.version });
  expect(fencedDocument(text(restored))).toContain("Fixed in 1.4.");
});
