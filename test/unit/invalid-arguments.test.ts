/**
 * What a refusal shows of a value the agent sent: the start of its JSON, written only that far. On
 * values nobody chose (fast-check), the shown start is the start of the value's whole JSON; and an
 * array of megabytes is shown without being written out.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { jsonStart, protoKeyPaths } from "../../src/invalid-arguments.js";

it("shows the start of a value's JSON, as JSON.stringify writes it, for any JSON value", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 60 }), (value, room) => {
      const whole = JSON.stringify(value);
      const shown = jsonStart(value, room);
      const compared = Math.min(room, whole.length);
      expect(shown.slice(0, compared)).toBe(whole.slice(0, compared));
      // Written whole when short enough; cut a little past `room` otherwise.
      if (whole.length <= room) expect(shown).toBe(whole);
    }),
    { numRuns: 2_000 },
  );
});

it("writes no more of a huge value than its start", () => {
  const huge = Array.from({ length: 10_000 }, () => "s".repeat(400));
  const nested = { a: huge, b: { c: huge } };
  expect(jsonStart(huge, 40).length).toBeLessThan(100);
  expect(jsonStart(nested, 40).length).toBeLessThan(100);
  expect(jsonStart(huge, 40).startsWith(`["${"s".repeat(38)}`)).toBe(true);
});

/** Where `args` hold a `__proto__` key, written out the plain way (every path built as it goes). */
function referencePaths(args: unknown, most = 3): string[] {
  const found: string[] = [];
  const stack: Array<[unknown, string]> = [[args, ""]];
  while (stack.length > 0 && found.length < most) {
    const [value, path] = stack.pop() as [unknown, string];
    if (value === null || typeof value !== "object") continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}[${i}]`]);
      continue;
    }
    const at = (key: string) => (path ? `${path}.${key}` : key);
    if (Object.hasOwn(value, "__proto__")) found.push(at("__proto__"));
    for (const key of Object.keys(value).reverse()) {
      if (key !== "__proto__") stack.push([(value as Record<string, unknown>)[key], at(key)]);
    }
  }
  return found;
}

it("finds __proto__ keys at the paths a plain walk names, in the same order, for any arguments", () => {
  // JSON text with __proto__ keys here and there, parsed as a transport parses it.
  const key = fc.constantFrom("__proto__", "a", "b", "content", "0");
  const json: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.constantFrom("1", '"x"', "null"),
      fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
      fc
        .array(fc.tuple(key, tie("value")), { maxLength: 4 })
        .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
    ),
  })).value;
  fc.assert(
    fc.property(json, fc.integer({ min: 1, max: 5 }), (text, most) => {
      const args = JSON.parse(text);
      expect(protoKeyPaths(args, most)).toEqual(referencePaths(args, most));
    }),
    { numRuns: 3_000 },
  );
});
