/**
 * The notebook list filters of PostHog's `NotebookViewSet._filter_list_request`, the
 * `order` parameter, and the recording-comment extraction of `recording_comments`.
 */

import { commentsInNotebook, type RecordingComment } from "../content/recording-comments.js";
import { relativeDateParse } from "../dates.js";
import { isRecord } from "../is-record.js";
import { errors } from "./errors.js";
import type { StoredNotebook } from "./store.js";
import { comparePython, jsonbContains, type Micros, normalizeUuid, pythonInt } from "./util.js";

// ---------------------------------------------------------------------------------------------
// contains
// ---------------------------------------------------------------------------------------------

/** PostHog's `depluralize`: `ies` → `y`, a trailing `s` dropped, empty → null. */
export function depluralize(s: string): string | null {
  if (!s) return null;
  if (s.endsWith("ies")) return `${s.slice(0, -3)}y`;
  if (s.endsWith("s")) return s.slice(0, -1);
  return s;
}

export type ContainsClause =
  | { target: string; kind: "present"; presence: unknown }
  | { target: string; kind: "absent"; presence: unknown }
  | { target: string; kind: "match"; presence: unknown; idMatch: unknown; match: string | number };

/**
 * Parse a `contains` value into clauses, each a pair of JSONB containment patterns tested
 * against the document's top-level `content` array:
 * commas become spaces; each space-separated token is `target[:match]`; the target is
 * depluralized and names a top-level `ph-<target>` node; match absent or `true` → such a node
 * exists, `false` → none does, anything else → such a node exists AND some top-level node has
 * `attrs.id == match` (an integer when Python's `int()` accepts it). For `query` the id check is
 * `attrs.query == {kind: "SavedInsightNode", shortId: match}` (containment); for
 * `replay-timestamp` both checks look one level down, inside a node's `content`, and the id is
 * `attrs.sessionRecordingId`.
 */
export function parseContains(value: string): ContainsClause[] {
  const clauses: ContainsClause[] = [];
  for (const pair of value.replace(/,/g, " ").split(" ")) {
    const parts = pair.split(":");
    const target = depluralize(parts[0] ?? "");
    if (!target) continue;
    const rawMatch = parts.length > 1 ? (parts[1] ?? "") : null;
    let match: string | number | null = rawMatch;
    if (typeof rawMatch === "string") {
      const asInt = pythonInt(rawMatch);
      if (asInt !== null) match = asInt;
    }
    let presence: unknown = [{ type: `ph-${target}` }];
    let idMatch: unknown = [{ attrs: { id: match } }];
    if (target === "replay-timestamp") {
      presence = [{ content: [{ type: `ph-${target}` }] }];
      idMatch = [{ content: [{ attrs: { sessionRecordingId: match } }] }];
    } else if (target === "query") {
      idMatch = [{ attrs: { query: { kind: "SavedInsightNode", shortId: match } } }];
    }
    if (match === "true" || match === null) clauses.push({ target, kind: "present", presence });
    else if (match === "false") clauses.push({ target, kind: "absent", presence });
    else clauses.push({ target, kind: "match", presence, idMatch, match });
  }
  return clauses;
}

function topLevelContent(content: unknown): unknown {
  return isRecord(content) ? content.content : undefined;
}

