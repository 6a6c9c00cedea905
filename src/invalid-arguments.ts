/**
 * Arguments a tool refused, in this project's own words: one sentence naming each argument, what
 * was sent and the form it must take (never zod's English fragments such as "Too small: expected
 * number to be >=1"). The one place where argument-validation wording lives.
 */
import { closest, distance } from "fastest-levenshtein";
import type { z } from "zod";

/** The value at `path` in what the agent sent (zod 4 does not report it in issues). */
function sentAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Unknown argument names listed in a refusal, at most. */
const MAX_LISTED = 5;

/** `text`, cut to 40 characters (…) if longer. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** Characters of a value the agent sent shown in a refusal, at most. */
const SHOWN = 40;

/**
 * The JSON of `value` as far as its first `room` characters or a little past them, written only
 * that far: what was sent may be an array of megabytes (writing it out whole to show 40 characters
 * held every other call up for a quarter of a second).
 */
export function jsonStart(value: unknown, room: number): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, Math.max(room, 0)));
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? String(value);
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length && out.length <= room; i++) {
      out += `${i > 0 ? "," : ""}${jsonStart(value[i], room - out.length)}`;
    }
    return `${out}]`;
  }
  let out = "{";
  for (const key in value) {
    if (out.length > room) break;
    if (!Object.hasOwn(value, key)) continue;
    out += `${out.length > 1 ? "," : ""}${JSON.stringify(key.slice(0, room))}:`;
    out += jsonStart((value as Record<string, unknown>)[key], room - out.length);
  }
  return `${out}}`;
}

/** A value the agent sent, shown short and escaped, with its JSON type. */
function showSent(value: unknown): string {
  const json = jsonStart(value, SHOWN);
  const kind = Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`;
  return `${json.length > SHOWN ? `${json.slice(0, SHOWN - 1)}…` : json} (${kind})`;
}

const EXPECTED: Record<string, string> = {
  int: "a whole number",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "an object",
  array: "an array",
};

const FORMATS: Record<string, string> = {
  uuid: 'a UUID, like "0192f1d4-7c1e-7a55-b1d3-5e6f7a8b9c0d"',
  guid: 'a UUID, like "0192f1d4-7c1e-7a55-b1d3-5e6f7a8b9c0d"',
  email: "an email address",
  url: "a URL",
  datetime: 'an ISO date-time, like "2026-12-01T09:30:00Z"',
  date: 'an ISO date, like "2026-12-01"',
};

/** zod's own English messages, as opposed to the ones this project's schemas give. */
const ZOD_WORDING = /^(Invalid|Too (small|big)|Expected|Unrecognized|Required)\b/;

/** The schema of a top-level argument, without optional, nullable and default wrappers. */
function argumentSchema(schema: z.ZodObject, path: readonly PropertyKey[]): unknown {
  let inner: unknown = schema.shape[String(path[0])];
  for (let depth = 0; depth < 4; depth++) {
    const wrapped = inner as { unwrap?: () => unknown; def?: { type?: string } } | undefined;
    const type = wrapped?.def?.type;
    if (!wrapped?.unwrap || (type !== "optional" && type !== "nullable" && type !== "default")) break;
    inner = wrapped.unwrap();
  }
  return inner;
}

/** "a whole number from 1 to 100", from the argument's own bounds where zod reports one of them. */
function numberRange(schema: z.ZodObject, path: readonly PropertyKey[]): string | undefined {
  if (path.length !== 1) return undefined;
  const number = argumentSchema(schema, path) as
    | { minValue?: number | null; maxValue?: number | null; isInt?: boolean }
    | undefined;
  if (!number || !("minValue" in number)) return undefined;
  const kind = number.isInt ? "a whole number" : "a number";
  const min = Number.isFinite(number.minValue) ? number.minValue : undefined;
  const max =
    Number.isFinite(number.maxValue) && (number.maxValue ?? 0) < Number.MAX_SAFE_INTEGER
      ? number.maxValue
      : undefined;
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
  if (min !== undefined) return `${kind} of at least ${min}`;
  if (max !== undefined) return `${kind} of at most ${max}`;
  return kind;
}

function quotedList(values: readonly unknown[]): string {
  const shown = values.map((v) => JSON.stringify(v));
  return shown.length < 2 ? (shown[0] ?? "") : `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}

