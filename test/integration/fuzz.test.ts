/**
 * Property-based fuzzing of every tool's arguments (fast-check, fixed seeds): valid-looking values,
 * wrong types, unknown keys, path-injection attempts in every identifier, look-alike characters,
 * huge strings and nested junk. For every input: the dispatcher never throws, the result is
 * well-formed, an input that fails the tool's schema sends nothing upstream, and whatever is sent
 * stays on the notebook routes: no injected segment ever reaches a path.
 *
 * Most inputs go straight to the dispatcher (`callTool`) for speed; a few hundred go through the
 * SDK client, which also checks every structured result against the tool's output schema.
 */
import { CallToolRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { OPERATIONS } from "../../src/operations/index.js";
import { ProjectIdArg } from "../../src/operations/shared/args.js";
import type { RecordedRequest } from "../../src/sandbox/index.js";
import { callTool } from "../../src/server/tools.js";
import { type Harness, startHarness } from "../helpers/harness.js";

const DISPATCHER_RUNS = 10_000;
const CLIENT_RUNS = 1_000;

/** Every path this server may send: the notebook routes and the activity log, nothing else. */
const SAFE_PATH =
  /^\/api\/projects\/(@current|\d+)\/(notebooks\/([A-Za-z0-9]+\/)?(activity\/|access_controls\/|global_access_controls\/|recording_comments\/)?|activity_log\/)$/;

const TOOLS = OPERATIONS.map((op) => op.name);
const SCHEMAS = new Map(
  OPERATIONS.map((op) => [op.name, z.strictObject({ ...op.input, project_id: ProjectIdArg.optional() })]),
);

// ---------------------------------------------------------------------------------------------
// Values.

/** Strings that try to leave their path segment or query value, or look like ids but are not. */
const INJECTIONS = [
  "..",
  "../",
  "../../api/personal_api_keys",
  "/",
  "a/b",
  "abc/../def",
  "?",
  "abc?x=1",
  "abc?limit=1000",
  "#",
  "abc#frag",
  "%2F",
  "abc%2Fdef",
  "%2e%2e%2f",
  "..%2F..%2F",
  "%00",
  "abc%3Fx",
  " ",
  "abc def",
  " abc",
  "abc ",
  "\t",
  "abc\n",
  "abc\r\nX-Injected: 1",
  "\u0000",
  "abc\u0000",
  "ａｂｃ１２３", // fullwidth letters and digits
  "аbс", // Cyrillic а and с
  "abc\u200b", // zero-width space
  "\u2215", // division slash
  "\uff0f", // fullwidth solidus
  "．．／",
  "\u2024\u2024/", // one-dot leaders
  "abc\u202e", // right-to-left override
  "😀",
  "@current",
  "@current/../1",
  "@CURRENT",
  "１", // fullwidth digit
  "٣", // Arabic-Indic digit
  "0",
  "01",
  "-1",
  "1.5",
  "1e3",
  "0x10",
  "NaN",
  "Infinity",
  "",
  "x".repeat(33),
  "9".repeat(17),
];

const alnum = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".split(""));

const injection = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc
    .tuple(
      fc.string({ unit: alnum, maxLength: 6 }),
      fc.constantFrom(...INJECTIONS),
      fc.string({ unit: alnum, maxLength: 6 }),
    )
    .map(([a, b, c]) => a + b + c),
  fc.string({ maxLength: 12, unit: "grapheme" }),
);

/** Anything at all, JSON-like or not (undefined, NaN, -0, deep nesting, arrays, null). */
const junk = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ maxDepth: 3, maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, [], {}, "", 0, -1, true, Number.NaN, 1e300) },
  { weight: 1, arbitrary: fc.constant("x".repeat(20_000)) },
  { weight: 1, arbitrary: fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 5 }) },
);

const KNOWN_IDS = Array.from({ length: 8 }, (_, i) => `fuzz000${i}`);

// Each field has strictly valid values (`ok`) and values meant to be refused (`bad`); the oracle,
// not the generator, decides what is valid in the end.

const shortIdOk = fc.oneof(
  fc.constantFrom(...KNOWN_IDS),
  fc.string({ unit: alnum, minLength: 1, maxLength: 32 }),
);
const shortIdBad = fc.oneof({ weight: 4, arbitrary: injection }, { weight: 1, arbitrary: junk });

