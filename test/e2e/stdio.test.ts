/**
 * The built binary, spawned over stdio as an MCP client would: stdout carries only JSON-RPC, logs
 * go to stderr, the key appears nowhere, bad configuration exits 2, and closing stdin exits 0.
 */
import { spawn } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/operations/index.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { allTools } from "../../src/server/tools.js";
import { assertBuilt, BIN, childEnv, collect, type Exit, ROOT, run } from "../helpers/binary.js";

const KEY = "phx_e2eSecretKey0000000000000000000000000000000";
let sandbox: Sandbox;

beforeAll(async () => {
  assertBuilt();
  sandbox = await startSandbox({ keys: [{ value: KEY, scopes: ["*"] }], rateLimit: false });
});
afterAll(async () => {
  await sandbox.close();
});

const env = () =>
  childEnv({ POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: sandbox.url, POSTHOG_MCP_LOG_LEVEL: "debug" });

describe("the built binary over stdio", () => {
  it("serves every tool to a real client, logs on stderr, and never shows the key", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      env: env(),
      cwd: ROOT,
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const client = new Client({ name: "e2e", version: "1.0.0" });
    await client.connect(transport);
    expect(client.getServerVersion()).toMatchObject({ name: "posthog-notebooks-mcp" });
    expect(client.getInstructions()).toMatch(/version/);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(OPERATIONS.map((o) => o.name).sort());
    // The schemas the build fixed in are the ones the sources generate.
    expect(tools).toEqual(allTools());

    const created = await client.callTool({ name: "notebooks-create", arguments: { title: "Over stdio" } });
    expect(created.isError).toBeFalsy();
    const missing = await client.callTool({
      name: "notebooks-retrieve",
      arguments: { short_id: "missing0" },
    });
    expect(missing.isError).toBe(true);
    await client.close();

    expect(stderr).toMatch(/"msg":"serving MCP over stdio"/);
    expect(stderr).not.toContain(KEY);
    expect(JSON.stringify([created, missing])).not.toContain(KEY);
    const seen = sandbox.requests.filter((r) =>
      r.headers["user-agent"]?.startsWith("posthog-notebooks-mcp/"),
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
  });

  it("writes nothing but JSON-RPC on stdout, and exits 0 when stdin closes", async () => {
    const lines = [
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "raw", version: "1" },
        },
      },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "notebooks-list", arguments: {} } },
    ];
    const child = spawn(process.execPath, [BIN], { env: env(), cwd: ROOT });
    const exit = new Promise<Exit>((resolve, reject) => collect(child, resolve, reject));
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      // Close stdin once every request has been answered.
      if (stdout.includes('"id":3')) child.stdin.end();
    });
    child.stdin.write(`${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    const result = await exit;
    expect(result.code).toBe(0);
    const out = result.stdout.split("\n").filter((l) => l.length > 0);
    expect(out.length).toBe(3);
    for (const line of out) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
    expect(result.stderr).toMatch(/stdin closed/);
  });

  it("answers --version and --help on stdout, without a key", async () => {
    const version = await run(["--version"], childEnv());
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await run(["--help"], childEnv());
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("POSTHOG_PERSONAL_API_KEY");
  });

  it.each([
    ["no key", [], {}, /POSTHOG_PERSONAL_API_KEY is not set/],
    ["a malformed host", [], { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: "not a url" }, /POSTHOG_HOST/],
    [
      "a bad project id",
      [],
      { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_PROJECT_ID: "prod" },
      /POSTHOG_PROJECT_ID/,
    ],
  ])("exits 2 with one line on stderr for %s", async (_name, args, extra, message) => {
    const result = await run(args, childEnv(extra));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain(KEY);
  });
});
