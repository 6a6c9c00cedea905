/**
 * zod schemas, checked fast. Every tool call validates its arguments and PostHog's answer, and on
 * the bench zod's general machinery was the largest part of what a call cost this server besides
 * the request itself. So each schema is also compiled once, from its own definition, into a plain
 * predicate that vouches for a value only when zod would accept it and give it back unchanged. A
 * value it vouches for is used as it is (an object with fields its schema does not describe keeps
 * them, where zod would leave them out of a copy: nothing here reads or passes on such fields);
 * anything else goes to zod itself, which parses it (transforms included) or explains what is
 * wrong. The kinds compiled are the ones this server writes: objects, strings with patterns and
 * lengths, numbers with bounds, booleans, enums, literals, unions, arrays, records, optional and
 * nullable values; a part of any other kind (a transform, a default, a refinement…) is never
 * vouched for. test/unit/validation.test.ts holds the predicates to exactly zod's verdicts on
 * generated values.
 */
import type { z } from "zod";
import { isRecord } from "./json.js";

type Check = (value: unknown) => boolean;

interface Compiled {
  check: Check;
  /** True when every part was compiled: the predicate then says exactly what zod says. */
  exact: boolean;
}

/** The parts of a zod definition read here (zod's own `_zod.def`). */
interface Def extends Partial<CheckDef> {
  type: string;
  checks?: { _zod: { def: CheckDef } }[];
  shape?: Record<string, Schema>;
  catchall?: Schema;
  element?: Schema;
  options?: Schema[];
  /** false for z.xor (exactly one option); a discriminated union names its discriminator. */
  inclusive?: boolean;
  discriminator?: string;
  innerType?: Schema;
  keyType?: Schema;
  valueType?: Schema;
}

interface CheckDef {
  check: string;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  maximum?: number;
  value?: number;
  inclusive?: boolean;
}

interface Schema {
  _zod: {
    def: Def;
    /** How the schema takes an absent value: "optional", "defaulted", or undefined (it must be there). */
    optin?: string;
    /** The values a literal or an enum takes (zod's own list, without a TypeScript enum's reverse names). */
    values?: Set<unknown>;
  };
}

const cache = new WeakMap<object, Compiled>();

/** `schema.safeParse(value)`, answered by the compiled predicate when it vouches for the value. */
export function safeParse<T>(schema: z.ZodType<T>, value: unknown): z.ZodSafeParseResult<T> {
  if (compiled(schema).check(value)) return { success: true, data: value as T };
  return schema.safeParse(value);
}

/** The compiled predicate of a schema (compiled on first use). */
export function compiled(schema: z.ZodType): Compiled {
  let entry = cache.get(schema);
  if (!entry) {
    entry = compile(schema as unknown as Schema);
    cache.set(schema, entry);
  }
  return entry;
}

