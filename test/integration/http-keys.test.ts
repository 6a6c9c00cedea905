/**
 * Keys earn the HTTP server's resources only once PostHog accepts them (in process: serveHttp on
 * 127.0.0.1, the sandbox as PostHog): a key whose check fails for any reason holds no key slot, no
 * session and no tools, and a body is read past a small part only for a key PostHog accepted.
 */
import { request } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import type { HttpServing } from "../../src/server/http.js";
import type { UpstreamBase } from "../../src/upstream.js";
import { type SandboxUpstream, sandboxUpstream, serveOnLoopback } from "../helpers/in-process-http.js";

const KEY = "phx_keysRealTenant0123456789abcdefghijklmnopqrstu";
const madeUp = (i: number) => `phx_madeUp${String(i).padStart(6, "0")}abcdefghijklmnopqrstuvwxyz0123`;

let up: SandboxUpstream;
let sandbox: Sandbox;
let base: UpstreamBase;
let serving: HttpServing;

beforeAll(async () => {
  up = await sandboxUpstream([KEY]);
  ({ sandbox, base } = up);
  serving = await serveOnLoopback(base);
});
afterAll(async () => {
  await serving.close();
  await up.close();
});

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "probe", version: "1" } },
});

/**
 * POSTs to /mcp: `body` whole, or (with `declared`) the first `body` of a body said to be
 * `declared` bytes, the rest never sent. Resolves with the answer.
 */
function post(
  key: string,
  body: string,
  declared?: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      serving.url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${key}`,
          ...(declared ? { "content-length": String(declared) } : {}),
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
        res.on("error", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    if (declared) req.write(body);
    else req.end(body);
  });
}

async function healthz(): Promise<{ sessions: number; keys: number }> {
  const response = await fetch(serving.url.replace(/\/mcp$/, "/healthz"));
  return (await response.json()) as { sessions: number; keys: number };
}

describe("keys PostHog has not accepted", () => {
  it("hold nothing when PostHog cannot check them (503): no key, no session, a sentence saying so", async () => {
    sandbox.fault({ kind: "status", status: 503, count: 40 });
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await post(madeUp(i), INITIALIZE);
        expect(answer.status).toBe(503);
        expect(answer.body).toMatch(/could not confirm this personal API key/);
        expect(answer.body).not.toContain(madeUp(i).slice(0, 10));
      }
    } finally {
      sandbox.clearFaults();
    }
    expect(await healthz()).toMatchObject({ sessions: 0, keys: 0 });
  });

  it("are refused without their key, even when PostHog's 401 sentence repeats it", async () => {
    const key = madeUp(20);
    sandbox.fault({
      kind: "status",
      status: 401,
      count: 1,
      body: JSON.stringify({ detail: `Invalid key ${key}` }),
    });
    const answer = await post(key, INITIALIZE);
    sandbox.clearFaults();
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body).error.message).toMatch(
      /^PostHog rejected this personal API key \(Invalid key \[redacted\]\)\./,
    );
    expect(answer.body).not.toContain(key.slice(0, 10));
    expect(answer.body).not.toContain(key.slice(-10));
  });

  it("hold no connection to PostHog once refused: a check that hangs is given up with its 503", async () => {
    // A server of its own, whose only client is the made-up key's, with PostHog's timeouts as
    // configured by default (30 s).
    const own = await sandboxUpstream([], { timeouts: { connect: 2_000, headers: 30_000, body: 30_000 } });
    const ownServing = await serveOnLoopback(own.base);
    try {
      own.sandbox.fault({ kind: "latency", ms: 25_000, count: 1 });
      const answer = await fetch(ownServing.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${madeUp(30)}`,
        },
        body: INITIALIZE,
      });
      expect(answer.status).toBe(503);
      // (Before, the check's connection stayed open for the upstream timeout, 30 s.)
      await expect.poll(() => own.sandbox.openConnections(), { timeout: 10_000, interval: 20 }).toBe(0);
    } finally {
      await ownServing.close();
      await own.close();
    }
  });

  it("hold nothing when PostHog answers 404 for the key and then refuses it", async () => {
    sandbox.fault({ kind: "status", status: 404, count: 1 });
    const answer = await post(madeUp(10), INITIALIZE);
    sandbox.clearFaults();
    expect(answer.status).toBe(401);
    expect(await healthz()).toMatchObject({ sessions: 0, keys: 0 });
  });

  it("get no more than a small part of a big body read: refused before the rest is sent", async () => {
    // Bodies said to be 4 MB, of which 128 KB are sent: each is answered without the rest.
    const part = " ".repeat(128 * 1024);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(madeUp(100 + i), part, 4 * 1024 * 1024)),
    );
    for (const answer of answers) expect(answer.status).toBe(401);
    expect(await healthz()).toMatchObject({ sessions: 0, keys: 0 });
  });

  it("leave a real tenant served: a big write passes while made-up keys try", async () => {
    const part = " ".repeat(32 * 1024);
    const tries = Array.from({ length: 20 }, (_, i) => post(madeUp(200 + i), part, 4 * 1024 * 1024));
    const client = new Client({ name: "tenant", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(serving.url), {
        requestInit: { headers: { authorization: `Bearer ${KEY}` } },
      }),
    );
    try {
      const markdown = Array.from({ length: 20_000 }, (_, i) => `Paragraph ${i} of a long notebook.`).join(
        "\n\n",
      );
      const result = await client.callTool({
        name: "notebooks-create",
        arguments: { title: "Big", markdown },
      });
      expect(result.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    // The made-up keys' small parts are read, then they wait for their bodies (30 s at most): no
    // check was asked for, and nothing is held for them.
    expect((await healthz()).keys).toBe(1);
    void tries;
  });
});

