/**
 * What one key's requests may take of the HTTP server besides their tools' own work (in process:
 * serveHttp on 127.0.0.1, the sandbox as PostHog): at most 16 requests of a key in flight at once
 * (one key's hundred reads of a 4 MB notebook at once held a gigabyte), and protocol requests
 * (tools/list, ping…: this server's thread only) charged to the key's share of processing time (one
 * key looping batches of tools/list kept the thread busy, never counted).
 */
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CpuShares } from "../../src/posthog/rate-limit.js";
import { startSandbox } from "../../src/sandbox/index.js";
import { type HttpServing, serveHttp } from "../../src/server/http.js";
import { inSteps } from "../../src/server/kept-memory.js";
import { IN_FLIGHT, WAITING } from "../../src/server/key-requests.js";
import { sessionBytes } from "../../src/server/legacy-sessions.js";
import { openUpstreamBase } from "../../src/upstream.js";
import { testConfig } from "../helpers/harness.js";
import { type SandboxUpstream, sandboxUpstream, serveOnLoopback } from "../helpers/in-process-http.js";
import { rawPost } from "../helpers/raw-post.js";

const A = "phx_requestsTenantAlpha0123456789abcdefghijklmn";
const B = "phx_requestsTenantBravo0123456789abcdefghijklmn";

let up: SandboxUpstream | undefined;
let serving: HttpServing | undefined;
afterEach(async () => {
  await serving?.close();
  await up?.close();
  serving = undefined;
  up = undefined;
});

const call = (id: number, name: string, args: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
const TOOLS_LIST = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });

/** The sandbox with key A, and an upstream for it logging to `logger` (closed after the test). */
async function loggedUpstream(logger: pino.Logger): Promise<SandboxUpstream> {
  const sandbox = await startSandbox({ rateLimit: false, keys: [{ value: A, scopes: ["*"] }] });
  const base = await openUpstreamBase(testConfig(sandbox.url, ""), { logger, rateLimits: false });
  up = {
    sandbox,
    base,
    async close() {
      await base.close();
      await sandbox.close();
    },
  };
  return up;
}

/** An initialize of a 2025-11-25 client declaring `capabilities`. */
const initializeWith = (capabilities: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities, clientInfo: { name: "raw", version: "1" } },
});

/**
 * A raw 2025 session of key A at `url` opened with `initialize`: sends a message (JSON, or an
 * object made JSON) in it, with a signal to drop it.
 */
async function rawSession(url: string, initialize: unknown) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${A}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const send = (message: unknown, signal?: AbortSignal) =>
    fetch(url, {
      method: "POST",
      headers,
      body: typeof message === "string" ? message : JSON.stringify(message),
      signal,
    });
  const opened = await send(initialize);
  await opened.text();
  headers["mcp-session-id"] = opened.headers.get("mcp-session-id") as string;
  headers["mcp-protocol-version"] = "2025-11-25";
  await (await send({ jsonrpc: "2.0", method: "notifications/initialized" })).text();
  return send;
}

async function health(url: string, count: string): Promise<number> {
  const answer = await fetch(url.replace(/\/mcp$/, "/healthz"));
  return ((await answer.json()) as Record<string, number>)[count] as number;
}

