/**
 * The stdio transport against the SDK's own verdict: messages generated from the shapes of MCP's
 * client messages, with extra members and wrong values mixed in, are delivered exactly when the
 * SDK's schemas accept them (the JSON-RPC message, and a known request's params), answered with a
 * JSON-RPC error otherwise, and the transport keeps serving either way.
 */
import { PassThrough } from "node:stream";
import { ClientNotificationSchema, ClientRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { type JSONRPCMessage, parseJSONRPCMessage } from "@modelcontextprotocol/server";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StdioLineTransport } from "../../src/server/stdio-transport.js";

const REQUEST_METHODS = ClientRequestSchema.options.map((schema) => schema.shape.method.value);
const NOTIFICATION_METHODS = ClientNotificationSchema.options.map((schema) => schema.shape.method.value);
const REQUESTS: ReadonlyMap<string, (typeof ClientRequestSchema.options)[number]> = new Map(
  ClientRequestSchema.options.map((schema) => [schema.shape.method.value, schema]),
);

/**
 * What the SDK says of a message: delivered, or answered with an error. The message by the SDK
 * v2's JSON-RPC parser; a request's params by the SDK v1's schemas, an oracle of its own.
 */
function sdkAccepts(message: unknown): boolean {
  try {
    parseJSONRPCMessage(message);
  } catch {
    return false;
  }
  const { id, method, params } = message as { id?: unknown; method?: unknown; params?: unknown };
  if (id === undefined || typeof method !== "string") return true;
  const schema = REQUESTS.get(method);
  return !schema || schema.safeParse({ method, params }).success;
}

const id = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(2 ** 53, -(2 ** 53), 1.5, null, true, Number.MAX_SAFE_INTEGER),
);
const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2),
);
const params = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(
    fc.constantFrom(
      "name",
      "arguments",
      "uri",
      "cursor",
      "_meta",
      "level",
      "ref",
      "argument",
      "protocolVersion",
      "capabilities",
      "clientInfo",
      "task",
      "progressToken",
      "x",
    ),
    fc.oneof(
      value,
      fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 3 }),
      fc.array(value, { maxLength: 2 }),
    ),
    { maxKeys: 5 },
  ),
  fc.array(value, { maxLength: 2 }),
  value,
  fc.record({
    _meta: fc.record({
      progressToken: fc.oneof(fc.integer(), fc.constantFrom(2 ** 53, 1.5), fc.string({ maxLength: 4 })),
    }),
  }),
);
const extras = fc.dictionary(fc.constantFrom("extra", "result", "error", "jsonrpc2", "__proto__x"), value, {
  maxKeys: 2,
});

/** Well-formed messages: requests with their params, notifications, responses and errors. */
const wellFormed = fc.oneof(
  fc.record({
    jsonrpc: fc.constant("2.0"),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 })),
    method: fc.constant("tools/call"),
    params: fc.record(
      {
        name: fc.string({ maxLength: 10 }),
        arguments: fc.dictionary(fc.string({ maxLength: 5 }), value, { maxKeys: 2 }),
      },
      { requiredKeys: ["name"] },
    ),
  }),
  fc.record({
    jsonrpc: fc.constant("2.0"),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 })),
    method: fc.constantFrom(
      "ping",
      "tools/list",
      "resources/list",
      "resources/templates/list",
      "prompts/list",
    ),
  }),
  fc.record({
    jsonrpc: fc.constant("2.0"),
    id: fc.integer(),
    method: fc.constantFrom("resources/read", "resources/subscribe", "resources/unsubscribe"),
    params: fc.record({ uri: fc.string({ maxLength: 20 }) }),
  }),
  fc.record({
    jsonrpc: fc.constant("2.0"),
    id: fc.integer(),
    method: fc.constant("logging/setLevel"),
    params: fc.record({ level: fc.constantFrom("debug", "info", "warning", "error") }),
  }),
  fc.record({
    jsonrpc: fc.constant("2.0"),
    method: fc.constantFrom(...NOTIFICATION_METHODS),
  }),
  fc.record({ jsonrpc: fc.constant("2.0"), id: fc.integer(), result: fc.constant({}) }),
  fc.record({
    jsonrpc: fc.constant("2.0"),
    id: fc.integer(),
    error: fc.record({ code: fc.integer(), message: fc.string({ maxLength: 8 }) }),
  }),
);

/** Shapes near the valid ones: anything in any member. */
const loose = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant("2.0"), fc.constant("1.0"), fc.constant(2)),
    id,
    method: fc.oneof(
      fc.constantFrom(...REQUEST_METHODS, ...NOTIFICATION_METHODS),
      fc.string({ maxLength: 10 }),
    ),
    params,
    result: fc.oneof(fc.dictionary(fc.string({ maxLength: 5 }), value, { maxKeys: 2 }), value),
    error: fc.oneof(
      fc.record({
        code: fc.oneof(fc.integer(), value),
        message: fc.oneof(fc.string({ maxLength: 6 }), value),
      }),
      value,
    ),
  },
  { requiredKeys: [] },
);

/** A well-formed message with one member replaced by anything, or extra members. */
const mutated = fc
  .tuple(wellFormed, loose, fc.constantFrom("jsonrpc", "id", "method", "params", "result", "error"))
  .map(([base, other, key]) => {
    const out: Record<string, unknown> = { ...base };
    if (key in other) out[key] = (other as Record<string, unknown>)[key];
    else delete out[key];
    return out;
  });

const message = fc
  .oneof(wellFormed, wellFormed, mutated, mutated, loose)
  .chain((m) => fc.oneof(fc.constant({}), extras).map((more) => ({ ...more, ...m })));

describe("StdioLineTransport holds to the SDK's schema", () => {
  it("delivers what the SDK accepts, answers what it rejects, and keeps serving", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const transport = new StdioLineTransport(input, output);
    const received: JSONRPCMessage[] = [];
    transport.onmessage = (m) => void received.push(m);
    await transport.start();
    let accepted = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const line = JSON.stringify(m);
        received.length = 0;
        output.read();
        input.write(`${line}\n`);
        // A ping after it: the transport still serves.
        input.write('{"jsonrpc":"2.0","id":"after","method":"ping"}\n');
        await new Promise((resolve) => setImmediate(resolve));
        const answers = (output.read()?.toString("utf8") ?? "")
          .split("\n")
          .filter(Boolean)
          .map((text: string) => JSON.parse(text) as { id: unknown; error?: { code: number } });
        const wire = JSON.parse(line) as unknown;
        const ok = sdkAccepts(wire);
        if (ok) accepted++;
        else rejected++;
        expect(received.length, `${line} → ${ok ? "accepted" : "rejected"} by the SDK`).toBe(ok ? 2 : 1);
        expect(answers.length, line).toBe(ok ? 0 : 1);
        if (!ok) expect([-32600, -32602]).toContain(answers[0]?.error?.code);
        expect(received.at(-1)).toEqual({ jsonrpc: "2.0", id: "after", method: "ping" });
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 3_000), seed: Number(process.env.FC_SEED ?? 20_261_201) },
    );
    await transport.close();
    console.info(`transport vs SDK schema: ${accepted} accepted, ${rejected} rejected`);
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});