describe("what only this machine is told", () => {
  it("gives /healthz's counts, and the sandbox's stand-in key, to loopback clients only", async () => {
    const { ClientAddresses } = await import("../../src/server/client-address.js");
    const clients = new ClientAddresses();
    const from = (remoteAddress: string) => ({ socket: { remoteAddress }, headers: {} }) as never;
    expect(clients.local(from("127.0.0.1"))).toBe(true);
    expect(clients.local(from("::1"))).toBe(true);
    expect(clients.local(from("::ffff:127.0.0.1"))).toBe(true);
    expect(clients.local(from("10.0.0.7"))).toBe(false);
    expect(clients.local(from("::ffff:192.168.1.2"))).toBe(false);
    // Over loopback (all a test may use), the counts are there.
    expect(await healthz()).toHaveProperty("sessions");
  });
});

describe("what a request names that could hold the key", () => {
  const lower = KEY.toLowerCase();
  const shows = (text: string) =>
    [KEY.slice(0, 10), KEY.slice(-10)].some((piece) => text.toLowerCase().includes(piece.toLowerCase()));

  it("a request id holding a piece of the key is refused (its answer could never be matched), without the id", async () => {
    for (const id of [KEY, KEY.slice(0, 12), `x-${KEY.slice(-12)}`]) {
      const answer = await post(KEY, INITIALIZE.replace('"id":1', `"id":${JSON.stringify(id)}`));
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ id: null, error: { code: -32600 } });
      expect(JSON.parse(answer.body).error.message).toMatch(/id holds a piece of this API key/);
      expect(shows(answer.body)).toBe(false);
    }
    // Any other id is answered.
    expect((await post(KEY, INITIALIZE.replace('"id":1', '"id":"phx_but_not_the_key"'))).status).toBe(200);
  });

  it("a refused Origin or Host is not repeated", async () => {
    const origin = await post(KEY, INITIALIZE, undefined, { origin: `http://${lower}.example` });
    expect(origin.status).toBe(403);
    expect(JSON.parse(origin.body).error.message).toMatch(
      /^Invalid Origin header: this server takes no requests from that origin/,
    );
    expect(shows(origin.body)).toBe(false);
    const host = await post(KEY, INITIALIZE, undefined, { host: `${lower}.example` });
    expect(host.status).toBe(403);
    expect(JSON.parse(host.body).error.message).toMatch(/^Invalid Host header/);
    expect(shows(host.body)).toBe(false);
  });
});
