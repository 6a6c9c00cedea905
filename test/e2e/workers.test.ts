/**
 * The conversion workers, through the built binary: the review's two requests (a notebook of
 * 1,000 nested blockquotes and 200 KB of text, created twice) fail alone, if at all, and every
 * conversion after them still runs in a worker and answers.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { assertBuilt, BIN, childEnv, ROOT } from "../helpers/binary.js";

const KEY = "phx_e2eWorkersKey00000000000000000000000000000000";
let sandbox: Sandbox;
let client: Client;
let stderr = "";

beforeAll(async () => {
  assertBuilt();
  sandbox = await startSandbox({ keys: [{ value: KEY, scopes: ["*"] }], rateLimit: false });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    env: childEnv({
      POSTHOG_PERSONAL_API_KEY: KEY,
      POSTHOG_HOST: sandbox.url,
      POSTHOG_MCP_LOG_LEVEL: "debug",
    }),
    cwd: ROOT,
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  client = new Client({ name: "e2e-workers", version: "1.0.0" });
  await client.connect(transport);
});
afterAll(async () => {
  await client.close();
  await sandbox.close();
});

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

it("survives two hostile conversions: later big conversions still run and answer", async () => {
  const words = "plain words in a long paragraph. ".repeat(6_200);
  let nested: unknown = { type: "paragraph", content: [{ type: "text", text: words }] };
  for (let i = 0; i < 1_000; i++) nested = { type: "blockquote", content: [nested] };
  const hostile = [
    { content: { type: "doc", content: [nested] } },
    { markdown: `${"> ".repeat(1_000)}deep\n\n${words}` },
  ];
  for (const args of [...hostile, ...hostile]) {
    const result = (await client.callTool({
      name: "notebooks-create",
      arguments: { title: "Hostile", ...args },
    })) as CallToolResult;
    // Either it is created, or it fails alone with a sentence saying why.
    if (result.isError) expect(text(result)).toMatch(/\w+ \w+ \w+/);
  }
  const big = Array.from({ length: 4_000 }, (_, i) => `## Part ${i}\n\nSome **text** for part ${i}.`).join(
    "\n\n",
  );
  expect(big.length).toBeGreaterThan(128 * 1024);
  const after = (await client.callTool({
    name: "notebooks-create",
    arguments: { title: "After", markdown: big },
  })) as CallToolResult;
  expect(after.isError, text(after)).toBeFalsy();
  expect(stderr).toMatch(/converting in a worker thread/);
}, 120_000);
