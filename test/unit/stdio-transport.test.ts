/**
 * The stdio transport's framing: however the bytes arrive (several lines in a chunk, a line split at
 * any byte, CRLF endings, blank lines), each message is delivered once and whole, and garbage is
 * answered without disturbing the lines around it.
 */
import { PassThrough } from "node:stream";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { StdioLineTransport } from "../../src/server/stdio-transport.js";

async function feed(chunks: Buffer[]): Promise<{ received: JSONRPCMessage[]; answered: unknown[] }> {
  const input = new PassThrough();
  const output = new PassThrough();
  const transport = new StdioLineTransport(input, output);
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => void received.push(message);
  await transport.start();
  for (const chunk of chunks) input.write(chunk);
  await new Promise((resolve) => setImmediate(resolve));
  await transport.close();
  const answered = output
    .read()
    ?.toString("utf8")
    .split("\n")
    .filter(Boolean)
    .map((line: string) => JSON.parse(line));
  return { received, answered: answered ?? [] };
}

const messages = [
  {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "notebooks-retrieve", arguments: { short_id: "a" } },
  },
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", id: "two", method: "tools/list", params: { cursor: "é ✓ 中文" } },
];
const stream = Buffer.from(
  `${JSON.stringify(messages[0])}\r\n\n   \n${JSON.stringify(messages[1])}\n${JSON.stringify(messages[2])}\n`,
);

describe("StdioLineTransport framing", () => {
  it("delivers every message once, from one chunk, with CRLF and blank lines skipped", async () => {
    const { received, answered } = await feed([stream]);
    expect(received).toEqual(messages);
    expect(answered).toEqual([]);
  });

  it("delivers the same whatever byte the stream is split at (multi-byte characters included)", async () => {
    for (let at = 1; at < stream.length; at++) {
      const { received, answered } = await feed([stream.subarray(0, at), stream.subarray(at)]);
      expect(received, `split at byte ${at}`).toEqual(messages);
      expect(answered).toEqual([]);
    }
  });

  it("delivers the same one byte at a time", async () => {
    const bytes = Array.from(stream, (byte) => Buffer.from([byte]));
    expect((await feed(bytes)).received).toEqual(messages);
  });

  it("answers garbage between good lines, and keeps serving the good ones", async () => {
    const { received, answered } = await feed([
      Buffer.from(`not json\n${JSON.stringify(messages[1])}\n{"jsonrpc":"2.0","id":3}\n`),
    ]);
    expect(received).toEqual([messages[1]]);
    expect(answered).toMatchObject([
      { id: null, error: { code: -32700 } },
      { id: 3, error: { code: -32600 } },
    ]);
  });

  it("answers a line nested past any MCP message's need without parsing it, by its id, and a long document as text", async () => {
    const deep = `{"jsonrpc":"2.0","id":4,"method":"ping","params":{"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`;
    const doc = { type: "doc", content: Array(5_000).fill({ type: "paragraph" }) };
    const call = {
      jsonrpc: "2.0",
      id: 5,
      method: "tools/call",
      params: { name: "notebooks-create", arguments: { content: doc } },
    };
    // Its id after the part nested too deep: still found, and answered with.
    const idAfter = `{"jsonrpc":"2.0","method":"ping","params":{"x":${"[".repeat(100_000)}${"]".repeat(100_000)}},"id":"after"}`;
    const longId = JSON.stringify({ jsonrpc: "2.0", id: "i".repeat(5_000), method: "ping" });
    const { received, answered } = await feed([
      Buffer.from(`${deep}\n${idAfter}\n${longId}\n${JSON.stringify(call)}\n`),
    ]);
    expect(answered).toMatchObject([
      {
        id: 4,
        error: { code: -32600, message: expect.stringMatching(/nests more than 1000 levels deep/) },
      },
      {
        id: "after",
        error: { code: -32600, message: expect.stringMatching(/nests more than 1000 levels deep/) },
      },
      {
        id: null,
        error: {
          code: -32600,
          message: expect.stringMatching(/^Invalid Request: an id of 5,000 characters/),
        },
      },
    ]);
    // The document reaches the server as its JSON text (parsed where it is converted).
    expect(received).toEqual([
      { ...call, params: { ...call.params, arguments: { content: JSON.stringify(doc) } } },
    ]);
  });
});
