/**
 * A request body is decoded as it arrives (src/server/request-body.ts): characters split between
 * the pieces a client sends reach PostHog whole, and a body that is not JSON is still a parse error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpServing } from "../../src/server/http.js";
import { type SandboxUpstream, sandboxUpstream, serveOnLoopback } from "../helpers/in-process-http.js";

const KEY = "phx_bodiesTenant0123456789abcdefghijklmnopqrstu";
const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  authorization: `Bearer ${KEY}`,
  "mcp-protocol-version": "2025-06-18",
};

/** `bytes` sent in pieces of `size` bytes, each written on its own turn. */
function inPieces(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

describe("request bodies over HTTP", () => {
  let up: SandboxUpstream;
  let serving: HttpServing;

  beforeAll(async () => {
    up = await sandboxUpstream([KEY]);
    serving = await serveOnLoopback(up.base, true);
  });
  afterAll(async () => {
    await serving.close();
    await up.close();
  });

  it("characters of two, three and four bytes split between pieces arrive whole", async () => {
    const words = "héllo — 日本語 😀 ";
    const text = words.repeat(200).trim();
    const call = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "notebooks-create", arguments: { title: "Split", markdown: text } },
    };
    const bytes = new TextEncoder().encode(JSON.stringify(call));
    // 7 bytes a piece: every kind of character is cut somewhere.
    const response = await fetch(serving.url, {
      method: "POST",
      headers: HEADERS,
      body: inPieces(bytes, 7),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(200);
    // The answer, as JSON or as the one event of a stream.
    const raw = await response.text();
    const data = raw.startsWith("{") ? raw : (/^data: (.*)$/m.exec(raw)?.[1] as string);
    const answer = JSON.parse(data) as {
      result: { isError?: boolean; structuredContent: { short_id: string } };
    };
    expect(answer.result.isError).toBeFalsy();
    const stored = up.sandbox.getNotebook(answer.result.structuredContent.short_id);
    expect(stored?.text_content).toBe(`Split\n${text}`);
  });

  it("a body that is not JSON is a parse error", async () => {
    const response = await fetch(serving.url, {
      method: "POST",
      headers: HEADERS,
      body: inPieces(new TextEncoder().encode('{"jsonrpc":"2.0",'), 5),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });
});