/** One issue as a clause: "<argument> must be <form>, not <what was sent>". */
function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodObject, raw: unknown, toolName: string): string {
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(schema.shape);
    // The first few, each cut short: what was sent may hold thousands, or one of megabytes.
    const shown = issue.keys.slice(0, MAX_LISTED).map((k) => JSON.stringify(clip(k)));
    const more = issue.keys.length - shown.length;
    const names = `${shown.join(", ")}${more > 0 ? ` and ${more.toLocaleString("en-US")} more` : ""}`;
    const first = issue.keys[0] ?? "";
    const nearest = first.length <= 64 ? closest(first, known) : "";
    const guess = nearest && distance(first, nearest) <= 2 ? `: did you mean "${nearest}"?` : "";
    return `${toolName} takes no argument${issue.keys.length > 1 ? "s" : ""} named ${names}${guess} (it takes ${known.join(", ")})`;
  }
  const name = issue.path.length > 0 ? issue.path.join(".") : "the arguments";
  const sent = sentAt(raw, issue.path);
  if (sent === undefined && issue.path.length > 0) return `${name} is required`;
  const not = `, not ${showSent(sent)}`;
  if (!ZOD_WORDING.test(issue.message) && issue.code !== "invalid_union") return `${name} ${issue.message}`;
  switch (issue.code) {
    case "invalid_type": {
      const range =
        issue.expected === "int" || issue.expected === "number" ? numberRange(schema, issue.path) : undefined;
      return `${name} must be ${range ?? EXPECTED[issue.expected] ?? issue.expected}${not}`;
    }
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const side = issue.code === "too_small" ? "at least" : "at most";
      if (issue.origin === "string")
        return `${name} must be ${side} ${bound} characters long (it has ${String(sent).length})`;
      if (issue.origin === "array")
        return `${name} must have ${side} ${bound} items (it has ${(sent as unknown[]).length})`;
      return `${name} must be ${numberRange(schema, issue.path) ?? `${side} ${bound}`}${not}`;
    }
    case "invalid_format":
      return `${name} must be ${FORMATS[issue.format] ?? `in the ${issue.format} format`}${not}`;
    case "invalid_value":
      return `${name} must be ${issue.values.length === 1 ? "" : "one of "}${quotedList(issue.values)}${not}`;
    case "not_multiple_of":
      return `${name} must be a multiple of ${issue.divisor}${not}`;
    case "invalid_union": {
      if (issue.path[0] === "project_id")
        return `${name} must be a project id (a positive integer) or "@current"${not}`;
      const custom = issue.errors.flat().find((inner) => inner.code === "custom");
      return custom ? `${name} ${custom.message}` : `${name} has the wrong type or shape${not}`;
    }
    default:
      return `${name} is not valid${not}`;
  }
}

/** The whole refusal: every argument's problem, and that nothing was sent. */
export function describeInvalidArguments(
  toolName: string,
  error: z.ZodError,
  schema: z.ZodObject,
  raw: unknown,
): string {
  return invalidArgumentsSentence(
    toolName,
    error.issues.map((issue) => describeIssue(issue, schema, raw, toolName)),
  );
}

/** The refusal of `toolName`'s arguments for the problems in `parts` (clauses naming each argument). */
export function invalidArgumentsSentence(toolName: string, parts: readonly string[]): string {
  // (A message of our own may end its sentence: the full stop is written once.)
  const clauses = parts.map((part) => part.replace(/\.$/, ""));
  return `Invalid arguments for ${toolName}: ${clauses.join("; ")}. Nothing was sent to PostHog; correct the arguments and call ${toolName} again.`;
}

/** The key JavaScript objects cannot hold as an ordinary one: JSON.parse keeps it, an assignment sets a prototype. */
const PROTO = "__proto__";

/**
 * Where `args` (as JSON.parse made them) hold a `__proto__` key, as argument paths (`__proto__`,
 * `content.__proto__`), the first few. One walk over the arguments, without recursion.
 */
export function protoKeyPaths(args: unknown, most = 3): string[] {
  const found: string[] = [];
  // Paths are kept as links to their parent and written out only for a key found: arguments may
  // hold thousands of long keys, whose paths written out for each would be megabytes.
  type Path = { parent: Path | undefined; key: string | number } | undefined;
  const written = (path: Path): string => {
    const parts: string[] = [];
    for (let at = path; at; at = at.parent) {
      parts.push(typeof at.key === "number" ? `[${at.key}]` : at.parent ? `.${at.key}` : at.key);
    }
    return parts.reverse().join("");
  };
  const stack: Array<[object, Path]> = args !== null && typeof args === "object" ? [[args, undefined]] : [];
  const visit = (value: unknown, parent: Path, key: string | number) => {
    if (value !== null && typeof value === "object") stack.push([value, { parent, key }]);
  };
  while (stack.length > 0 && found.length < most) {
    const [value, path] = stack.pop() as [object, Path];
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) visit(value[i], path, i);
      continue;
    }
    if (Object.hasOwn(value, PROTO)) found.push(written({ parent: path, key: PROTO }));
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      if (key !== PROTO) visit((value as Record<string, unknown>)[key], path, key);
    }
  }
  return found;
}

/** The refusal of arguments holding `__proto__` keys (at `paths`), naming each. */
export function describeProtoKeys(toolName: string, paths: readonly string[]): string {
  const parts = paths.map((path) =>
    path === PROTO
      ? `${toolName} takes no argument named "${PROTO}"`
      : `${path.slice(0, -PROTO.length - 1)} holds a key named "${PROTO}"`,
  );
  return `Invalid arguments for ${toolName}: ${parts.join("; ")} ("${PROTO}" is refused anywhere in the arguments: it names an object's prototype in JavaScript and cannot be passed on as written). Nothing was sent to PostHog; correct the arguments and call ${toolName} again.`;
}
