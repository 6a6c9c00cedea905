/**
 * A `__proto__` key in a tool's arguments is refused by name, as an argument the tool does not take
 * is (a tool error, nothing sent), over stdio, over HTTP and in process: the SDK's request schema
 * would otherwise drop it without a word before any tool saw it. `constructor` and `prototype` are
 * arguments no tool takes, refused by name like any other.
 */
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import type { HttpServing } from "../../src/server/http.js";
import { StdioLineTransport } from "../../src/server/stdio-transport.js";
import { type Harness, startHarness, textOf } from "../helpers/harness.js";
import { type SandboxUpstream, sandboxUpstream, serveOnLoopback } from "../helpers/in-process-http.js";

/** A tools/call as a client writes it, `__proto__` included (JSON.parse keeps it as a key). */
const CALL = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"notebooks-retrieve","arguments":{"short_id":"abc","__proto__":{"short_id":"other"}}}}`;
const REFUSAL =
  /^Invalid arguments for notebooks-retrieve: notebooks-retrieve takes no argument named "__proto__" .*Nothing was sent to PostHog/;

describe("over stdio", () => {
  it("the transport answers the call with a tool error naming __proto__; the server never sees it", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const transport = new StdioLineTransport(input, output);
    const received: unknown[] = [];
    transport.onmessage = (message) => void received.push(message);
    await transport.start();
    input.write(`${CALL}\n`);
    await new Promise((resolve) => setImmediate(resolve));
    await transport.close();
    const answer = JSON.parse(String(output.read()).trim()) as {
      id: number;
      result: { isError: boolean; content: { text: string }[] };
    };
    expect(received).toEqual([]);
    expect(answer.id).toBe(7);
    expect(answer.result.isError).toBe(true);
    expect(answer.result.content[0]?.text).toMatch(REFUSAL);
  });
});

describe("over HTTP", () => {
  const KEY = "phx_protoTenant0123456789abcdefghijklmnopqrstuvw";
  let up: SandboxUpstream;
  let sandbox: Sandbox;
  let serving: HttpServing;

  beforeAll(async () => {
    up = await sandboxUpstream([KEY]);
    sandbox = up.sandbox;
    serving = await serveOnLoopback(up.base, true);
  });
  afterAll(async () => {
    await serving.close();
    await up.close();
  });

  it("a call with __proto__ in its arguments gets a tool error naming it; nothing reaches PostHog", async () => {
    const before = sandbox.requests.filter((r) => r.path.includes("/notebooks")).length;
    const response = await fetch(serving.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${KEY}`,
        "mcp-protocol-version": "2025-06-18",
      },
      body: CALL,
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as {
      id: number;
      result: { isError: boolean; content: { text: string }[] };
    };
    expect(answer.id).toBe(7);
    expect(answer.result.isError).toBe(true);
    expect(answer.result.content[0]?.text).toMatch(REFUSAL);
    expect(sandbox.requests.filter((r) => r.path.includes("/notebooks")).length).toBe(before);
  });
});

describe("in process", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("a __proto__ key inside an argument (a document's content) is refused by name", async () => {
    h.mark();
    const args = JSON.parse(
      `{"short_id":"abc","version":1,"content":{"type":"doc","content":[],"__proto__":{"polluted":true}}}`,
    ) as Record<string, unknown>;
    const result = await h.call("notebooks-partial-update", args);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /^Invalid arguments for notebooks-partial-update: content holds a key named "__proto__" .*Nothing was sent to PostHog/,
    );
    expect(h.upstream()).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("constructor and prototype are arguments no tool takes, refused by name", async () => {
    for (const name of ["constructor", "prototype"]) {
      const result = await h.call("notebooks-retrieve", { short_id: "abc", [name]: { polluted: true } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(`notebooks-retrieve takes no argument named "${name}"`);
    }
  });
});
