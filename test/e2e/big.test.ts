/**
 * A very long notebook, through the built binary: its conversion runs in a worker thread, so a
 * call made meanwhile is answered while it converts, not after; and it reads whole.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { documentFromMarkdown } from "../../src/content/index.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { assertBuilt, BIN, childEnv, ROOT } from "../helpers/binary.js";
import { fencedDocument } from "../helpers/results.js";

const KEY = "phx_e2eBigKey0000000000000000000000000000000000";
let sandbox: Sandbox;
let client: Client;
let shortId: string;
let markdown: string;
let stderr = "";

beforeAll(async () => {
  assertBuilt();
  sandbox = await startSandbox({ keys: [{ value: KEY, scopes: ["*"] }], rateLimit: false });
  const section = (i: number) =>
    `## Section ${i}\n\nConversion **dropped** after release ${i}; see [the chart](https://example.com/${i}).\n\n- step one of ${i}\n- step two of ${i}\n\n| step | users |\n| --- | --- |\n| cart | ${i} |`;
  markdown = Array.from({ length: 16_000 }, (_, i) => section(i)).join("\n\n");
  const nb = sandbox.insertNotebook({ title: "Big", content: documentFromMarkdown(markdown).content });
  shortId = nb.short_id as string;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    env: childEnv({
      POSTHOG_PERSONAL_API_KEY: KEY,
      POSTHOG_HOST: sandbox.url,
      POSTHOG_MCP_LOG_LEVEL: "debug",
      POSTHOG_MCP_MAX_RESULT_CHARS: "10000000",
    }),
    cwd: ROOT,
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  client = new Client({ name: "e2e-big", version: "1.0.0" });
  await client.connect(transport);
});
afterAll(async () => {
  await client.close();
  await sandbox.close();
});

it("answers a call made while a long notebook converts before that notebook, and reads it whole", async () => {
  expect(markdown.length).toBeGreaterThan(2_000_000);
  const order: string[] = [];
  const reading = client
    .callTool({ name: "notebooks-retrieve", arguments: { short_id: shortId } })
    .then((r) => {
      order.push("retrieve");
      return r as CallToolResult;
    });
  // The conversion has started, in a worker thread.
  const deadline = Date.now() + 20_000;
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (stderr.includes("converting in a worker thread")) resolve();
      else if (Date.now() > deadline) reject(new Error("the conversion never went to a worker thread"));
      else setTimeout(check, 2);
    };
    check();
  });
  const listed = await client.callTool({ name: "notebooks-list", arguments: {} });
  order.push("list");
  expect(listed.isError).toBeFalsy();
  const read = await reading;
  expect(order).toEqual(["list", "retrieve"]);
  const text = read.content[0]?.type === "text" ? read.content[0].text : "";
  expect(fencedDocument(text)).toBe(markdown);
}, 300_000);
