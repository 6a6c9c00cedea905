/**
 * The top-level fields of a JSON object found in its bytes agree with JSON.parse, whatever they
 * hold; so does a value found along a path in JSON text, and a message whose `content` argument is
 * rewritten as its JSON text reads as the same message.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_REQUEST_DEPTH,
  parseWithContentAsText,
  RequestShapeError,
  topLevelFields,
  valueAt,
} from "../../src/json-fields.js";
import { WORKER_THRESHOLD } from "../../src/notebooks/worker-pool.js";

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function fieldsOf(text: string): Record<string, unknown> | undefined {
  const bytes = encode(text);
  const spans = topLevelFields(bytes);
  if (!spans) return undefined;
  // (As entries: a field named `__proto__` stays a field, as JSON.parse makes it.)
  return Object.fromEntries(
    [...spans].map(([name, span]) => [name, JSON.parse(decode(bytes.subarray(span.start, span.end)))]),
  );
}

it("finds each field of generated objects, as written compactly or spaced", () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
      expect(fieldsOf(JSON.stringify(object))).toEqual(JSON.parse(JSON.stringify(object)));
      expect(fieldsOf(JSON.stringify(object, null, 2))).toEqual(JSON.parse(JSON.stringify(object)));
    }),
    { numRuns: 300 },
  );
});

it("keeps a field named __proto__ as a field", () => {
  expect(fieldsOf('{"__proto__":{"a":1},"b":2}')).toEqual(JSON.parse('{"__proto__":{"a":1},"b":2}'));
});

it("is not fooled by quotes, backslashes and brackets inside strings", () => {
  const object = {
    a: 'he said "}" and \\',
    'k"ey': ["[", "]", "{", '\\\\"'],
    c: { d: '\u00e9\u{1F600}\\"' },
    e: -1.5e3,
    f: null,
  };
  expect(fieldsOf(JSON.stringify(object))).toEqual(object);
});

it("says when the bytes are not an object", () => {
  for (const text of ["[1]", '"x"', "{", '{"a" 1}', '{"a":1', '{"a":"x}']) {
    expect(fieldsOf(text)).toBeUndefined();
  }
});

it("takes a value expected at its field when the bytes there are the same, and reads through otherwise", () => {
  const content = { type: "doc", content: [{ type: "text", text: 'a "quoted" }' }] };
  const text = JSON.stringify({ title: "T", content, version: 3 });
  const bytes = encode(text);
  const same = encode(JSON.stringify(content));
  const other = encode(JSON.stringify({ ...content, type: "dox" }));
  const longer = encode(`${JSON.stringify(content)}, "x": 1`);
  for (const expected of [same, other, longer]) {
    const spans = topLevelFields(bytes, new Map([["content", expected]]));
    const span = spans?.get("content");
    expect(span && JSON.parse(decode(bytes.subarray(span.start, span.end)))).toEqual(content);
    expect(spans?.get("version")).toBeDefined();
  }
});

/** A tools/call message around `content`, with generated fields before and after at each level. */
const message = fc.record({
  before: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  after: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  content: fc.dictionary(fc.string(), fc.jsonValue()),
  indent: fc.constantFrom(0, 1, 2, "\t"),
});

function shaped({ before, after, content }: { before: object; after: object; content: object }) {
  const clean = (o: object) =>
    Object.fromEntries(Object.entries(o).filter(([k]) => !["params", "arguments", "content"].includes(k)));
  return {
    ...clean(before),
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: {
      ...clean(before),
      name: "notebooks-create",
      arguments: { ...clean(before), title: "T", content, ...clean(after) },
      ...clean(after),
    },
    ...clean(after),
  };
}

it("finds the value along a path as JSON.parse reads it, however the text is spaced", () => {
  fc.assert(
    fc.property(message, (m) => {
      const text = JSON.stringify(shaped(m), null, m.indent);
      const span = valueAt(text, ["params", "arguments", "content"]);
      expect(span).toBeDefined();
      const { start, end } = span as { start: number; end: number };
      expect(JSON.parse(text.slice(start, end))).toEqual(JSON.parse(JSON.stringify(m.content)));
    }),
    { numRuns: 300 },
  );
});

it("finds nothing where the path does not lead, or the text is not an object's shape", () => {
  const path = ["params", "arguments", "content"];
  expect(valueAt('{"params":{"arguments":{"markdown":"x"}}}', path)).toBeUndefined();
  expect(valueAt('{"params":[{"arguments":{"content":{}}}]}', path)).toBeUndefined();
  expect(valueAt('{"params":{"arguments":{"content":', path)).toBeUndefined();
  expect(valueAt("[1,2]", path)).toBeUndefined();
  // A key is read as JSON reads it (escapes and all), and the first of the name is followed.
  const escaped =
    '{"par\\u0061ms":{"arguments":{"content":{"a":"\\"}"}}},"params":{"arguments":{"content":1}}}';
  const span = valueAt(escaped, path) as { start: number; end: number };
  expect(JSON.parse(escaped.slice(span.start, span.end))).toEqual({ a: '"}' });
});

it("a message parsed with its content argument left as JSON text reads as the same message", () => {
  fc.assert(
    fc.property(message, (m) => {
      const text = JSON.stringify(shaped(m), null, m.indent);
      const original = JSON.parse(text) as { params: { arguments: { content: unknown } } };
      const parsed = parseWithContentAsText(text, 0) as { params: { arguments: { content: unknown } } };
      const sent = parsed.params.arguments.content;
      expect(typeof sent).toBe("string");
      expect(JSON.parse(sent as string)).toEqual(original.params.arguments.content);
      parsed.params.arguments.content = original.params.arguments.content;
      expect(parsed).toEqual(original);
    }),
    { numRuns: 300 },
  );
});