const projectIdOk = fc.oneof(
  fc.constantFrom<unknown>(1, 2, "1", "2", "@current"),
  fc.integer({ min: 1, max: 2 ** 40 }),
);
const projectIdBad = fc.oneof(
  fc.constantFrom<unknown>(
    0,
    -1,
    1.5,
    2 ** 53,
    Number.NaN,
    "01",
    "1/2",
    "1?x=1",
    "1#",
    "1%2F2",
    " 1",
    "１",
    "@current/",
  ),
  injection,
  junk,
);

const recordingIdOk = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/),
  fc.uuid().map(String),
  fc.constantFrom("..", "."),
);
const recordingIdBad = fc.oneof(
  fc.constantFrom("../x", "a/b", "a?b", "a#b", "a&b=c", "a%2Fb", "a b", "ａ", "x".repeat(201)),
  injection,
  junk,
);

const docOk = fc.oneof(
  fc.constant({ type: "doc", content: [{ type: "paragraph", content: [{ type: "text", text: "fuzz" }] }] }),
  fc.record({
    type: fc.string({ maxLength: 10 }),
    content: fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }),
  }),
);
// Some clients send the document as a JSON string: accepted and parsed.
const contentOk = fc.oneof(
  docOk,
  docOk.map((d) => JSON.stringify(d)),
  fc.constant(null),
);
const contentBad = fc.oneof(
  fc.constantFrom<unknown>("not json", "[1,2]", '"doc"', "{", "null", "", [], 42, { content: [] }),
  junk,
);

const str = (max: number) =>
  fc.oneof(fc.string({ maxLength: Math.min(max, 40) }), fc.string({ maxLength: max }));
const strBad = (max: number) => fc.oneof(fc.constant("y".repeat(max + 1)), junk);
const int = (min: number, max: number) => fc.integer({ min, max });
const intBad = (min: number, max: number) =>
  fc.oneof(
    fc.constantFrom<unknown>(min - 1, max + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "1", null),
    junk,
  );

interface Field {
  ok: fc.Arbitrary<unknown>;
  bad: fc.Arbitrary<unknown>;
  required?: boolean;
}

const SHORT_ID: Field = { ok: shortIdOk, bad: shortIdBad, required: true };
const PROJECT_ID: Field = { ok: projectIdOk, bad: projectIdBad };

const FIELDS: Record<string, Record<string, Field>> = {
  "notebooks-list": {
    search: { ok: str(500), bad: strBad(500) },
    contains: {
      ok: fc.oneof(
        fc.constantFrom("recording:abc", "query:xyz", "recording:false", "feature-flag:42"),
        str(60),
      ),
      bad: strBad(1000),
    },
    created_by: { ok: fc.uuid(), bad: fc.oneof(fc.constantFrom("not-a-uuid", "../x"), junk) },
    user: { ok: fc.boolean(), bad: fc.oneof(fc.constantFrom<unknown>("true", 1, "yes"), junk) },
    date_from: {
      ok: fc.constantFrom("-7d", "-24h", "-2w", "2024-01-01", "2024-01-01T00:00:00Z", "-1y", "garbage"),
      bad: strBad(64),
    },
    date_to: { ok: fc.constantFrom("-1d", "2030-01-01", "nope"), bad: strBad(64) },
    order: {
      ok: fc.constantFrom("title", "-created_at", "-last_modified_at", "unknown_field"),
      bad: fc.oneof(fc.constantFrom("-", "title;drop", "Title", "a,b", "title&x=1"), junk),
    },
    limit: { ok: int(1, 500), bad: intBad(1, 500) },
    offset: { ok: int(0, 2_000), bad: intBad(0, 2_000) },
  },
  "notebooks-create": {
    title: { ok: fc.oneof(str(256), fc.constant(null)), bad: strBad(256) },
    content: { ok: contentOk, bad: contentBad },
    text_content: { ok: fc.oneof(str(200), fc.constant(null)), bad: junk },
  },
  "notebooks-retrieve": { short_id: SHORT_ID },
  "notebooks-partial-update": {
    short_id: SHORT_ID,
    title: { ok: fc.oneof(str(256), fc.constant(null)), bad: strBad(256) },
    content: { ok: contentOk, bad: contentBad },
    text_content: { ok: fc.oneof(str(200), fc.constant(null)), bad: junk },
    version: { ok: int(0, 3), bad: intBad(0, 3) },
    deleted: { ok: fc.boolean(), bad: fc.oneof(fc.constantFrom<unknown>("false", 0), junk) },
  },
  "notebooks-destroy": { short_id: SHORT_ID },
  "notebooks-activity-retrieve": {
    short_id: SHORT_ID,
    limit: { ok: int(1, 100), bad: intBad(1, 100) },
    page: { ok: int(1, 4), bad: intBad(1, 4) },
  },
  "notebooks-all-activity-retrieve": {
    limit: { ok: int(1, 100), bad: intBad(1, 100) },
    page: { ok: int(1, 4), bad: intBad(1, 4) },
    cursor: {
      ok: fc.oneof(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
        fc.constant(Buffer.from(JSON.stringify([null, 3])).toString("base64url")),
      ),
      bad: fc.oneof(injection, junk),
    },
  },
  "notebooks-recording-comments-retrieve": {
    recording_id: { ok: recordingIdOk, bad: recordingIdBad, required: true },
  },
  "notebooks-access-controls-retrieve": { short_id: SHORT_ID },
  "notebooks-global-access-controls-retrieve": { short_id: SHORT_ID },
};