export function matchesContains(content: unknown, clauses: ContainsClause[]): boolean {
  const nodes = topLevelContent(content);
  for (const c of clauses) {
    const present = nodes !== undefined && jsonbContains(nodes, c.presence);
    if (c.kind === "present" && !present) return false;
    if (c.kind === "absent" && present) return false;
    if (c.kind === "match" && !(present && jsonbContains(nodes, c.idMatch))) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// search
// ---------------------------------------------------------------------------------------------

/**
 * Postgres' English stop words (the Snowball list `plainto_tsquery('english', …)` drops).
 */
const STOP_WORDS = new Set(
  (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers " +
    "herself it its itself they them their theirs themselves what which who whom this that these those am is are " +
    "was were be been being have has had having do does did doing a an the and but if or because as until while " +
    "of at by for with about against between into through during before after above below to from up down in out " +
    "on off over under again further then once here there when where why how all any both each few more most other " +
    "some such no nor not only own same so than too very s t can will just don should now"
  ).split(" "),
);

const VOWEL = /[aeiouy]/;

/**
 * A deliberately small English stemmer (plural, `-ing`, `-ed`, `-ly` and a few derivational
 * endings), standing in for Postgres' Snowball stemmer. It is applied to both the query and the
 * text, so "notebooks" finds "notebook" and "running" finds "runs"; it does not reproduce every
 * Snowball rule.
 */
export function stem(word: string): string {
  let w = word.toLowerCase();
  if (w.length <= 2) return w;
  w = w.replace(/'s$/, "").replace(/'$/, "");
  // Step 1a: plurals.
  if (w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.endsWith("ies")) w = w.length > 4 ? `${w.slice(0, -3)}i` : `${w.slice(0, -3)}ie`;
  else if (w.endsWith("ss") || w.endsWith("us")) {
    /* keep */
  } else if (w.endsWith("s") && VOWEL.test(w.slice(0, -2))) w = w.slice(0, -1);
  // Step 1b: -eed, -ed, -ing, -ly.
  if (/eedly$/.test(w)) w = w.slice(0, -3);
  else if (/eed$/.test(w)) {
    /* keep (agreed → agre is too aggressive for this stand-in) */
  } else {
    const m = /(ingly|edly|ing|ed)$/.exec(w);
    if (m && VOWEL.test(w.slice(0, -m[0].length))) {
      w = w.slice(0, -m[0].length);
      if (/(at|bl|iz)$/.test(w)) w += "e";
      else if (/([^aeiouylsz])\1$/.test(w)) w = w.slice(0, -1);
    }
  }
  // Step 1c: a final y after a consonant becomes i.
  if (w.length > 2 && /[^aeiou]y$/.test(w)) w = `${w.slice(0, -1)}i`;
  // A few common derivational endings.
  for (const [suffix, replacement] of [
    ["ational", "ate"],
    ["ization", "ize"],
    ["fulness", "ful"],
    ["ousness", "ous"],
    ["iveness", "ive"],
    ["ation", "ate"],
    ["ally", "al"],
    ["ly", ""],
  ] as const) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3) {
      w = w.slice(0, -suffix.length) + replacement;
      break;
    }
  }
  return w;
}

/** Lexemes as `to_tsvector('english', text)` would roughly produce them: words, lower-cased, stemmed, no stop words. */
export function lexemes(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu)) {
    const word = m[0];
    if (STOP_WORDS.has(word)) continue;
    out.push(stem(word));
  }
  return out;
}

/**
 * PostHog's `Q(title__search=value) | Q(text_content__search=value)`: Postgres full-text search
 * with `plainto_tsquery` (every query lexeme must be present) against the title, or against the
 * text content. A query with no lexemes (empty, or only stop words) matches nothing, as in
 * Postgres.
 */
export function matchesSearch(title: string | null, textContent: string | null, query: string): boolean {
  const wanted = lexemes(query);
  if (wanted.length === 0) return false;
  const within = (text: string | null) => {
    if (!text) return false;
    const have = new Set(lexemes(text));
    return wanted.every((w) => have.has(w));
  };
  return within(title) || within(textContent);
}

// ---------------------------------------------------------------------------------------------
// The whole list filter
// ---------------------------------------------------------------------------------------------

export interface ListFilterContext {
  callerUserId: number;
  nowUs: Micros;
  /** The uuid of a user id (for `created_by` / `last_modified_by`). */
  userUuid: (userId: number) => string;
}

/**
 * Every filter parameter present in `params` is applied (AND), in the order given. Unknown keys
 * (including the pagination parameters) are ignored, as in PostHog. Deleted notebooks must
 * already be excluded by the caller.
 */