describe("one key's requests", () => {
  it(`at most ${IN_FLIGHT} in flight at once: the next wait their turn and are answered; past ${WAITING} waiting, refused with a sentence`, async () => {
    up = await sandboxUpstream([A, B]);
    serving = await serveOnLoopback(up.base, true);
    const url = serving.url;
    // Both keys checked, their grants read, before PostHog is made slow.
    for (const key of [A, B]) expect((await rawPost(url, key, call(1, "notebooks-list"))).status).toBe(200);
    // Held long enough for the steps below to be taken on a busy machine: what is asserted waits
    // on the server's counts, never on this time.
    up.sandbox.fault({ kind: "latency", ms: 12_000, count: IN_FLIGHT });
    const held = Array.from({ length: IN_FLIGHT }, (_, i) => rawPost(url, A, call(10 + i, "notebooks-list")));
    // Every one of them is in flight (waiting on PostHog).
    await expect.poll(() => health(url, "inFlight"), { timeout: 30_000, interval: 20 }).toBe(IN_FLIGHT);
    const waiting = Array.from({ length: WAITING }, (_, i) =>
      rawPost(url, A, call(100 + i, "notebooks-list")),
    );
    await expect.poll(() => health(url, "waiting"), { timeout: 30_000, interval: 20 }).toBe(WAITING);
    const refused = await rawPost(url, A, call(999, "notebooks-list"));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    // Refused before its body is read (a refusal costs nothing more): the id is not known.
    expect(refused.answer).toMatchObject({ id: null, error: { code: -32000 } });
    expect(refused.answer.error?.message).toBe(
      "This key has 16 requests in flight on this server and 48 more waiting, the most one key may have: wait for some of them to be answered, then send more.",
    );
    // Another key is served meanwhile (PostHog is quick again for it: the faults are used up).
    expect((await rawPost(url, B, call(1, "notebooks-list"))).status).toBe(200);
    // Every one in flight and every one that waited is answered.
    for (const answer of await Promise.all([...held, ...waiting])) expect(answer.status).toBe(200);
  }, 60_000);

  it("a call whose client goes away is stopped (its request to PostHog given up), and counted in flight until it is", async () => {
    const lines: Array<{ msg?: string; tool?: string; reason?: string; ms?: number }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { sandbox, base } = await loggedUpstream(logger);
    // A 2025 session: its server lasts, whatever becomes of one of its requests.
    serving = await serveOnLoopback(base);
    const url = serving.url;
    const send = await rawSession(url, initializeWith());
    const first = await send(call(1, "notebooks-list"));
    expect(first.status).toBe(200);
    await first.text();
    sandbox.fault({ kind: "latency", ms: 20_000, count: 1 });
    sandbox.clearRequests();
    const client = new AbortController();
    const abandoned = send(call(2, "notebooks-list"), client.signal).catch(() => undefined);
    // PostHog has the call's request (held 20 s); then the client goes.
    await expect.poll(() => sandbox.requests.length, { timeout: 10_000, interval: 10 }).toBe(1);
    client.abort();
    await abandoned;
    // The call is given up (before, the session's call ran on to the upstream timeout), and only
    // then does its request stop counting in flight.
    await expect
      .poll(() => lines.find((line) => line.msg === "tool call failed"), { timeout: 10_000, interval: 20 })
      .toMatchObject({ tool: "notebooks-list", reason: "cancelled" });
    await expect.poll(() => health(url, "inFlight"), { timeout: 10_000, interval: 20 }).toBe(0);
  }, 30_000);

  it(`calls waiting for the user's confirmation take no place in flight: ${IN_FLIGHT + 4} deletes at once in one 2025 session are all asked, and done once answered`, async () => {
    up = await sandboxUpstream([A]);
    serving = await serveOnLoopback(up.base);
    const url = serving.url;
    const count = IN_FLIGHT + 4;
    // The user answers once every form is shown (before, the answers, POSTs of the same key,
    // waited behind the sixteen calls waiting for them: the key was locked out).
    let asked = 0;
    let answer = () => {};
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const client = new V1Client(
      { name: "many-confirmations", version: "1.0.0" },
      { capabilities: { elicitation: {} } },
    );
    client.setRequestHandler(ElicitRequestSchema, async () => {
      asked += 1;
      await answered;
      return { action: "accept", content: { confirm: true } };
    });
    await client.connect(
      new V1HttpClientTransport(new URL(url), {
        requestInit: { headers: { authorization: `Bearer ${A}` } },
      }),
    );
    try {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const created = await client.callTool({
          name: "notebooks-create",
          arguments: { title: `Doomed ${i}` },
        });
        ids.push((created.structuredContent as { short_id: string }).short_id);
      }
      up.sandbox.clearRequests();
      const calls = ids.map((short_id) =>
        client.callTool({ name: "notebooks-destroy", arguments: { short_id } }),
      );
      // Every form is asked (before, sixteen: the other calls waited behind them) and none is
      // counted in flight while it waits.
      await expect.poll(() => asked, { timeout: 20_000, interval: 20 }).toBe(count);
      expect(await health(url, "inFlight")).toBe(0);
      answer();
      const results = await Promise.all(calls);
      for (const result of results) expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      const deletes = up.sandbox.requests.filter((r) => r.method === "PATCH");
      expect(deletes.map((r) => r.body)).toEqual(ids.map(() => ({ deleted: true })));
      expect(new Set(deletes.map((r) => r.path.split("/").at(-2)))).toEqual(new Set(ids));
      await expect.poll(() => health(url, "inFlight"), { timeout: 10_000, interval: 20 }).toBe(0);
    } finally {
      await client.close();
    }
  }, 60_000);

  it("a call whose client goes while its user is asked is cancelled in its session: the SDK stops waiting for the form, and a late answer does nothing", async () => {
    const lines: Array<{ msg?: string; tool?: string }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { sandbox, base } = await loggedUpstream(logger);
    serving = await serveOnLoopback(base);
    const url = serving.url;
    const send = await rawSession(url, initializeWith({ elicitation: {} }));
    const created = await (await send(call(1, "notebooks-create", { title: "Kept" }))).text();
    const shortId = /short_id\\?":\\?"(\w+)/.exec(created)?.[1] as string;
    expect(shortId).toMatch(/^\w{8}$/);
    sandbox.clearRequests();
    // The client reads its call's stream until the form is asked, then goes.
    const client = new AbortController();
    const destroy = await send(call(2, "notebooks-destroy", { short_id: shortId }), client.signal);
    const reader = (destroy.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let stream = "";
    while (!stream.includes("elicitation/create")) stream += decoder.decode((await reader.read()).value);
    const formId = JSON.parse(/^data: (.*)$/m.exec(stream)?.[1] as string).id;
    client.abort();
    // Cancelled in its session, as a client that gives up says (before, the SDK held the call,
    // its arguments with it, for the 5 minutes a form may wait).
    await expect
      .poll(() => lines.find((line) => line.msg === "a confirmation was given up: the call was cancelled"), {
        timeout: 10_000,
        interval: 20,
      })
      .toMatchObject({ tool: "notebooks-destroy" });
    expect(await health(url, "inFlight")).toBe(0);
    // An answer that comes after is answered (202) and does nothing; the session goes on.
    const late = await send({
      jsonrpc: "2.0",
      id: formId,
      result: { action: "accept", content: { confirm: true } },
    });
    expect(late.status).toBe(202);
    const ping = await send({ jsonrpc: "2.0", id: 3, method: "ping" });
    expect(await ping.text()).toContain('"id":3');
    expect(sandbox.requests.filter((r) => r.method !== "GET")).toEqual([]);
    expect(lines.filter((line) => line.msg === "tool call failed")).toEqual([]);
  }, 30_000);

  it("what a call waiting for its user holds is counted with what sessions keep; when that is full, the oldest such call of the key holding the most gives way (cancelled)", async () => {
    const lines: Array<{ msg?: string; tool?: string }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { sandbox, base } = await loggedUpstream(logger);
    const initialize = initializeWith({ elicitation: {} });
    // Room for the session and three forms of 300 KB of Markdown, not four.
    const markdown = "word ".repeat(60_000);
    const replace = (id: number, shortId: string) =>
      JSON.stringify({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "notebooks-partial-update", arguments: { short_id: shortId, markdown } },
      });
    const formBytes = inSteps(64 * 1024 + Buffer.byteLength(replace(10, "abcdefgh")) * 1.25);
    const session = sessionBytes(initialize);
    serving = await serveHttp(
      base,
      { host: "127.0.0.1", port: 0, stateless: false, allowedHosts: [], corsOrigins: [] },
      // (Its forms still open when it closes: no drain of 10 s.)
      { keptBytes: session + 3 * formBytes + formBytes / 2, drainMs: 200 },
    );
    const url = serving.url;
    const send = await rawSession(url, initialize);
    const created = await (await send(call(1, "notebooks-create", { title: "Target" }))).text();
    const shortId = /short_id\\?":\\?"(\w+)/.exec(created)?.[1] as string;
    expect(await health(url, "keptBytes")).toBe(session);
    /** A call showing its form, its stream left open: resolves once the form is asked. */
    const asked = async (id: number) => {
      const response = await send(replace(id, shortId));
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let stream = "";
      while (!stream.includes("elicitation/create")) stream += decoder.decode((await reader.read()).value);
      return reader;
    };
    const first = await asked(10);
    await asked(11);
    await asked(12);
    // Counted (before, nothing counted what they held: six keys' forms, 900 MB).
    expect(await health(url, "keptBytes")).toBe(session + 3 * formBytes);
    // A fourth makes room by letting go of the oldest: its request is closed, its call cancelled.
    await asked(13);
    expect(await health(url, "keptBytes")).toBe(session + 3 * formBytes);
    await expect(
      (async () => {
        for (;;) if ((await first.read()).done) return "closed";
      })(),
    ).rejects.toThrow();
    await expect
      .poll(
        () => lines.filter((line) => line.msg === "a confirmation was given up: the call was cancelled"),
        {
          timeout: 10_000,
          interval: 20,
        },
      )
      .toHaveLength(1);
    expect(sandbox.requests.filter((r) => r.method === "PATCH")).toEqual([]);
  }, 30_000);

  it("protocol requests count against the key's share of processing time: over it, refused with when to retry", async () => {
    // A share of a millisecond a minute, of its own: a few tools/list spend it.
    const shares = new CpuShares(Number.POSITIVE_INFINITY);
    up = await sandboxUpstream([A, B], {}, { perMinute: 480, perHour: 4_800, cpuMsPerMinute: 1, shares });
    serving = await serveOnLoopback(up.base, true);
    const url = serving.url;
    let refused: Awaited<ReturnType<typeof rawPost>> | undefined;
    for (let i = 0; i < 500 && !refused; i++) {
      const answer = await rawPost(url, A, TOOLS_LIST);
      if (answer.status === 429) refused = answer;
      else expect(answer.status).toBe(200);
    }
    expect(refused?.answer.error?.message).toMatch(
      /^This key has used more than its share of this server's processing time in the last minute: nothing was done\. Try again in \d+ seconds?\.$/,
    );
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThan(0);
    // The other key has spent nothing of its own share (its first request is charged once answered).
    expect((await rawPost(url, B, TOOLS_LIST)).status).toBe(200);
  });
});
