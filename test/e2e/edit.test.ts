/**
 * notebooks-edit and concurrent writers, through the built binary over stdio as clients start it:
 * every path of an edit (one passage, not found, several matches, replace_all, a version someone
 * else moved on from, a passage gone since, read-only), and sixteen parallel appends from two
 * server processes while a person edits over HTTP: all land, nothing of anyone's is lost.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentToMarkdown } from "../../src/content/index.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { assertBuilt, BIN, childEnv, ROOT } from "../helpers/binary.js";
import { fencedDocument } from "../helpers/results.js";
import { callSandbox } from "../helpers/sandbox-http.js";

const KEY = "phx_e2eEditKey000000000000000000000000000000000";
let sandbox: Sandbox;
const clients: Client[] = [];

beforeAll(async () => {
  assertBuilt();
  sandbox = await startSandbox({ keys: [{ value: KEY, scopes: ["*"] }], rateLimit: false });
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await sandbox.close();
});

async function connect(...args: string[]): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...args],
    env: childEnv({
      POSTHOG_PERSONAL_API_KEY: KEY,
      POSTHOG_HOST: sandbox.url,
      POSTHOG_MCP_LOG_LEVEL: "silent",
    }),
    cwd: ROOT,
    stderr: "ignore",
  });
  const client = new Client({ name: "e2e-edit", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;
const text = (result: CallToolResult) => (result.content[0]?.type === "text" ? result.content[0].text : "");
const data = <T>(result: CallToolResult): T => {
  if (result.isError) throw new Error(text(result));
  return result.structuredContent as T;
};
const stored = (id: string) => documentToMarkdown(sandbox.getNotebook(id)?.content);

const BODY =
  "# Retention\n\nWeekly retention is 41 percent.\n\n- cohort A\n- cohort B\n\nThe cohort B number is low.";

describe("notebooks-edit over stdio", () => {
  let client: Client;
  beforeAll(async () => {
    client = await connect();
  });

  async function notebook(): Promise<{ short_id: string; version: number }> {
    return data(await call(client, "notebooks-create", { markdown: BODY }));
  }

  it("replaces one passage, keeps the rest as stored, and needs no read first", async () => {
    const nb = await notebook();
    const before = sandbox.getNotebook(nb.short_id)?.content as { content: unknown[] };
    const start = sandbox.requests.length;
    const edited = await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      old_markdown: "41 percent",
      new_markdown: "44 percent",
    });
    expect(text(edited)).toMatch(
      /^Replaced the passage in notebook \w+ "Retention"; it is now at version 1\./,
    );
    expect(stored(nb.short_id)).toBe(BODY.replace("41", "44"));
    const after = sandbox.getNotebook(nb.short_id)?.content as { content: unknown[] };
    // Only the paragraph holding the passage changed; every other block is as it was.
    expect(after.content.filter((_, i) => i !== 1)).toEqual(before.content.filter((_, i) => i !== 1));
    // The version just written is known: the edit was one PATCH, with it.
    const sent = sandbox.requests.slice(start).filter((r) => !r.path.startsWith("/api/personal_api_keys/"));
    expect(sent.map((r) => `${r.method} ${r.status}`)).toEqual(["PATCH 200"]);
    expect((sent[0]?.body as { version: number } | undefined)?.version).toBe(0);
  });

  it("says when the passage is not there, and how to find it", async () => {
    const nb = await notebook();
    const result = await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      old_markdown: "42 percent",
      new_markdown: "x",
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /old_markdown does not occur in notebook \w+ \(version 0\).*notebooks-retrieve/,
    );
    expect(stored(nb.short_id)).toBe(BODY);
  });

  it("asks for a longer passage when it occurs more than once, and replaces all when asked", async () => {
    const nb = await notebook();
    const twice = await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      old_markdown: "cohort B",
      new_markdown: "cohort C",
    });
    expect(twice.isError).toBe(true);
    expect(text(twice)).toMatch(/occurs 2 times.*Include more of the text around it.*replace_all: true/);
    const all = await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      old_markdown: "cohort B",
      new_markdown: "cohort C",
      replace_all: true,
    });
    expect(text(all)).toMatch(/^Replaced 2 occurrences/);
    expect(stored(nb.short_id)).toBe(BODY.replaceAll("cohort B", "cohort C"));
  });

  it("applies to a newer version when the passage is still there, and refuses when it is gone", async () => {
    const nb = await notebook();
    // Someone edits in PostHog: a paragraph added at the end.
    const theirs = await callSandbox(sandbox, "GET", `/api/projects/@current/notebooks/${nb.short_id}/`, {
      key: KEY,
    });
    const content = theirs.json.content as { content: unknown[] };
    await callSandbox(sandbox, "PATCH", `/api/projects/@current/notebooks/${nb.short_id}/`, {
      key: KEY,
      body: {
        version: theirs.json.version,
        content: {
          ...content,
          content: [
            ...content.content,
            { type: "paragraph", content: [{ type: "text", text: "Their note." }] },
          ],
        },
      },
    });
    const rebased = await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      old_markdown: "41 percent",
      new_markdown: "44 percent",
      version: 0,
    });
    expect(text(rebased)).toMatch(
      /Replaced the passage .*re-applied to the newer version someone else saved/,
    );
    expect(stored(nb.short_id)).toBe(`${BODY.replace("41", "44")}\n\nTheir note.`);

    // Now they change the very sentence; an edit made on the old text cannot apply.
    const now = await callSandbox(sandbox, "GET", `/api/projects/@current/notebooks/${nb.short_id}/`, {
      key: KEY,
    });
    const replaced = JSON.parse(JSON.stringify(now.json.content).replace("44 percent", "45 percent"));
    await callSandbox(sandbox, "PATCH", `/api/projects/@current/notebooks/${nb.short_id}/`, {
      key: KEY,
      body: { version: now.json.version, content: replaced },
    });
    const gone = await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      old_markdown: "44 percent",
      new_markdown: "46 percent",
      version: 2,
    });
    expect(gone.isError).toBe(true);
    expect(text(gone)).toMatch(
      /no longer in notebook \w+ \(version 3; you read version 2\).*Retrieve the notebook again/,
    );
    expect(stored(nb.short_id)).toContain("45 percent");
  });

  it("refuses the same text as old and new, and bad arguments, without sending anything", async () => {
    const nb = await notebook();
    const start = sandbox.requests.length;
    const same = await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      old_markdown: "a",
      new_markdown: "a",
    });
    expect(text(same)).toMatch(/old_markdown and new_markdown are the same/);
    const missing = await call(client, "notebooks-edit", { short_id: nb.short_id, new_markdown: "a" });
    expect(text(missing)).toMatch(/old_markdown is missing/);
    expect(
      sandbox.requests.slice(start).filter((r) => !r.path.startsWith("/api/personal_api_keys/")),
    ).toEqual([]);
  });

  it("reads back, from retrieve, the Markdown the edit wrote", async () => {
    const nb = await notebook();
    await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      old_markdown: "- cohort A\n",
      new_markdown: "- cohort A (new)\n",
    });
    const read = await call(client, "notebooks-retrieve", { short_id: nb.short_id });
    expect(fencedDocument(text(read))).toBe(BODY.replace("- cohort A\n", "- cohort A (new)\n"));
  });

  it("finds a passage and outlines the notebook without sending the Markdown, then edits what it found", async () => {
    const nb = await notebook();
    const start = sandbox.requests.length;
    const found = await call(client, "notebooks-retrieve", { short_id: nb.short_id, find: "cohort B" });
    const located = data<{
      shown: string[];
      total_matches: number;
      matches: { offset: number; length: number; heading: { text: string } | null; passage: string }[];
    }>(found);
    expect(located.shown).toEqual([]);
    expect(fencedDocument(text(found))).toBeUndefined();
    expect(located.total_matches).toBe(2);
    expect(located.matches.map((m) => BODY.slice(m.offset, m.offset + m.length))).toEqual([
      "cohort B",
      "cohort B",
    ]);
    expect(located.matches.map((m) => m.passage)).toEqual(["- cohort B", "The cohort B number is low."]);
    const pattern = data<{ matches: { passage: string }[] }>(
      await call(client, "notebooks-retrieve", { short_id: nb.short_id, find: "\\d+ percent", regex: true }),
    );
    expect(pattern.matches.map((m) => m.passage)).toEqual(["Weekly retention is 41 percent."]);
    const outline = data<{ outline: { level: number; text: string; offset: number; size: number }[] }>(
      await call(client, "notebooks-retrieve", { short_id: nb.short_id, format: "outline" }),
    );
    expect(outline.outline).toEqual([{ level: 1, text: "Retention", offset: 0, size: BODY.length }]);
    const edited = await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      edits: [
        { old_markdown: "41 percent", new_markdown: "44 percent" },
        { old_markdown: "The cohort B number", new_markdown: "The cohort B figure" },
      ],
    });
    expect(text(edited)).toMatch(
      /^Replaced 2 edits \(2 passages\) in notebook \w+ "Retention"; it is now at version 1\./,
    );
    expect(fencedDocument(text(edited), "diff")).toBe(
      [
        "@@ -2,3 +2,3 @@",
        " ",
        "-Weekly retention is 41 percent.",
        "+Weekly retention is 44 percent.",
        " ",
        "@@ -7,2 +7,2 @@",
        " ",
        "-The cohort B number is low.",
        "+The cohort B figure is low.",
      ].join("\n"),
    );
    expect(stored(nb.short_id)).toBe(BODY.replace("41", "44").replace("number", "figure"));
    // Three finds (each a read of the notebook as it is now) and one write: nothing else.
    const sent = sandbox.requests.slice(start).filter((r) => !r.path.startsWith("/api/personal_api_keys/"));
    expect(sent.map((r) => `${r.method} ${r.status}`)).toEqual([
      "GET 200",
      "GET 200",
      "GET 200",
      "PATCH 200",
    ]);
    // A list of edits one of which cannot apply changes nothing.
    const refused = await call(client, "notebooks-edit", {
      short_id: nb.short_id,
      edits: [
        { old_markdown: "44 percent", new_markdown: "45 percent" },
        { old_markdown: "not in it", new_markdown: "x" },
      ],
    });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/edits\[1\]\.old_markdown does not occur.*None of the edits was made/);
    expect(stored(nb.short_id)).toBe(BODY.replace("41", "44").replace("number", "figure"));
  });

  it("is not offered, and refused, when the server is read-only", async () => {
    const readOnly = await connect("--read-only");
    const { tools } = await readOnly.listTools();
    expect(tools.map((t) => t.name)).not.toContain("notebooks-edit");
    const refused = await call(readOnly, "notebooks-edit", {
      short_id: "abc",
      old_markdown: "a",
      new_markdown: "b",
    });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/read-only/);
  });
});

describe("concurrent writers", () => {
  it("lands 16 parallel appends from two server processes while a person edits over HTTP", async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const nb = data<{ short_id: string }>(
      await call(a as Client, "notebooks-create", { markdown: "# Shared log" }),
    );
    const url = `/api/projects/@current/notebooks/${nb.short_id}/`;
    let person = 0;
    const personEdits = (async () => {
      // A person saves five times meanwhile, each on the version they just loaded (retrying on 409).
      while (person < 5) {
        const current = await callSandbox(sandbox, "GET", url, { key: KEY });
        const content = current.json.content as { content: unknown[] };
        const saved = await callSandbox(sandbox, "PATCH", url, {
          key: KEY,
          body: {
            version: current.json.version,
            content: {
              ...content,
              content: [
                ...content.content,
                { type: "paragraph", content: [{ type: "text", text: `person ${person}` }] },
              ],
            },
          },
        });
        if (saved.status === 200) person++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const appends = Array.from({ length: 16 }, (_, i) =>
      call((i % 2 === 0 ? a : b) as Client, "notebooks-partial-update", {
        short_id: nb.short_id,
        append_markdown: `finding ${i}`,
      }),
    );
    const results = await Promise.all(appends);
    await personEdits;
    for (const result of results) expect(result.isError, text(result)).toBeFalsy();
    const markdown = stored(nb.short_id);
    for (let i = 0; i < 16; i++) expect(markdown).toContain(`finding ${i}`);
    for (let i = 0; i < 5; i++) expect(markdown).toContain(`person ${i}`);
    expect(markdown.startsWith("# Shared log")).toBe(true);
  }, 300_000);
});
