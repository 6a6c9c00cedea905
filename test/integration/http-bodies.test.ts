/**
 * A request body is decoded as it arrives (src/server/request-body.ts): characters split between
 * the pieces a client sends reach PostHog whole, and a body that is not JSON is still a parse error.
 * A long `content` document sent as an object is kept as its JSON text and parsed where it is
 * converted: written as sent, and refused (nothing sent) in the very words a short one is.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpServing } from "../../src/server/http.js";
import { type SandboxUpstream, sandboxUpstream, serveOnLoopback } from "../helpers/in-process-http.js";
import { rawPost } from "../helpers/raw-post.js";

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

  /** A tools/call sent as one body; its result. */
  async function call(name: string, args: Record<string, unknown>) {
    const response = await fetch(serving.url, {
      method: "POST",
      headers: HEADERS,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name, arguments: args },
      }),
    });
    expect(response.status).toBe(200);
    const raw = await response.text();
    const data = raw.startsWith("{") ? raw : (/^data: (.*)$/m.exec(raw)?.[1] as string);
    return (
      JSON.parse(data) as {
        result: {
          isError?: boolean;
          content: Array<{ text: string }>;
          structuredContent: Record<string, unknown>;
        };
      }
    ).result;
  }

  /** A document of `paragraphs` paragraphs with bold words (over 32K characters as JSON from 300 on). */
  function document(paragraphs: number) {
    return {
      type: "doc",
      content: [
        { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Long" }] },
        ...Array.from({ length: paragraphs }, (_, i) => ({
          type: "paragraph",
          content: [
            { type: "text", text: `Paragraph ${i} has ` },
            { type: "text", marks: [{ type: "bold" }], text: "bold words" },
            { type: "text", text: ' — and “quotes” \\ "escaped".' },
          ],
        })),
      ],
    };
  }

  it("a long document sent as an object is written as sent, as its JSON text would be", async () => {
    const doc = document(2_000);
    expect(JSON.stringify(doc).length).toBeGreaterThan(200_000);
    const asObject = await call("notebooks-create", { content: doc });
    const asText = await call("notebooks-create", { content: JSON.stringify(doc) });
    expect(asObject.isError).toBeFalsy();
    expect(asText.isError).toBeFalsy();
    const stored = [asObject, asText].map((r) =>
      up.sandbox.getNotebook(r.structuredContent.short_id as string),
    );
    expect(stored[0]?.content).toEqual(doc);
    expect(stored[0]?.title).toBe("Long");
    expect(stored[0]?.text_content).toMatch(
      /^Long\nParagraph 0 has bold words — and “quotes” \\ "escaped"\.\n/,
    );
    expect(stored[1]?.content).toEqual(doc);
    expect(stored[1]?.text_content).toBe(stored[0]?.text_content);
  });

  it("a long document is refused in the words a short one is, and nothing is sent", async () => {
    const deep = (padding: number) => {
      let nested: unknown = { type: "paragraph", content: [{ type: "text", text: "x".repeat(padding) }] };
      for (let i = 0; i < 150; i++) nested = { type: "blockquote", content: [nested] };
      return { type: "doc", content: [nested] };
    };
    const proto = (paragraphs: number) => {
      const doc = document(paragraphs);
      return JSON.stringify(doc).replace('"attrs":{"level":1}', '"attrs":{"level":1,"__proto__":{"x":1}}');
    };
    const cases: Array<[string, (long: boolean) => Record<string, unknown>]> = [
      ["nested 150 deep", (long) => ({ content: deep(long ? 100_000 : 10) })],
      ["nested 150 deep, as text", (long) => ({ content: JSON.stringify(deep(long ? 100_000 : 10)) })],
      ["an array, as text", (long) => ({ content: JSON.stringify(Array(long ? 20_000 : 2).fill(1)) })],
      ["not JSON", (long) => ({ content: `{"type":"doc",${" ".repeat(long ? 100_000 : 1)}` })],
    ];
    const before = up.sandbox.requests.length;
    for (const [what, args] of cases) {
      const [short, long] = [
        await call("notebooks-create", args(false)),
        await call("notebooks-create", args(true)),
      ];
      expect(short.isError, what).toBe(true);
      expect(long.isError, what).toBe(true);
      expect(long.content[0]?.text, what).toBe(short.content[0]?.text);
    }
    expect((await call("notebooks-create", { content: deep(100_000) })).content[0]?.text).toBe(
      "Invalid arguments for notebooks-create: content nests more than 100 levels deep, and no notebook needs that many: flatten it, or send markdown. Nothing was sent to PostHog; correct the arguments and call notebooks-create again.",
    );
    // A __proto__ key: the raw body holds it (JSON.stringify of an object would drop it), in the
    // document sent as an object or as its text, short or long.
    for (const sent of [2, 2_000].flatMap((n) => [proto(n), JSON.stringify(proto(n))])) {
      const body = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"notebooks-create","arguments":{"content":${sent}}}}`;
      const response = await fetch(serving.url, { method: "POST", headers: HEADERS, body });
      const raw = await response.text();
      const data = raw.startsWith("{") ? raw : (/^data: (.*)$/m.exec(raw)?.[1] as string);
      const result = (JSON.parse(data) as { result: { isError: boolean; content: Array<{ text: string }> } })
        .result;
      expect(result.isError).toBe(true);
      expect(result.content[0]?.text).toContain('content.content[0].attrs holds a key named "__proto__"');
    }
    // None of it reached PostHog (the key's check aside).
    expect(up.sandbox.requests.slice(before).filter((r) => r.path.includes("notebooks"))).toEqual([]);
  });

  /** A body posted as it is: the status and the JSON-RPC answer (from JSON or the one event). */
  const post = (body: string) => rawPost(serving.url, KEY, body);

  it("refuses a message nested or filled past any MCP message's need before parsing it, saying which", async () => {
    const before = up.sandbox.requests.length;
    const deep = await post(
      `{"jsonrpc":"2.0","id":4,"method":"ping","params":{"x":${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}}}`,
    );
    expect(deep.status).toBe(400);
    expect(deep.answer.error?.code).toBe(-32600);
    expect(deep.answer.id).toBe(4);
    expect(deep.answer.error?.message).toMatch(
      /^Invalid Request: the message nests more than 1000 levels deep\./,
    );
    const meta = Array.from({ length: 60_000 }, (_, i) => `"k${i}":${i}`).join(",");
    const wide = await post(
      `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"_meta":{${meta}},"name":"notebooks-list","arguments":{}}}`,
    );
    expect(wide.status).toBe(400);
    expect(wide.answer.error?.message).toMatch(/more than 2,000 values/);
    const batch = await post(
      JSON.stringify(Array.from({ length: 11 }, (_, id) => ({ jsonrpc: "2.0", id, method: "ping" }))),
    );
    expect(batch.status).toBe(400);
    expect(batch.answer.error?.message).toMatch(
      /^Invalid Request: a batch of 11 messages; this server takes at most 10/,
    );
    const id = await post(JSON.stringify({ jsonrpc: "2.0", id: "i".repeat(5_000), method: "tools/list" }));
    expect(id.status).toBe(400);
    expect(id.answer.error?.message).toBe(
      "Invalid Request: an id of 5,000 characters; this server takes ids of at most 256 (a number, or a short string).",
    );
    expect(id.raw.length).toBeLessThan(1_000);
    expect(up.sandbox.requests.slice(before).filter((r) => r.path.includes("notebooks"))).toEqual([]);
  });

  it("refuses a message, params, _meta or arguments of more fields than any client sends; takes 100", async () => {
    const before = up.sandbox.requests.length;
    const fields = (n: number, value = "0") =>
      Array.from({ length: n }, (_, i) => `"f${i}":${value}`).join(",");
    // Short bodies read here and long ones (past 32 KB: fields of long values) alike.
    for (const value of ["0", `"${"v".repeat(400)}"`]) {
      const places = {
        "the message": `{${fields(101, value)},"jsonrpc":"2.0","id":7,"method":"tools/list"}`,
        params: `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{${fields(101, value)}}}`,
        "params._meta": `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{${fields(120, value)}},"name":"notebooks-list","arguments":{}}}`,
        "params.arguments": `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"notebooks-list","arguments":{${fields(101, value)}}}}`,
      };
      for (const [where, body] of Object.entries(places)) {
        const refused = await post(body);
        expect(refused.status, where).toBe(400);
        expect(refused.answer.error?.code).toBe(-32600);
        expect(refused.answer.id).toBe(7);
        const count = { "the message": 104, params: 101, "params._meta": 120, "params.arguments": 101 }[
          where
        ];
        expect(refused.answer.error?.message).toBe(
          `Invalid Request: ${where} holds ${count} fields; this server takes at most 100 there (MCP clients send a few): send less at a time.`,
        );
      }
      const taken = await post(
        `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"_meta":{${fields(100, value)}},"name":"notebooks-list","arguments":{"limit":1}}}`,
      );
      expect(taken.answer.result?.isError, taken.raw.slice(0, 300)).toBeFalsy();
    }
    // Only the one list that was taken (twice) reached PostHog.
    const sent = up.sandbox.requests.slice(before).filter((r) => r.path.includes("notebooks"));
    expect(sent.map((r) => r.method)).toEqual(["GET", "GET"]);
  });

  it("refuses a message holding more than 64 KB outside a tool's arguments; takes arguments of megabytes", async () => {
    const pad = "p".repeat(70_000);
    const refusedOnes = {
      ping: { jsonrpc: "2.0", id: 11, method: "ping", params: { _meta: { pad } } },
      initialize: {
        jsonrpc: "2.0",
        id: 12,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: pad, version: "1" },
        },
      },
      call: {
        jsonrpc: "2.0",
        id: 13,
        method: "tools/call",
        params: { _meta: { pad }, name: "notebooks-list", arguments: { limit: 1 } },
      },
    };
    for (const [name, message] of Object.entries(refusedOnes)) {
      const refused = await post(JSON.stringify(message));
      expect(refused.status, name).toBe(400);
      expect(refused.answer.id).toBe(message.id);
      expect(refused.answer.error?.message).toMatch(
        /^Invalid Request: the message holds 70,\d{3} characters outside a tool's arguments; this server takes at most 65,536 there/,
      );
      expect(refused.raw.length).toBeLessThan(1_000);
    }
    const markdown = `# Long\n\n${"Long arguments are fine. ".repeat(20_000)}`;
    const taken = await post(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 14,
        method: "tools/call",
        params: { name: "notebooks-create", arguments: { title: "Long", markdown } },
      }),
    );
    expect(taken.answer.result?.isError, taken.raw.slice(0, 300)).toBeFalsy();
  });

  it("says what was wrong with a long name, URI or argument without sending it back", async () => {
    const long = "n".repeat(60_000);
    const call = (params: unknown) => post(JSON.stringify({ jsonrpc: "2.0", id: 6, ...(params as object) }));
    const tool = await call({ method: "tools/call", params: { name: long, arguments: {} } });
    expect(tool.answer.error?.code).toBe(-32602);
    expect(tool.answer.error?.message).toBe(
      "Invalid params for tools/call: name: a tool name of 60,000 characters; this server's tools have names of a few words (notebooks-list, notebooks-create…): call tools/list to see them.",
    );
    const uri = await call({ method: "resources/read", params: { uri: `posthog://notebooks/${long}` } });
    expect(uri.answer.error?.code).toBe(-32602);
    expect(uri.raw.length).toBeLessThan(1_000);
    const keys = Object.fromEntries(
      Array.from({ length: 90 }, (_, i) => [`${i}${long.slice(0, 10 + i)}`, 1]),
    );
    const args = await call({
      method: "tools/call",
      params: { name: "notebooks-list", arguments: { [long]: 1, ...keys } },
    });
    expect(args.answer.result?.isError).toBe(true);
    const text = args.answer.result?.content?.[0]?.text ?? "";
    expect(text).toMatch(
      /^Invalid arguments for notebooks-list: notebooks-list takes no arguments named "n{39}…", "0n{10}", /,
    );
    expect(text).toContain("and 86 more (it takes");
    expect(text.length).toBeLessThan(2_000);
  });
});
