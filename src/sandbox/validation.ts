/**
 * Request-body validation for notebooks, with zod, reproducing DRF's field semantics and
 * messages (NotebookSerializer): the first failing field, in serializer field order, becomes
 * the 400 `validation_error` envelope (drf-exceptions-hog reports one error, and maps DRF's
 * generic `invalid` code to `invalid_input`).
 */

import { z } from "zod";
import { isRecord } from "../is-record.js";
import { errors } from "./errors.js";
import { charLength } from "./util.js";

export interface NotebookWrite {
  short_id?: string | null;
  title?: string | null;
  content?: unknown;
  text_content?: string | null;
  version?: number;
  deleted?: boolean;
}

interface DrfIssueParams {
  drfCode: string;
}

function fail(ctx: z.RefinementCtx, drfCode: string, message: string): never {
  ctx.addIssue({ code: "custom", message, params: { drfCode } satisfies DrfIssueParams });
  return z.NEVER as never;
}

/** DRF CharField(allow_null, allow_blank, trim_whitespace, max_length). */
function charField(maxLength: number | null) {
  return z.unknown().transform((v, ctx): string | null => {
    if (v === null) return null;
    let s: string;
    if (typeof v === "string") s = v;
    else if (typeof v === "number") s = String(v);
    else return fail(ctx, "invalid_input", "Not a valid string.");
    s = s.trim();
    if (maxLength !== null && charLength(s) > maxLength) {
      return fail(ctx, "max_length", `Ensure this field has no more than ${maxLength} characters.`);
    }
    return s;
  });
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** DRF IntegerField for a model IntegerField (not nullable, 32-bit range). */
const integerField = z.unknown().transform((v, ctx): number => {
  if (v === null) return fail(ctx, "null", "This field may not be null.");
  let n: number | null = null;
  if (typeof v === "number" && Number.isFinite(v)) {
    n = Number.isInteger(v) ? v : null;
  } else if (typeof v === "string") {
    if (v.length > 1000) return fail(ctx, "max_string_length", "String value too large.");
    const stripped = v.replace(/\.0*\s*$/, "");
    n = /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(stripped) ? Number(stripped.trim().replace(/_/g, "")) : null;
  }
  if (n === null) return fail(ctx, "invalid_input", "A valid integer is required.");
  if (n < INT_MIN) return fail(ctx, "min_value", `Ensure this value is greater than or equal to ${INT_MIN}.`);
  if (n > INT_MAX) return fail(ctx, "max_value", `Ensure this value is less than or equal to ${INT_MAX}.`);
  return n;
});

const TRUE_VALUES = new Set<unknown>([
  "t",
  "T",
  "y",
  "Y",
  "yes",
  "Yes",
  "YES",
  "true",
  "True",
  "TRUE",
  "on",
  "On",
  "ON",
  "1",
  1,
  true,
]);
const FALSE_VALUES = new Set<unknown>([
  "f",
  "F",
  "n",
  "N",
  "no",
  "No",
  "NO",
  "false",
  "False",
  "FALSE",
  "off",
  "Off",
  "OFF",
  "0",
  0,
  false,
]);

/** DRF BooleanField (not nullable). */
const booleanField = z.unknown().transform((v, ctx): boolean => {
  if (v === null) return fail(ctx, "null", "This field may not be null.");
  if (TRUE_VALUES.has(v)) return true;
  if (FALSE_VALUES.has(v)) return false;
  return fail(ctx, "invalid_input", "Must be a valid boolean.");
});

/** The client-chosen short id newer PostHog accepts on create: alphanumeric, at most 12 characters. */
const shortIdField = z.unknown().transform((v, ctx): string | null => {
  if (v === null || v === "") return null;
  if (typeof v !== "string") return fail(ctx, "invalid_input", "Not a valid string.");
  if (charLength(v) > 12) return fail(ctx, "max_length", "Ensure this field has no more than 12 characters.");
  if (!/^[A-Za-z0-9]+$/.test(v)) return fail(ctx, "invalid_input", "Short ID must be alphanumeric.");
  return v;
});

/** Serializer field order matters: the first failing field is the one reported. */
function notebookSchema(acceptShortId: boolean) {
  return z.object({
    ...(acceptShortId ? { short_id: shortIdField.optional() } : {}),
    title: charField(256).optional(),
    content: z.unknown().optional(),
    text_content: charField(null).optional(),
    version: integerField.optional(),
    deleted: booleanField.optional(),
  });
}

const createSchemaLatest = notebookSchema(true);
const writeSchema = notebookSchema(false);

function pythonTypeName(v: unknown): string {
  if (v === null) return "NoneType";
  if (Array.isArray(v)) return "list";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  return "dict";
}

/**
 * Validate a create/update body (already parsed). Throws the 400 PostHog would send.
 * Unknown and read-only keys are ignored. Only keys present in the body appear in the result.
 */
export function validateNotebookWrite(
  body: unknown,
  opts: { create: boolean; acceptShortId: boolean },
): NotebookWrite {
  if (body === null) throw errors.validation("null", "This field may not be null.");
  if (!isRecord(body)) {
    throw errors.validation(
      "invalid_input",
      `Invalid data. Expected a dictionary, but got ${pythonTypeName(body)}.`,
    );
  }
  const schema = opts.create && opts.acceptShortId ? createSchemaLatest : writeSchema;
  const result = schema.safeParse(body);
  if (!result.success) {
    const order = ["short_id", "title", "content", "text_content", "version", "deleted"];
    const issues = [...result.error.issues].sort(
      (a, b) => order.indexOf(String(a.path[0])) - order.indexOf(String(b.path[0])),
    );
    const first = issues[0];
    const params = (first as { params?: DrfIssueParams } | undefined)?.params;
    throw errors.validation(
      params?.drfCode ?? "invalid_input",
      first?.message ?? "Invalid input.",
      first ? String(first.path[0]) : null,
    );
  }
  const out: NotebookWrite = {};
  const data = result.data as Record<string, unknown>;
  for (const key of ["short_id", "title", "content", "text_content", "version", "deleted"] as const) {
    if (Object.hasOwn(body, key) && Object.hasOwn(data, key)) {
      (out as Record<string, unknown>)[key] = data[key];
    }
  }
  // A JSON `"content": null` is a real value, distinct from a missing key.
  if (Object.hasOwn(body, "content")) out.content = body.content;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Query parameters
// ---------------------------------------------------------------------------------------------

/**
 * Newer PostHog's `ActivityPaginationParamsSerializer` for `?limit=&page=` on activity
 * endpoints: integers ≥ 1, defaults 10 and 1, else a 400 naming the parameter.
 */
export function parseActivityPaging(query: Record<string, string>): { limit: number; page: number } {
  const one = (name: "limit" | "page", fallback: number): number => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    const stripped = raw.replace(/\.0*\s*$/, "");
    if (!/^\s*[+-]?\d+\s*$/.test(stripped))
      throw errors.validation("invalid_input", "A valid integer is required.", name);
    const n = Number(stripped.trim());
    if (n < 1) throw errors.validation("min_value", "Ensure this value is greater than or equal to 1.", name);
    return n;
  };
  const limit = one("limit", 10);
  const page = one("page", 1);
  return { limit, page };
}

/** DRF's `_positive_int(strict=True)`: a positive integer, else `null` (the caller uses its default). */
export function positiveInt(raw: string | undefined, strict: boolean, cutoff?: number): number | null {
  if (raw === undefined) return null;
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(raw)) return null;
  const n = Number(raw.trim().replace(/_/g, ""));
  if (n < 0 || (n === 0 && strict)) return null;
  return cutoff !== undefined ? Math.min(n, cutoff) : n;
}
