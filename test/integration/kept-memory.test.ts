/**
 * What 2025 sessions and 2026 listen streams keep is held to one budget in bytes, shared fairly
 * among keys (in process: serveHttp on 127.0.0.1 with a budget of four sessions, the sandbox as
 * PostHog). A key that opens many cannot keep another key out: the biggest holder's least recently
 * used one gives way; a key's newest replaces its own oldest once no key holds more; a key with
 * nothing to give up, when every key holds its part, is told so (503) and nothing of anyone's goes.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpServing, serveHttp } from "../../src/server/http.js";
import { sessionBytes } from "../../src/server/legacy-sessions.js";
import { listenBytes } from "../../src/server/modern-requests.js";
import { type SandboxUpstream, sandboxUpstream } from "../helpers/in-process-http.js";

const KEYS = ["Alpha", "Bravo", "Charlie", "Delta"].map((name) =>
  `phx_kept${name}0123456789abcdefghijklmnopqrstuvwxyz`.slice(0, 47),
);
const [A, B, C, D] = KEYS as [string, string, string, string];
/** What a session counts for, its initialize being short (counted in steps of 16 KB). */
const SESSION_BYTES = sessionBytes({});
/** What a listen stream asking for list changes counts for. */
const LISTEN_BYTES = listenBytes({
  jsonrpc: "2.0",
  id: 1,
  method: "subscriptions/listen",
  params: { notifications: { resourcesListChanged: true } },
});

let up: SandboxUpstream;
let serving: HttpServing;
const clients: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  up = await sandboxUpstream(KEYS);
  serving = await serveHttp(
    up.base,
    { host: "127.0.0.1", port: 0, stateless: false, allowedHosts: [], corsOrigins: [] },
    { keptBytes: 4 * SESSION_BYTES },
  );
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await serving?.close();
  await up?.close();
});

/** A 2025 session of `key`. */
async function session(key: string): Promise<Client> {
  const client = new Client({ name: "kept", version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(serving.url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  clients.push(client);
  return client;
}

/** Whether a session is still served: a call in it answers, or the server no longer knows it. */
async function served(client: Client): Promise<boolean> {
  try {
    await client.ping();
    return true;
  } catch (error) {
    expect(String(error)).toMatch(/Session not found/);
    return false;
  }
}

/** Waits until the server's /healthz (on loopback: its counts) shows what `until` expects. */
async function held(
  server: HttpServing,
  until: (health: { listening: number; keptBytes: number }) => boolean,
): Promise<void> {
  for (;;) {
    const response = await fetch(server.url.replace(/\/mcp$/, "/healthz"));
    if (until((await response.json()) as { listening: number; keptBytes: number })) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether each session is still served, asked one after another (each answer uses it). */
async function inTurn(sessions: (Client | undefined)[]): Promise<boolean[]> {
  const answers: boolean[] = [];
  for (const one of sessions) answers.push(await served(one as Client));
  return answers;
}

async function initialize(key: string): Promise<{ status: number; text: string }> {
  const response = await fetch(serving.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    }),
  });
  return { status: response.status, text: await response.text() };
}

async function sessionsHeld(): Promise<number> {
  const response = await fetch(serving.url.replace(/\/mcp$/, "/healthz"));
  return ((await response.json()) as { sessions: number }).sessions;
}

describe("sessions and listen streams share one budget in bytes, fairly among keys", () => {
  it("gives way from the biggest holder, then a key's own, then refuses with a sentence", async () => {
    const a = [await session(A), await session(A), await session(A), await session(A)];
    // a[0] used last: a[1] is now A's least recently used.
    expect(await served(a[0] as Client)).toBe(true);
    expect(await sessionsHeld()).toBe(4);

    // B holds nothing: A, holding the most, gives way with its least recently used.
    const b1 = await session(B);
    expect(await inTurn([a[2], a[3], a[0], a[1]])).toEqual([true, true, true, false]);
    // B asks for a second: A would still hold as much as B (two each); a[2] is A's oldest now.
    const b2 = await session(B);
    expect(await inTurn([a[3], a[0], a[2]])).toEqual([true, true, false]);
    // B asks for a third: A would hold less than B, so B's own oldest (b1) gives way.
    expect(await inTurn([b1, b2])).toEqual([true, true]);
    const b3 = await session(B);
    expect(await inTurn([b2, b3, a[0], a[3], b1])).toEqual([true, true, true, true, false]);
    expect(await sessionsHeld()).toBe(4);

    // C asks for a listen stream watching 1,000 notebooks, more than what either A or B would keep
    // after giving up a session: nothing of its own to give up, so it is refused, and nothing goes.
    const watched = Array.from(
      { length: 1_000 },
      (_, n) => `posthog://notebooks/${String(n).padStart(32, "0")}`,
    );
    const listen = {
      jsonrpc: "2.0",
      id: 7,
      method: "subscriptions/listen",
      params: {
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientCapabilities": {},
        },
        notifications: { resourceSubscriptions: watched },
      },
    };
    expect(listenBytes(listen)).toBeGreaterThan(SESSION_BYTES);
    const raw = await fetch(serving.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${C}`,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "subscriptions/listen",
      },
      body: JSON.stringify(listen),
    });
    expect(raw.status).toBe(503);
    expect(raw.headers.get("retry-after")).toBe("30");
    expect(await raw.text()).toMatch(
      /cannot keep another listen stream: what it keeps for sessions and listen streams is full \(1 MB\).*Close a session or stream this key no longer uses/,
    );
    expect(await inTurn([a[0], a[3], b2, b3])).toEqual([true, true, true, true]);

    // D's session fits where a session of A or B gives way (each keeps one as much as D's one).
    const d = await initialize(D);
    expect(d.status).toBe(200);
    expect(await sessionsHeld()).toBe(4);
  });

  it("counts listen streams too: the biggest holder's oldest stream is ended, and a closed one frees its part", async () => {
    const own = await serveHttp(
      up.base,
      { host: "127.0.0.1", port: 0, stateless: false, allowedHosts: [], corsOrigins: [] },
      { keptBytes: 2 * LISTEN_BYTES },
    );
    const listener = async (key: string) => {
      const client = new ModernClient(
        { name: "kept", version: "1" },
        { versionNegotiation: { mode: "auto" } },
      );
      await client.connect(
        new ModernTransport(new URL(own.url), {
          requestInit: { headers: { authorization: `Bearer ${key}` } },
        }),
      );
      clients.push(client);
      return client;
    };
    try {
      const alice = await listener(A);
      const bob = await listener(B);
      const first = await alice.listen({ resourcesListChanged: true });
      const second = await alice.listen({ resourcesListChanged: true });
      const bobs = await bob.listen({ resourcesListChanged: true });
      expect(await first.closed).toBe("remote");
      await bobs.close();
      expect(await bobs.closed).toBe("local");
      await held(own, (health) => health.listening === 1 && health.keptBytes === LISTEN_BYTES);
      // Bob's part is free again: Alice's next stream takes it, and her open one stays.
      const third = await alice.listen({ resourcesListChanged: true });
      await third.close();
      await second.close();
      expect(await second.closed).toBe("local");
    } finally {
      await own.close();
    }
  });
});