const OPAQUE: Compiled = { check: () => false, exact: false };
const exactly = (check: Check): Compiled => ({ check, exact: true });

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!isRecord(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Types whose checks are compiled with them; on any other type, a check is a refinement. */
const CHECKED_TYPES = new Set(["string", "number", "boolean", "array"]);

function compile(schema: Schema): Compiled {
  const def = schema._zod.def;
  if (def.checks?.length && !CHECKED_TYPES.has(def.type)) return OPAQUE;
  switch (def.type) {
    case "unknown":
    case "any":
      return exactly(() => true);
    case "never":
      return exactly(() => false);
    case "null":
      return exactly((v) => v === null);
    case "undefined":
      return exactly((v) => v === undefined);
    case "boolean":
      return withChecks(def, (v) => typeof v === "boolean");
    case "string":
      return withChecks(def, (v) => typeof v === "string");
    case "number":
      return withChecks(def, (v) => typeof v === "number" && Number.isFinite(v));
    case "literal":
    case "enum": {
      const values = schema._zod.values;
      return values ? exactly((v) => values.has(v)) : OPAQUE;
    }
    case "optional":
    case "nullable": {
      if (!def.innerType) return OPAQUE;
      const inner = compile(def.innerType);
      // An absent value is the inner schema's to fill in when it has a default of its own.
      const innerIn = def.innerType._zod.optin;
      const empty = def.type === "optional" ? undefined : null;
      if (empty === undefined && innerIn !== undefined && innerIn !== "optional") {
        return { check: (v) => v !== undefined && inner.check(v), exact: false };
      }
      return { check: (v) => v === empty || inner.check(v), exact: inner.exact };
    }
    case "union":
      // Exclusive and discriminated unions choose otherwise than "the first that accepts".
      if (def.inclusive === false || def.discriminator !== undefined) return OPAQUE;
      return compileUnion((def.options ?? []).map(compile));
    case "array": {
      const element = def.element ? compile(def.element) : OPAQUE;
      const own = withChecks(def, (v) => Array.isArray(v) && v.every(element.check));
      return { check: own.check, exact: own.exact && element.exact };
    }
    case "record": {
      // Records keyed by an enum or a literal must hold every key: left to zod.
      if (def.keyType?._zod.def.type !== "string" || !def.valueType) return OPAQUE;
      const key = compile(def.keyType);
      const value = compile(def.valueType);
      return {
        check: (v) =>
          isPlainObject(v) &&
          !Object.hasOwn(v, "__proto__") &&
          Object.entries(v).every(([k, item]) => key.check(k) && value.check(item)),
        exact: key.exact && value.exact,
      };
    }
    case "object":
      return compileObject(def);
    default:
      return OPAQUE;
  }
}

/**
 * zod takes a union's first option that accepts a value. A compiled option that accepts settles
 * it; an option that was not compiled, reached before any did, might be the one zod takes (with
 * a transform), so the value is left to zod.
 */
function compileUnion(options: Compiled[]): Compiled {
  const exact = options.every((option) => option.exact);
  return {
    exact,
    check: (v) => {
      for (const option of options) {
        if (option.check(v)) return true;
        if (!option.exact) return false;
      }
      return false;
    },
  };
}

function compileObject(def: Def): Compiled {
  const fields = Object.entries(def.shape ?? {}).map(
    ([key, child]) => [key, compile(child), child._zod.optin === undefined] as const,
  );
  const catchall = def.catchall?._zod.def.type;
  if (catchall !== undefined && catchall !== "never" && catchall !== "unknown") return OPAQUE;
  const strict = catchall === "never";
  const known = new Set(fields.map(([key]) => key));
  return {
    exact: fields.every(([, field]) => field.exact),
    check: (v) => {
      // (zod leaves an own "__proto__" out of what it gives back.)
      if (!isRecord(v) || Object.hasOwn(v, "__proto__")) return false;
      for (const [key, field, required] of fields) {
        // A field that is not optional must be there, even when it would accept undefined.
        if ((required && !(key in v)) || !field.check(v[key])) return false;
      }
      if (strict) for (const key in v) if (!known.has(key)) return false;
      return true;
    },
  };
}

/**
 * The type's own test, then its checks: the schema's own when it is a format (`z.uuid()`,
 * `z.int()`), then those added to it. A check of a kind not compiled here is opaque.
 */
function withChecks(def: Def, test: Check): Compiled {
  const checks: Check[] = [];
  if (def.check !== undefined) {
    const own = compileCheck(def as CheckDef);
    if (!own) return OPAQUE;
    checks.push(own);
  }
  for (const { _zod } of def.checks ?? []) {
    const check = compileCheck(_zod.def);
    if (!check) return OPAQUE;
    checks.push(check);
  }
  if (checks.length === 0) return exactly(test);
  return exactly((v) => test(v) && checks.every((check) => check(v)));
}

const PATTERN_FORMATS = new Set(["regex", "uuid", "guid"]);

function compileCheck(def: CheckDef): Check | null {
  const length = (v: unknown) => (v as { length: number }).length;
  switch (def.check) {
    case "min_length":
      return (v) => length(v) >= (def.minimum as number);
    case "max_length":
      return (v) => length(v) <= (def.maximum as number);
    case "greater_than":
      return def.inclusive
        ? (v) => (v as number) >= (def.value as number)
        : (v) => (v as number) > (def.value as number);
    case "less_than":
      return def.inclusive
        ? (v) => (v as number) <= (def.value as number)
        : (v) => (v as number) < (def.value as number);
    case "number_format":
      return def.format === "safeint" ? (v) => Number.isSafeInteger(v) : null;
    case "string_format": {
      // Formats zod checks with their pattern alone; the others (emails, URLs, dates…) are opaque.
      const pattern = PATTERN_FORMATS.has(def.format ?? "") ? def.pattern : undefined;
      if (!pattern) return null;
      return (v) => {
        pattern.lastIndex = 0;
        return pattern.test(v as string);
      };
    }
    default:
      return null;
  }
}