const unknownKey = fc.oneof(
  fc.constantFrom(
    "shortId",
    "id",
    "projectId",
    "path",
    "url",
    "__proto__",
    "constructor",
    "toString",
    "Short_ID",
  ),
  fc.string({ minLength: 1, maxLength: 10 }),
);

/** Sets own properties, so that even "__proto__" becomes a key, as JSON.parse makes it. */
function withKeys(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * One tool's arguments, in one of five modes: all valid; valid but for one field; every field a
 * coin toss; valid plus an unknown key; not an object at all.
 */
function argsFor(tool: string): fc.Arbitrary<unknown> {
  const fields: Record<string, Field> = { ...FIELDS[tool], project_id: PROJECT_ID };
  const names = Object.keys(fields);
  const required = names.filter((n) => fields[n]?.required);
  const shape = (pick: (f: Field) => fc.Arbitrary<unknown>) =>
    fc.record(Object.fromEntries(names.map((n) => [n, pick(fields[n] as Field)])), {
      requiredKeys: required,
    });
  const valid = shape((f) => f.ok);
  const oneBad = fc
    .tuple(valid, fc.constantFrom(...names))
    .chain(([args, name]) => (fields[name] as Field).bad.map((value) => withKeys(args, { [name]: value })));
  const chaos = shape((f) => fc.oneof(f.ok, f.bad)).map((a) => a as Record<string, unknown>);
  const unknown = fc
    .tuple(valid, fc.dictionary(unknownKey, junk, { minKeys: 1, maxKeys: 2 }))
    .map(([args, extra]) => withKeys(args, extra));
  return fc.oneof(
    { weight: 8, arbitrary: valid },
    { weight: 6, arbitrary: oneBad },
    { weight: 3, arbitrary: chaos },
    { weight: 2, arbitrary: unknown },
    { weight: 1, arbitrary: junk }, // an array, null, a string…
  );
}

const call = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.constantFrom(...TOOLS).chain((tool) => fc.tuple(fc.constant(tool), argsFor(tool))),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.constantFrom("notebooks-delete", "../notebooks-list", "NOTEBOOKS-LIST"),
      ),
      junk,
    ),
  },
);

// ---------------------------------------------------------------------------------------------
// The oracle and the checks.

function validArgs(tool: string, args: unknown): boolean {
  const schema = SCHEMAS.get(tool);
  return schema?.safeParse(args ?? {}).success === true;
}

let h: Harness;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
const stats = { runs: 0, invalid: 0, injections: 0, sent: 0, requests: 0, successes: 0, viaClient: 0 };

/** An identifier holding something that could change a path or a query: a separator, an escape, space, non-ASCII. */
function injectionAttempt(args: unknown): boolean {
  if (!args || typeof args !== "object") return false;
  const record = args as Record<string, unknown>;
  return ["short_id", "project_id", "recording_id"].some((name) => {
    const value = record[name];
    return typeof value === "string" && /[/?#%&\s.]|[^\x20-\x7e]/.test(value);
  });
}

beforeAll(async () => {
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onRejection);
  h = await startHarness({ app: { rateLimits: false }, sandbox: { rateLimit: false } });
  await h.toolNames();
  for (let i = 0; i < 8; i++) {
    h.sandbox.insertNotebook({
      short_id: KNOWN_IDS[i] as string,
      title: `Fuzz ${i}`,
      content: { type: "doc", content: [{ type: "paragraph", content: [{ type: "text", text: `n${i}` }] }] },
      text_content: `n${i}`,
    });
  }
  h.sandbox.clearRequests();
});

