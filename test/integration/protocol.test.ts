/**
 * Tool calls through the SDK's request path, seen from a raw JSON-RPC peer over InMemoryTransport:
 * one response per request id, none after a cancellation, upstream requests aborted by a
 * cancellation or a closed connection, and malformed params answered with an error.
 */
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type App, createApp } from "../../src/app.js";
import { UpstreamError } from "../../src/posthog/client.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { testConfig } from "../helpers/harness.js";

interface Peer {
  sandbox: Sandbox;
  app: App;
  transport: InMemoryTransport;
  received: JSONRPCMessage[];
  send(message: Record<string, unknown>): Promise<void>;
  /** The response to `id`, once it arrives. */
  response(id: string | number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

let peer: Peer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

async function startPeer(): Promise<Peer> {
  const sandbox = await startSandbox({ rateLimit: false, seed: true });
  const app = await createApp(testConfig(sandbox.url, sandbox.defaultKey), {
    logger: pino({ level: "silent" }),
  });
  const [transport, serverSide] = InMemoryTransport.createLinkedPair();
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => void received.push(message);
  await app.connect(serverSide);
  await transport.start();
  const byId = (id: string | number) =>
    received.find((m) => "id" in m && m.id === id && !("method" in m)) as Record<string, unknown> | undefined;
  const p: Peer = {
    sandbox,
    app,
    transport,
    received,
    send: (message) => transport.send({ jsonrpc: "2.0", ...message } as JSONRPCMessage),
    response: (id) =>
      vi.waitFor(
        () => {
          const found = byId(id);
          if (!found) throw new Error(`no response to ${id} yet`);
          return found;
        },
        { timeout: 30_000 },
      ),
    async close() {
      await transport.close().catch(() => undefined);
      await app.close();
      await sandbox.close();
    },
  };
  await p.send({
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "peer", version: "1" } },
  });
  await p.response(0);
  await p.send({ method: "notifications/initialized" });
  await app.session.grants.settled();
  return p;
}

const retrieve = (id: string | number, shortId = "chk9Drop") => ({
  id,
  method: "tools/call",
  params: { name: "notebooks-retrieve", arguments: { short_id: shortId } },
});

describe("tool calls", () => {
  it("answer each request once, under its own id, when many are in flight", async () => {
    peer = await startPeer();
    const ids = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? i + 1 : `call-${i}`));
    peer.sandbox.clearRequests();
    await Promise.all(ids.map((id) => peer?.send(retrieve(id))));
    for (const id of ids) {
      const response = await peer.response(id);
      const result = response.result as { structuredContent?: { short_id?: string }; isError?: boolean };
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent?.short_id).toBe("chk9Drop");
    }
    const answers = peer.received.filter((m) => "result" in m || "error" in m);
    expect(answers.filter((m) => "id" in m && ids.includes(m.id as string | number))).toHaveLength(
      ids.length,
    );
    const gets = peer.sandbox.requests.filter((r) => r.path.endsWith("/notebooks/chk9Drop/"));
    expect(gets).toHaveLength(ids.length);
    expect(
      gets.every(
        (r) => r.method === "GET" && r.headers.authorization === `Bearer ${peer?.sandbox.defaultKey}`,
      ),
    ).toBe(true);
  });

  it("send nothing for a call the client cancelled, and abort its upstream request", async () => {
    peer = await startPeer();
    const spy = vi.spyOn(peer.app.session.client, "request");
    peer.sandbox.fault({ kind: "latency", ms: 3_000, count: 1 });
    await peer.send(retrieve(41));
    await vi.waitFor(() => expect(spy).toHaveBeenCalled());
    const upstream = spy.mock.results[0]?.value as Promise<unknown>;
    await vi.waitFor(() =>
      expect(peer?.sandbox.requests.some((r) => r.path.endsWith("/chk9Drop/"))).toBe(true),
    );
    await peer.send({ method: "notifications/cancelled", params: { requestId: 41, reason: "not needed" } });
    await expect(upstream).rejects.toSatisfy(
      (e: unknown) => e instanceof UpstreamError && e.kind === "aborted",
    );
    // "aborted", not an answer: the 3 s the sandbox holds it were not waited for.
    // The server goes on answering, and never answers the cancelled call.
    await peer.send(retrieve(42));
    await peer.response(42);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.received.some((m) => "id" in m && m.id === 41)).toBe(false);
  });

  it("abort the upstream requests of calls in flight when the connection closes", async () => {
    peer = await startPeer();
    const spy = vi.spyOn(peer.app.session.client, "request");
    peer.sandbox.fault({ kind: "latency", ms: 3_000, count: 1 });
    await peer.send(retrieve(7));
    await vi.waitFor(() =>
      expect(peer?.sandbox.requests.some((r) => r.path.endsWith("/chk9Drop/"))).toBe(true),
    );
    const upstream = spy.mock.results[0]?.value as Promise<unknown>;
    await peer.transport.close();
    // "aborted", not an answer: the 3 s the sandbox holds it were not waited for.
    await expect(upstream).rejects.toSatisfy(
      (e: unknown) => e instanceof UpstreamError && e.kind === "aborted",
    );
  });

  it("answer an unknown tool with -32602 and a message without the SDK's 'MCP error' prefix", async () => {
    peer = await startPeer();
    peer.sandbox.clearRequests();
    await peer.send({ id: 11, method: "tools/call", params: { name: "notebooks-explode", arguments: {} } });
    const response = await peer.response(11);
    expect(response.error).toMatchObject({ code: -32602 });
    expect((response.error as { message: string }).message).toMatch(/^Tool notebooks-explode not found/);
    expect(peer.sandbox.requests.filter((r) => !r.path.startsWith("/api/personal_api_keys/"))).toEqual([]);
  });

  it("answer a missing resource as SEP-2164 says (-32602, the URI in data), without an 'MCP error' prefix", async () => {
    peer = await startPeer();
    await peer.send({ id: 12, method: "resources/read", params: { uri: "posthog://notebooks/nope0000" } });
    const response = await peer.response(12);
    expect(response.error).toMatchObject({ code: -32602, data: { uri: "posthog://notebooks/nope0000" } });
    expect((response.error as { message: string }).message).toMatch(/^Resource not found: /);
  });

  it("answer malformed params with an error", async () => {
    peer = await startPeer();
    peer.sandbox.clearRequests();
    await peer.send({ id: 10, method: "tools/call", params: { name: "notebooks-list", arguments: [1, 2] } });
    const response = await peer.response(10);
    // (Over stdio, the transport answers these itself, with -32602: see the e2e tests.)
    expect(response.error).toMatchObject({
      code: expect.any(Number),
      message: expect.stringMatching(/arguments/),
    });
    expect(peer.sandbox.requests).toHaveLength(0);
  });
});
