/** The top-level fields of a JSON object found in its bytes agree with JSON.parse, whatever they hold. */
import fc from "fast-check";
import { expect, it } from "vitest";
import { topLevelFields } from "../../src/json-fields.js";

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