export function filterNotebooks(
  notebooks: StoredNotebook[],
  params: Record<string, string>,
  ctx: ListFilterContext,
): StoredNotebook[] {
  let out = notebooks;
  for (const [key, value] of Object.entries(params)) {
    switch (key) {
      case "user":
        out = out.filter((n) => n.created_by === ctx.callerUserId);
        break;
      case "created_by":
      case "last_modified_by": {
        const wanted = normalizeUuid(value);
        // Django raises a ValidationError for a malformed UUID here, which PostHog answers with a 500.
        if (wanted === null) throw errors.serverError();
        const field = key === "created_by" ? "created_by" : "last_modified_by";
        out = out.filter((n) => {
          const id = n[field];
          return id !== null && normalizeUuid(ctx.userUuid(id)) === wanted;
        });
        break;
      }
      case "date_from": {
        const t = relativeDateParse(value, ctx.nowUs);
        out = out.filter((n) => n.last_modified_at > t);
        break;
      }
      case "date_to": {
        const t = relativeDateParse(value, ctx.nowUs);
        out = out.filter((n) => n.last_modified_at < t);
        break;
      }
      case "search":
        out = out.filter((n) => matchesSearch(n.title, n.text_content, value));
        break;
      case "contains": {
        const clauses = parseContains(value);
        out = out.filter((n) => matchesContains(n.content, clauses));
        break;
      }
      default:
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// order
// ---------------------------------------------------------------------------------------------

type SortValue = string | number | boolean | null;

/**
 * The fields newer PostHog sorts the list by: those of a listed notebook. Other fields (`content`,
 * `team__id`, `nonsense`…) are a 400 `validation_error` naming `order`; older versions let Django
 * raise a FieldError, a 500. (The exact list and wording are this sandbox's reading, unconfirmed.)
 */
const ORDER_FIELDS: Record<string, (n: StoredNotebook) => SortValue> = {
  id: (n) => n.id,
  short_id: (n) => n.short_id,
  title: (n) => n.title,
  created_at: (n) => n.created_at,
  created_by: (n) => n.created_by,
  last_modified_at: (n) => n.last_modified_at,
  last_modified_by: (n) => n.last_modified_by,
};

function compareValues(a: SortValue, b: SortValue): number {
  if (typeof a === "string" && typeof b === "string") return comparePython(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return (a as number) - (b as number);
}

/**
 * `queryset.order_by(order)` (default `-last_modified_at`). Postgres puts NULLs last ascending
 * and first descending. Ties keep creation order (Postgres does not promise one). An unknown
 * field is a 400 naming `order`, as in newer PostHog.
 */
export function orderNotebooks(notebooks: StoredNotebook[], order: string | undefined): StoredNotebook[] {
  const spec = order ? order : "-last_modified_at";
  const desc = spec.startsWith("-");
  const field = desc ? spec.slice(1) : spec;
  const get = ORDER_FIELDS[field];
  if (!get) {
    throw errors.validation(
      "invalid_input",
      `Invalid order field "${field}". Valid fields: ${Object.keys(ORDER_FIELDS).join(", ")}, optionally prefixed with "-" for descending.`,
      "order",
    );
  }
  return [...notebooks].sort((x, y) => {
    const a = get(x);
    const b = get(y);
    let c: number;
    if (a === null && b === null) c = 0;
    else if (a === null) c = 1;
    else if (b === null) c = -1;
    else c = compareValues(a, b);
    if (desc) c = -c;
    if (c === 0) c = desc ? y.seq - x.seq : x.seq - y.seq;
    return c;
  });
}

// ---------------------------------------------------------------------------------------------
// Recording comments
// ---------------------------------------------------------------------------------------------

export type { RecordingComment };

type NotebookLike = Pick<StoredNotebook, "short_id" | "title" | "content">;

/**
 * PostHog's `recording_comments` extraction. The notebooks must already be the non-deleted ones
 * of the project in list order; this applies the `contains=recording:<id>` filter itself, then
 * for each top-level paragraph with exactly two children whose first child has
 * `attrs.sessionRecordingId == recordingId` and a non-null `attrs.playbackTime`, emits
 * `{timeInRecording, comment: <second child's text>, notebookShortId, notebookTitle, id}` where
 * `id` is the SHA-256 of `"{short_id}-{title}-{text}-{playback_time}"` (Python formatting:
 * `None` for null).
 */
export function extractRecordingComments(notebooks: NotebookLike[], recordingId: string): RecordingComment[] {
  const clauses = parseContains(`recording:${recordingId}`);
  return notebooks
    .filter((notebook) => matchesContains(notebook.content, clauses))
    .flatMap((notebook) => commentsInNotebook(notebook, recordingId));
}
