/**
 * The HTTP mode against an outside review's findings, in process (serveHttp on 127.0.0.1, the
 * sandbox as PostHog, the SDK's Streamable HTTP client): one tenant's output never depends on
 * another tenant's key, one key cannot hold every session, keys' writes never queue behind each
 * other, and headers are answered without echoing them.
 */
import { request } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import type { HttpServing } from "../../src/server/http.js";
import type { UpstreamBase } from "../../src/upstream.js";
import { type SandboxUpstream, sandboxUpstream, serveOnLoopback } from "../helpers/in-process-http.js";

const KEY_A = "phx_reviewKeyAlpha0123456789abcdefghijklmnopqrstu";
const KEY_B = "phx_otherTenantBravo0123456789abcdefghijklmnopqr";

let up: SandboxUpstream;
let sandbox: Sandbox;
let base: UpstreamBase;
let serving: HttpServing;

beforeAll(async () => {
  up = await sandboxUpstream([KEY_A, KEY_B]);
  ({ sandbox, base } = up);
  serving = await serveOnLoopback(base);
});
afterAll(async () => {
  await serving.close();
  await up.close();
});

async function connect(key: string): Promise<Client> {
  const client = new Client({ name: "review", version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(serving.url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

function post(headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      serving.url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("HTTP mode under review", () => {
  it("one tenant cannot probe another's key through what it is shown", async () => {
    const a = await connect(KEY_A); // KEY_A is in use
    const b = await connect(KEY_B);
    try {
      const probe = `posthog://notebooks/${KEY_A.slice(0, 12)}`;
      const error = await b.readResource({ uri: probe }).catch((e: Error) => e);
      expect((error as Error).message).toContain(KEY_A.slice(0, 12));
      expect((error as Error).message).not.toContain("[redacted]");
      // Its own key stays redacted.
      const own = await b
        .readResource({ uri: `posthog://notebooks/${KEY_B.slice(0, 12)}` })
        .catch((e: Error) => e);
      expect((own as Error).message).not.toContain(KEY_B.slice(0, 12));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("an unsupported MCP-Protocol-Version is refused without repeating it", async () => {
    const answer = await post(
      { authorization: `Bearer ${KEY_A}`, "mcp-protocol-version": `${KEY_B}` },
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body).not.toContain(KEY_B.slice(0, 10));
    expect(answer.body).toMatch(/unsupported MCP-Protocol-Version/);
  });

  it("serves a call asking for a task as a plain call, the task ignored (the server declares no tasks)", async () => {
    const stateless = await serveOnLoopback(base, true);
    try {
      const response = await fetch(stateless.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${KEY_A}`,
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 9,
          method: "tools/call",
          params: { name: "notebooks-list", arguments: { limit: 1 }, task: { ttl: 1_000 } },
        }),
      });
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text).toContain('"structuredContent"');
      expect(text).not.toContain('"error"');
    } finally {
      await stateless.close();
    }
  });

  it("accepts a loopback IPv6 Origin", async () => {
    const answer = await post(
      { authorization: `Bearer ${KEY_A}`, origin: "http://[::1]:1234" },
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "o", version: "1" } },
      }),
    );
    expect(answer.status).toBe(200);
  });

  it("one key holds at most 100 sessions: its least recently used goes, other keys are untouched", async () => {
    const other = await connect(KEY_B);
    const before = serving.sessions();
    const opened: Client[] = [];
    try {
      for (let i = 0; i < 105; i++) opened.push(await connect(KEY_A));
      // A held a few already: past 100 of its own, each new one closed its oldest.
      expect(serving.sessions()).toBeLessThan(before + 105);
      expect(serving.sessions()).toBeLessThanOrEqual(before + 100);
      // The first of A's sessions was closed; B's still answers.
      await expect(opened[0]?.listTools()).rejects.toThrow();
      expect((await other.listTools()).tools.length).toBe(11);
      expect((await opened[104]?.listTools())?.tools.length).toBe(11);
    } finally {
      await Promise.all([...opened, other].map((c) => c.close().catch(() => undefined)));
    }
  }, 300_000);

  it("two keys' writes to one notebook never wait on each other's queue", async () => {
    const nb = sandbox.insertNotebook({ title: "Shared" });
    const a = await connect(KEY_A);
    const b = await connect(KEY_B);
    try {
      const before = sandbox.requests.length;
      sandbox.fault({ kind: "latency", ms: 5_000, count: 1 });
      let slowAnswered = false;
      const slow = a.callTool({
        name: "notebooks-partial-update",
        arguments: { short_id: nb.short_id as string, append_markdown: "from A" },
      });
      void slow.then(() => {
        slowAnswered = true;
      });
      // A's call has reached the sandbox, which holds it for 5 s.
      await vi.waitFor(
        () =>
          expect(
            sandbox.requests.slice(before).some((r) => r.headers.authorization === `Bearer ${KEY_A}`),
          ).toBe(true),
        { timeout: 10_000 },
      );
      const fast = await b.callTool({
        name: "notebooks-partial-update",
        arguments: { short_id: nb.short_id as string, title: "Renamed by B" },
      });
      expect(fast.isError).toBeFalsy();
      expect(slowAnswered, "B's write was answered while A's was still held upstream").toBe(false);
      expect((await slow).isError).toBeFalsy();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