afterAll(async () => {
  await h?.close();
  process.off("unhandledRejection", onRejection);
  process.off("uncaughtException", onRejection);
  // The numbers worth quoting: inputs, how many were invalid, how many carried an injection attempt.
  console.info(`fuzz: ${JSON.stringify(stats)}`);
});

/** Checks one result and the requests it caused; `args` is what the dispatcher received. */
function check(tool: string, args: unknown, result: CallToolResult, sent: RecordedRequest[]): void {
  stats.runs++;
  const first = result.content[0];
  expect(first?.type).toBe("text");
  const text = first?.type === "text" ? first.text : "";
  expect(text.length).toBeGreaterThan(0);
  expect(text).not.toContain(h.key);
  if (result.isError) {
    expect(result.structuredContent).toBeUndefined();
  } else {
    stats.successes++;
    expect(result.structuredContent).toBeTypeOf("object");
    expect(result.structuredContent).not.toBeNull();
  }
  if (injectionAttempt(args)) stats.injections++;
  if (!validArgs(tool, args)) {
    stats.invalid++;
    expect(result.isError, `accepted invalid arguments for ${tool}: ${text}`).toBe(true);
    expect(sent, `invalid arguments for ${tool} reached PostHog`).toEqual([]);
  }
  if (sent.length > 0) stats.sent++;
  stats.requests += sent.length;
  for (const request of sent) {
    expect(request.path, `${tool} ${JSON.stringify(args)?.slice(0, 300)}`).toMatch(SAFE_PATH);
    expect(request.headers.authorization).toBe(`Bearer ${h.key}`);
  }
}

function takeRequests(): RecordedRequest[] {
  const sent = h.sandbox.requests.filter((r) => !r.path.startsWith("/api/personal_api_keys/"));
  h.sandbox.clearRequests();
  return sent;
}

describe("fuzzing every tool's arguments", () => {
  it(`${DISPATCHER_RUNS} random argument sets through the dispatcher: no crash, nothing invalid sent, no injected path`, async () => {
    const signal = new AbortController().signal;
    await fc.assert(
      fc.asyncProperty(call, async ([tool, args]) => {
        const op = OPERATIONS.find((candidate) => candidate.name === tool);
        if (!op) {
          // An unknown tool never reaches the dispatcher: the SDK answers it (-32602), as MCP says.
          await expect(h.client.callTool({ name: tool, arguments: {} })).rejects.toMatchObject({
            code: -32602,
          });
          expect(takeRequests()).toEqual([]);
          return;
        }
        const result = (await callTool(
          h.app.session,
          op,
          args as Record<string, unknown> | undefined,
          signal,
        )) as CallToolResult;
        check(tool, args, result, takeRequests());
      }),
      { numRuns: DISPATCHER_RUNS, seed: 20_240_611, endOnFailure: true },
    );
    expect(rejections).toEqual([]);
  }, 600_000);

  it(`${CLIENT_RUNS} random argument sets through the SDK client: every result valid for its output schema`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TOOLS).chain((tool) => fc.tuple(fc.constant(tool), argsFor(tool))),
        async ([tool, args]) => {
          // What travels over JSON-RPC is JSON: undefined disappears, NaN becomes null.
          const wire = JSON.parse(JSON.stringify({ a: args ?? null })).a as unknown;
          if (wire === null || typeof wire !== "object" || Array.isArray(wire)) return; // the SDK refuses these itself
          stats.viaClient++;
          // The client validates structuredContent against the tool's outputSchema and throws if it does not fit.
          const result = (await h.client.callTool({
            name: tool,
            arguments: wire as Record<string, unknown>,
          })) as CallToolResult;
          // The oracle judges what the dispatcher receives: the SDK's own parse of the request
          // (which, for one, drops a "__proto__" key instead of passing it on as unknown).
          const received = CallToolRequestSchema.parse({
            method: "tools/call",
            params: { name: tool, arguments: wire },
          }).params.arguments;
          check(tool, received, result, takeRequests());
        },
      ),
      { numRuns: CLIENT_RUNS, seed: 7_357, endOnFailure: true },
    );
    expect(rejections).toEqual([]);
  }, 600_000);

  it("the server still answers afterwards", async () => {
    const result = (await h.client.callTool({ name: "notebooks-list", arguments: {} })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(rejections).toEqual([]);
  });
});
