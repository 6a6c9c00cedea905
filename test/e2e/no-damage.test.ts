/**
 * The two reproductions of "an edit damages a notebook", through the built binary over stdio as
 * clients start it, asserting on what the sandbox stored (the upstream) as well as on what the
 * agent was told:
 * 1. a word changed on the line of the sample notebook's replay timestamp keeps the timestamp a
 *    node (and the recording's comment count), and a notebook created from that line has it too;
 * 2. two word edits in a notebook with a bold-italic run and a table without a header row change
 *    those words and nothing else.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, SEED_RECORDING_ID, startSandbox } from "../../src/sandbox/index.js";
import { assertBuilt, BIN, childEnv, ROOT } from "../helpers/binary.js";
import { HEADERLESS_REPORT } from "../helpers/damage-fixtures.js";
import { fencedDocument } from "../helpers/results.js";

const KEY = "phx_e2eNoDamageKey0000000000000000000000000000";
let sandbox: Sandbox;
let client: Client;

beforeAll(async () => {
  assertBuilt();
  sandbox = await startSandbox({ keys: [{ value: KEY, scopes: ["*"] }], rateLimit: false, seed: true });
  client = new Client({ name: "e2e-no-damage", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      env: childEnv({
        POSTHOG_PERSONAL_API_KEY: KEY,
        POSTHOG_HOST: sandbox.url,
        POSTHOG_MCP_LOG_LEVEL: "silent",
      }),
      cwd: ROOT,
      stderr: "ignore",
    }),
  );
});
afterAll(async () => {
  await client.close();
  await sandbox.close();
});

const call = async (name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;
const text = (result: CallToolResult) => (result.content[0]?.type === "text" ? result.content[0].text : "");
type Node = {
  type: string;
  attrs?: Record<string, unknown>;
  content?: Node[];
  text?: string;
  marks?: unknown[];
};
const content = (id: string) => (sandbox.getNotebook(id)?.content as { content: Node[] }).content;

describe("no edit damages a notebook (over stdio)", () => {
  it("keeps a replay timestamp a node when a word on its line changes", async () => {
    const before = content("chk9Drop");
    const line = before.findIndex((node) => node.content?.[0]?.type === "ph-replay-timestamp");
    expect(line).toBeGreaterThan(-1);
    const comments = await call("notebooks-recording-comments-retrieve", { recording_id: SEED_RECORDING_ID });
    expect(comments.isError).toBeFalsy();
    const count = (comments.structuredContent as { results: unknown[] }).results.length;
    expect(count).toBeGreaterThan(0);

    const edited = await call("notebooks-edit", {
      short_id: "chk9Drop",
      old_markdown: "the second tap is swallowed.",
      new_markdown: "the second tap is ignored.",
    });
    expect(edited.isError).toBeFalsy();
    expect(text(edited)).not.toMatch(/not read as a component|stored as text/);

    const after = content("chk9Drop");
    // The timestamp is still a node, with its attributes; only the word changed.
    expect(after[line]?.content?.[0]).toStrictEqual(before[line]?.content?.[0]);
    expect(after[line]?.content?.[1]?.text).toBe(
      before[line]?.content?.[1]?.text?.replace("swallowed", "ignored"),
    );
    expect(after.filter((_, i) => i !== line)).toStrictEqual(before.filter((_, i) => i !== line));
    const again = await call("notebooks-recording-comments-retrieve", { recording_id: SEED_RECORDING_ID });
    expect((again.structuredContent as { results: unknown[] }).results).toHaveLength(count);

    // The line as the agent reads it creates the same node in a new notebook.
    const read = await call("notebooks-retrieve", { short_id: "chk9Drop" });
    const markdown =
      fencedDocument(read.content.map((part) => (part.type === "text" ? part.text : "")).join("\n")) ?? "";
    const timestampLine = markdown.split("\n").find((l) => l.includes("ReplayTimestamp")) as string;
    expect(timestampLine.startsWith("<ReplayTimestamp")).toBe(true);
    const created = await call("notebooks-create", { title: "Copied line", markdown: timestampLine });
    expect(created.isError).toBeFalsy();
    const id = (created.structuredContent as { short_id: string }).short_id;
    const copied = content(id).find((node) => node.content?.[0]?.type === "ph-replay-timestamp");
    expect(copied?.content?.[0]?.attrs).toMatchObject({
      sessionRecordingId: SEED_RECORDING_ID,
      playbackTime: 83000,
    });
  });

  it("changes two words and nothing else in a notebook with bold italic text and a headerless table", async () => {
    const doc = HEADERLESS_REPORT;
    const made = await call("notebooks-create", { title: "Report", content: doc });
    expect(made.isError).toBeFalsy();
    const id = (made.structuredContent as { short_id: string }).short_id;
    const start = sandbox.requests.length;
    for (const [from, to] of [
      ["alpha1", "ALPHA1"],
      ["delta4", "DELTA4"],
    ]) {
      const edited = await call("notebooks-edit", { short_id: id, old_markdown: from, new_markdown: to });
      expect(edited.isError, text(edited)).toBeFalsy();
    }
    const expected = JSON.parse(JSON.stringify(doc).replace("alpha1", "ALPHA1").replace("delta4", "DELTA4"));
    expect(content(id)).toStrictEqual(expected.content);
    // What PostHog received: two PATCHes, each with the whole document as it should be.
    const patches = sandbox.requests.slice(start).filter((r) => r.method === "PATCH");
    expect(patches).toHaveLength(2);
    expect(JSON.stringify(patches[1]?.body)).not.toMatch(/tableHeader|\*funnel|\* and/);
  });
});
