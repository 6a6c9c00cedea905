/**
 * The compiled predicates of src/validation.ts against zod itself, on values generated from each
 * schema's own definition (right and wrong types, values at the bounds, patterns matched and not,
 * missing and unknown fields): for every argument schema of every tool and every PostHog payload
 * schema, a value the predicate vouches for is one zod accepts and gives back unchanged, and where
 * every part of a schema is compiled, the predicate says exactly what zod says.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { OPERATIONS, ProjectIdArg } from "../../src/operations.js";
import { ErrorEnvelopeSchema } from "../../src/posthog/errors.js";
import * as payloads from "../../src/posthog/schemas.js";
import { PersonalApiKeySchema } from "../../src/posthog/scopes.js";
import { compiled, safeParse } from "../../src/validation.js";

const RUNS = 2_500;

const edgy = fc.constantFrom<unknown>(
  undefined,
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "",
  "x",
  "@current",
  "123",
  [],
  [1],
  {},
);

interface Def {
  type: string;
  checks?: { _zod: { def: { check: string; pattern?: RegExp; maximum?: number; minimum?: number } } }[];
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  valueType?: z.ZodType;
  in?: z.ZodType;
}

/** Values for a schema, right and wrong, generated from its definition. */
function values(schema: z.ZodType): fc.Arbitrary<unknown> {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  // Mostly values of the right kind (so that whole objects are often valid), some edge values.
  const of = (...arbs: fc.Arbitrary<unknown>[]) =>
    fc.oneof({ arbitrary: fc.oneof(...arbs), weight: 4 }, { arbitrary: edgy, weight: 1 });
  switch (def.type) {
    case "string": {
      const pattern = (def as { pattern?: RegExp }).pattern ?? checks.find((c) => c.pattern)?.pattern;
      const max = checks.find((c) => c.maximum !== undefined)?.maximum;
      return of(
        fc.string({ maxLength: 6 }),
        ...(pattern ? [fc.stringMatching(pattern)] : []),
        ...(max !== undefined && max <= 1_000 ? [fc.string({ minLength: max - 1, maxLength: max + 1 })] : []),
      );
    }
    case "number":
      return of(
        fc.integer({ min: -3, max: 300 }),
        fc.double(),
        fc.constantFrom(0, -0, 99, 100, 101, 2 ** 53 - 1),
      );
    case "boolean":
      return of(fc.boolean());
    case "literal":
      return of(fc.constantFrom(...(def.values ?? [])));
    case "enum":
      return of(fc.constantFrom(...Object.values(def.entries ?? {})));
    case "optional":
    case "nullable":
    case "default":
      return of(values(def.innerType as z.ZodType));
    case "union":
      return fc.oneof(...(def.options ?? []).map(values), edgy);
    case "pipe":
      return values(def.in as z.ZodType);
    case "array":
      return of(fc.array(values(def.element as z.ZodType), { maxLength: 3 }));
    case "record":
      return of(
        fc.dictionary(fc.string({ maxLength: 4 }), values(def.valueType as z.ZodType), { maxKeys: 3 }),
      );
    case "object": {
      const shape = Object.fromEntries(Object.entries(def.shape ?? {}).map(([k, v]) => [k, values(v)]));
      return fc.oneof(
        { arbitrary: fc.record(shape, { requiredKeys: [] }), weight: 4 },
        { arbitrary: fc.record({ ...shape, unexpected: edgy }, { requiredKeys: [] }), weight: 1 },
        { arbitrary: edgy, weight: 1 },
      );
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const argumentSchemas = OPERATIONS.map(
  (op) => [op.name, z.strictObject({ ...op.input, project_id: ProjectIdArg.optional() })] as const,
);
const payloadSchemas = [
  ...Object.entries(payloads).filter(([name]) => name.endsWith("Schema")),
  ["ErrorEnvelopeSchema", ErrorEnvelopeSchema],
  ["PersonalApiKeySchema", PersonalApiKeySchema],
] as [string, z.ZodType][];

function agreesWithZod(schema: z.ZodType, value: unknown): void {
  const { check, exact } = compiled(schema);
  const vouched = check(value);
  const zod = schema.safeParse(value);
  if (vouched) {
    expect(zod.success, "vouched for a value zod refuses").toBe(true);
    // zod's output is the value itself, less fields the schema does not describe.
    expect(value).toMatchObject(zod.data as object);
  }
  // (An own "__proto__" is left out of what zod gives back, so such values are always zod's.)
  if (exact && !hasOwnProto(value)) expect(vouched, "an exact predicate differs from zod").toBe(zod.success);
}

function hasOwnProto(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Object.hasOwn(value, "__proto__")) return true;
  return Object.values(value).some(hasOwnProto);
}

describe("compiled predicates", () => {
  for (const [name, schema] of argumentSchemas) {
    it(`${name} arguments: vouch only for what zod accepts unchanged`, () => {
      fc.assert(
        fc.property(values(schema), (value) => agreesWithZod(schema, value)),
        { numRuns: RUNS, seed: 11 },
      );
    });
  }

  for (const op of OPERATIONS) {
    it(`${op.name}: each argument's predicate says exactly what zod says, where it is exact`, () => {
      for (const schema of Object.values(op.input) as z.ZodType[]) {
        fc.assert(
          fc.property(values(schema), (value) => agreesWithZod(schema, value)),
          { numRuns: RUNS / 10, seed: 13 },
        );
      }
    });
  }

  for (const [name, schema] of payloadSchemas) {
    it(`${name}: says exactly what zod says`, () => {
      expect(compiled(schema).exact, `${name} has a part the compiler does not know`).toBe(true);
      fc.assert(
        fc.property(values(schema), (value) => agreesWithZod(schema, value)),
        { numRuns: RUNS, seed: 12 },
      );
    });
  }

  describe("on schemas beyond this server's, vouch only for what zod accepts unchanged", () => {
    enum Numeric {
      A = 1,
      B = 2,
    }
    const cases: [string, z.ZodType, unknown[]][] = [
      ["a refined object", z.object({ a: z.string() }).refine((v) => v.a !== "x"), [{ a: "x" }, { a: "y" }]],
      ["a refined unknown", z.unknown().refine((v) => v !== 1), [1, 2]],
      ["a required unknown", z.object({ a: z.unknown() }), [{}, { a: undefined }, { a: 1 }]],
      ["a required undefined", z.object({ a: z.undefined() }), [{}, { a: undefined }]],
      ["a required nullable unknown", z.object({ a: z.unknown().nullable() }), [{}, { a: null }]],
      ["a union taking undefined", z.object({ a: z.union([z.string(), z.undefined()]) }), [{}, { a: "s" }]],
      ["an optional default", z.string().default("x").optional(), [undefined, "y"]],
      [
        "an object of optional defaults",
        z.object({ a: z.string().default("x").optional() }),
        [{}, { a: "y" }],
      ],
      ["a numeric TypeScript enum", z.enum(Numeric), ["A", 1, 2, "B", 3]],
      ["an exclusive union", z.xor([z.string(), z.string().max(3)]), ["ab", "abcdef", 1]],
      [
        "a discriminated union",
        z.discriminatedUnion("k", [
          z.object({ k: z.literal("a"), n: z.number() }),
          z.object({ k: z.literal("b"), s: z.string() }),
        ]),
        [
          { k: "a", n: 1 },
          { k: "a", s: "x" },
          { k: "b", s: "x" },
        ],
      ],
      [
        "a loose object",
        z.looseObject({ a: z.string() }),
        [JSON.parse('{"a":"x","__proto__":{"b":1}}'), { a: "x", b: 1 }],
      ],
      ["a record", z.record(z.string(), z.number()), [JSON.parse('{"__proto__":1}'), { a: 1 }, { a: "1" }]],
    ];
    for (const [name, schema, examples] of cases) {
      it(name, () => {
        for (const value of examples) agreesWithZod(schema, value);
        fc.assert(
          fc.property(values(schema), (value) => agreesWithZod(schema, value)),
          { numRuns: RUNS / 5, seed: 14 },
        );
      });
    }
  });

  it("vouch for typical arguments, and leave what needs zod's work to zod", () => {
    const retrieve = argumentSchemas.find(([name]) => name === "notebooks-retrieve")?.[1] as z.ZodType;
    expect(compiled(retrieve).check({ short_id: "aB3dE6gH" })).toBe(true);
    expect(compiled(retrieve).check({ short_id: "aB3dE6gH", project_id: 2 })).toBe(true);
    expect(compiled(retrieve).check({ short_id: "aB3dE6gH", project_id: "2" })).toBe(false); // a transform
    expect(safeParse(retrieve, { short_id: "aB3dE6gH", project_id: "2" })).toEqual({
      success: true,
      data: { short_id: "aB3dE6gH", project_id: 2 },
    });
    expect(compiled(retrieve).check({ short_id: "../x" })).toBe(false);
    expect(safeParse(retrieve, { short_id: "../x" }).success).toBe(false);
  });

  it("hand back the value itself when they vouch for it, and zod's answer otherwise", () => {
    const page = {
      count: 1,
      next: null,
      previous: null,
      results: [{ short_id: "abc", title: "T", extra: 1 }],
    };
    const parsed = safeParse(payloads.NotebookPageSchema, page);
    expect(parsed.success && parsed.data).toBe(page);
    const wrong = safeParse(payloads.NotebookPageSchema, { ...page, count: "1" });
    expect(wrong.success).toBe(false);
    expect(wrong.error?.issues[0]?.path).toEqual(["count"]);
  });
});
