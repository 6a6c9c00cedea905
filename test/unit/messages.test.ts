/**
 * The hand-written message checks say what the SDK's zod schemas say, on generated messages: arbitrary
 * JSON, and messages built from the right keys with right and wrong values (ids, versions, params,
 * `_meta`, results, errors), which is where a difference would hide.
 */
import {
  CallToolRequestParamsSchema,
  JSONRPCMessageSchema,
  RELATED_TASK_META_KEY,
} from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isJsonRpcMessage, isPlainToolCallParams } from "../../src/server/messages.js";

const RUNS = 20_000;

/** Values that sit on the edges of what the schemas accept. */
const edgy = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    true,
    0,
    -1,
    1.5,
    2 ** 53,
    2 ** 53 - 1,
    -(2 ** 53) + 1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    "",
    "2.0",
    "2",
    "tools/call",
    "notifications/cancelled",
    [],
    [1],
    {},
  ),
  fc.integer(),
  fc.string({ maxLength: 8 }),
);

const meta = fc.oneof(
  edgy,
  fc.record(
    {
      progressToken: edgy,
      [RELATED_TASK_META_KEY]: fc.oneof(edgy, fc.record({ taskId: edgy }, { requiredKeys: [] })),
      other: edgy,
    },
    { requiredKeys: [] },
  ),
);

const params = fc.oneof(
  edgy,
  fc.record(
    {
      _meta: meta,
      name: edgy,
      arguments: fc.oneof(edgy, fc.dictionary(fc.string({ maxLength: 4 }), edgy, { maxKeys: 3 })),
      task: fc.oneof(edgy, fc.record({ ttl: edgy }, { requiredKeys: [] })),
      cursor: edgy,
    },
    { requiredKeys: [] },
  ),
);

/** A message from the keys JSON-RPC and MCP use, each present or not, right or wrong. */
const messageLike = fc.record(
  {
    jsonrpc: fc.oneof({ arbitrary: fc.constant("2.0"), weight: 5 }, edgy),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), { arbitrary: edgy, weight: 2 }),
    method: fc.oneof(fc.constantFrom("tools/call", "initialize", "notifications/initialized"), edgy),
    params,
    result: fc.oneof(edgy, fc.record({ _meta: meta, tools: edgy }, { requiredKeys: [] })),
    error: fc.oneof(
      edgy,
      fc.record({ code: edgy, message: edgy, data: edgy, extra: edgy }, { requiredKeys: [] }),
    ),
    extra: edgy,
  },
  { requiredKeys: [] },
);

describe("isJsonRpcMessage", () => {
  it("agrees with JSONRPCMessageSchema on messages built from JSON-RPC's keys", () => {
    fc.assert(
      fc.property(messageLike, (message) => {
        expect(isJsonRpcMessage(message)).toBe(JSONRPCMessageSchema.safeParse(message).success);
      }),
      { numRuns: RUNS, seed: 6 },
    );
  });

  it("agrees with JSONRPCMessageSchema on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        expect(isJsonRpcMessage(value)).toBe(JSONRPCMessageSchema.safeParse(value).success);
      }),
      { numRuns: RUNS / 4, seed: 7 },
    );
  });

  it("takes the messages a client sends", () => {
    const ok = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18" } },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: "a", method: "tools/call", params: { name: "x", _meta: { progressToken: 3 } } },
      { jsonrpc: "2.0", id: 7, result: {} },
      { jsonrpc: "2.0", id: 7, error: { code: -32601, message: "Method not found" } },
      { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" } },
    ];
    for (const message of ok) expect(isJsonRpcMessage(message), JSON.stringify(message)).toBe(true);
    const bad = [
      { jsonrpc: "1.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", id: 1.5, method: "ping" },
      { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } },
      { jsonrpc: "2.0", id: 1, method: "ping", params: [] },
      { jsonrpc: "2.0", id: 1, method: "ping", extra: true },
      { jsonrpc: "2.0", id: 1, result: {}, error: { code: 1, message: "x" } },
    ];
    for (const message of bad) expect(isJsonRpcMessage(message), JSON.stringify(message)).toBe(false);
  });
});

describe("isPlainToolCallParams", () => {
  it("agrees with CallToolRequestParamsSchema, leaving calls that ask for a task to the SDK", () => {
    fc.assert(
      fc.property(params, (value) => {
        const zod = CallToolRequestParamsSchema.safeParse(value);
        const plain = zod.success && zod.data.task === undefined;
        expect(isPlainToolCallParams(value)).toBe(plain);
      }),
      { numRuns: RUNS, seed: 8 },
    );
  });
});