it("parses a message whole when it is short, its content is not an object, or it has none", () => {
  const call = (content: unknown) =>
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { arguments: { content } } });
  const long = call({ type: "doc", content: [{ type: "text", text: "x".repeat(100) }] });
  expect(parseWithContentAsText(long, long.length + 1)).toEqual(JSON.parse(long));
  expect(parseWithContentAsText(long, long.length)).not.toEqual(JSON.parse(long));
  for (const other of [call("{}"), call([1]), call(null), '{"method":"ping"}']) {
    expect(parseWithContentAsText(other, 0)).toEqual(JSON.parse(other));
  }
  expect(() => parseWithContentAsText("not json", 0)).toThrow(SyntaxError);
  expect(() => parseWithContentAsText('{"params":{"arguments":{"content":{}}},', 0)).toThrow(SyntaxError);
});

it("when a field is given twice, the later one counts, as JSON.parse has it", () => {
  for (const text of [
    '{"params":{"arguments":{"content":{"a":1}}},"params":{"arguments":{"content":{"b":2}}}}',
    '{"params":{"arguments":{"content":{"a":1},"content":{"b":2}}}}',
    '{"params":{"arguments":{"content":{"a":1}},"arguments":{"content":[2]}}}',
  ]) {
    const parsed = parseWithContentAsText(text, 0) as { params: { arguments: { content: unknown } } };
    const content = parsed.params.arguments.content;
    expect(typeof content === "string" ? JSON.parse(content) : content).toEqual(
      (JSON.parse(text) as typeof parsed).params.arguments.content,
    );
  }
});

describe("a request's shape is bounded before it is parsed", () => {
  const shapeError = (text: string) => {
    try {
      parseWithContentAsText(text, WORKER_THRESHOLD);
    } catch (error) {
      return error instanceof RequestShapeError ? error.message : `other: ${(error as Error).message}`;
    }
    return undefined;
  };

  it("refuses a message nested past the bound, and takes one just within it", () => {
    const nested = (levels: number) =>
      `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":${"[".repeat(levels)}${"]".repeat(levels)}}}`;
    expect(shapeError(nested(MAX_REQUEST_DEPTH - 2))).toBeUndefined();
    expect(shapeError(nested(MAX_REQUEST_DEPTH))).toMatch(
      /^Invalid Request: the message nests more than 1000 levels deep\./,
    );
    // Two million levels: refused by the count, not parsed (nor overflowing anything).
    expect(shapeError(nested(2_000_000))).toMatch(/nests more than 1000 levels/);
  });

  it("refuses a message holding more values than the bound, wherever they are", () => {
    const zeros = (n: number) => `[${Array(n).fill(0).join(",")}]`;
    const meta = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(",")}}`;
    expect(shapeError(`{"params":{"arguments":{"title":${zeros(900)}}}}`)).toBeUndefined();
    expect(shapeError(`{"params":{"arguments":{"title":${zeros(20_000)}}}}`)).toMatch(
      /^Invalid Request: the message holds more than 2,000 values/,
    );
    expect(shapeError(`{"params":{"_meta":${meta(300_000)},"name":"x"}}`)).toMatch(/more than 2,000 values/);
    // Commas and brackets inside strings are not values.
    expect(
      shapeError(`{"params":{"arguments":{"markdown":${JSON.stringify(",[{".repeat(100_000))}}}}`),
    ).toBeUndefined();
  });

  it("does not count the document left as text, and counts one given twice in its place", () => {
    const doc = JSON.stringify({ type: "doc", content: Array(20_000).fill({ type: "paragraph" }) });
    const call = `{"params":{"arguments":{"content":${doc}}}}`;
    expect(shapeError(call)).toBeUndefined();
    expect(
      typeof (
        parseWithContentAsText(call, WORKER_THRESHOLD) as { params: { arguments: { content: unknown } } }
      ).params.arguments.content,
    ).toBe("string");
    // A second document after the first: JSON.parse reads the second, so it is counted.
    expect(shapeError(`{"params":{"arguments":{"content":${doc},"content":${doc}}}}`)).toMatch(
      /more than 2,000 values/,
    );
    // A document nested past the bound is left to its worker (which refuses it in words).
    const deep = `${'{"content":['.repeat(800)}{}${"]}".repeat(800)}`;
    const title = "x".repeat(40_000);
    expect(shapeError(`{"params":{"arguments":{"content":${deep},"title":"${title}"}}}`)).toBeUndefined();
  });
});

describe("the walk to a document is bounded as the request is", () => {
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":0`).join(",");

  it("looks through no object of more fields than a request may hold values", () => {
    const path = ["params", "arguments", "content"];
    const within = `{${keys(900)},"params":{"arguments":{"content":{"a":1}}}}`;
    expect(valueAt(within, path)).toBeDefined();
    // Past the bound the walk gives up (the whole is then counted, and refused).
    for (const text of [
      `{${keys(20_000)},"params":{"arguments":{"content":{"a":1}}}}`,
      `{"params":{${keys(20_000)},"arguments":{"content":{"a":1}}}}`,
      `{"params":{"arguments":{${keys(20_000)},"content":{"a":1}}}}`,
      `{"params":{"arguments":{${'"k":0,'.repeat(20_000)}"content":{"a":1}}}}`,
    ]) {
      expect(valueAt(text, path)).toBeUndefined();
      expect(() => parseWithContentAsText(text.padEnd(WORKER_THRESHOLD), WORKER_THRESHOLD)).toThrow(
        RequestShapeError,
      );
    }
  });
});
