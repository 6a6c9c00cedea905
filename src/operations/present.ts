/**
 * How upstream payloads are shown to agents: compact, stable shapes (and their zod schemas, which
 * become each tool's `outputSchema`). Full user objects shrink to who they are; huge activity
 * values are clipped.
 */

import { z } from "zod";
import type { ActivityEntry, Notebook, NotebookMinimal, User } from "../posthog/schemas.js";

export const PersonOut = z.object({
  uuid: z.string().nullable(),
  name: z.string().nullable(),
  email: z.string().nullable(),
});
export type PersonOut = z.infer<typeof PersonOut>;

export function person(user: User | null | undefined): PersonOut | null {
  if (!user) return null;
  const name = [user.first_name, user.last_name].filter(Boolean).join(" ").trim();
  return { uuid: user.uuid ?? null, name: name || null, email: user.email ?? null };
}

export const NotebookSummaryOut = z.object({
  short_id: z.string(),
  title: z.string().nullable(),
  created_at: z.string().nullable(),
  created_by: PersonOut.nullable(),
  last_modified_at: z.string().nullable(),
  last_modified_by: PersonOut.nullable(),
  user_access_level: z.string().nullable(),
});
export type NotebookSummaryOut = z.infer<typeof NotebookSummaryOut>;

export function notebookSummary(nb: NotebookMinimal): NotebookSummaryOut {
  return {
    short_id: nb.short_id,
    title: nb.title ?? null,
    created_at: nb.created_at ?? null,
    created_by: person(nb.created_by),
    last_modified_at: nb.last_modified_at ?? null,
    last_modified_by: person(nb.last_modified_by),
    user_access_level: nb.user_access_level ?? null,
  };
}

/** What a write returns: enough to go on (the new version) without echoing the document back. */
export const NotebookWriteOut = z.object({
  short_id: z.string(),
  title: z.string().nullable(),
  version: z.number().int(),
  deleted: z.boolean(),
  last_modified_at: z.string().nullable(),
  url: z.string().nullable(),
  notes: z
    .array(z.object({ line: z.number().int(), message: z.string() }))
    .optional()
    .describe("What the Markdown held that was not understood, by line, and what was stored instead."),
});
export type NotebookWriteOut = z.infer<typeof NotebookWriteOut>;

/** What a create returns: what the agent could not know. */
export const CreatedOut = z.object({
  short_id: z.string(),
  version: z.number().int(),
  url: z.string().nullable(),
  notes: NotebookWriteOut.shape.notes,
});
export type CreatedOut = z.infer<typeof CreatedOut>;

export function notebookWritten(
  nb: Notebook,
  url: string | null,
  notes: readonly { line: number; message: string }[] = [],
): NotebookWriteOut {
  return {
    short_id: nb.short_id,
    title: nb.title ?? null,
    version: nb.version,
    deleted: nb.deleted ?? false,
    last_modified_at: nb.last_modified_at ?? null,
    url,
    ...(notes.length > 0 ? { notes: [...notes] } : {}),
  };
}

/** The sentence a write result adds about what it did not understand. */
export function notesSummary(notes: readonly { line: number; message: string }[]): string {
  if (notes.length === 0) return "";
  const first = notes[0] as { line: number; message: string };
  const more = notes.length > 1 ? ` (and ${notes.length - 1} more, in notes)` : "";
  return ` ${notes.length === 1 ? "One thing" : `${notes.length} things`} in the Markdown could not be read as written: line ${first.line}: ${first.message}${more}.`;
}

/**
 * Text people wrote (a title, a name), as it appears in a sentence or a line of ours: quoted and
 * escaped as a JSON string, so that it stays on its line and inside its quotes whatever it holds.
 */
export function quoted(text: string): string {
  return JSON.stringify(text);
}

/** ` "title"` after a notebook's id in a sentence, or nothing for an untitled notebook. */
export function titled(nb: { title?: string | null }): string {
  return nb.title ? ` ${quoted(nb.title)}` : "";
}

function who(p: PersonOut | null): string {
  if (!p) return "unknown";
  const one = p.name && p.email ? `${p.name} <${p.email}>` : (p.name ?? p.email);
  return one ? quoted(one) : (p.uuid ?? "unknown");
}

/** One notebook of a list, on one line: id, title, last change and creation, and by whom. */
export function notebookLine(nb: NotebookSummaryOut): string {
  const title = nb.title ? quoted(nb.title) : "(untitled)";
  const changed = `changed ${nb.last_modified_at ?? "?"} by ${who(nb.last_modified_by)}`;
  const created =
    nb.created_by?.uuid === nb.last_modified_by?.uuid
      ? `created ${nb.created_at ?? "?"}`
      : `created ${nb.created_at ?? "?"} by ${who(nb.created_by)}`;
  return `- ${nb.short_id} ${title}: ${changed}; ${created}`;
}

/** notebooks-retrieve's result. A later part of a long notebook leaves out what the first part said. */
export const NotebookOut = NotebookWriteOut.extend({
  title: z.string().nullable().optional(),
  deleted: z.boolean().optional(),
  last_modified_at: z.string().nullable().optional(),
  url: z.string().nullable().optional(),
  last_modified_by: PersonOut.nullable().optional().describe("Who changed it last."),
  format: z
    .enum(["v1", "v2", "empty", "other"])
    .describe("v1: rich TipTap JSON; v2: PostHog's Markdown notebook; empty: no content yet."),
  shown: z
    .array(z.enum(["markdown", "json", "text_content"]))
    .describe(
      "What the text block holds after this JSON, fenced: the Markdown, the TipTap JSON, the plain text.",
    ),
  range: z
    .object({
      offset: z.number().int(),
      length: z.number().int(),
      total: z.number().int(),
      next_offset: z.number().int().nullable(),
    })
    .optional()
    .describe("Which characters of the Markdown this result holds; next_offset reads on."),
  note: z.string().optional(),
  markdown_chars: z
    .number()
    .int()
    .optional()
    .describe("Characters in the whole Markdown (with find or outline, which leave the Markdown out)."),
  matches: z
    .array(
      z.object({
        offset: z.number().int().describe("Where the match starts in the Markdown."),
        length: z.number().int(),
        heading: z
          .object({ text: z.string(), offset: z.number().int() })
          .nullable()
          .describe("The heading the match is under."),
        passage: z.string().describe("The match with a little of its line either side, as stored."),
        at: z.number().int().describe("Where the match starts in passage."),
      }),
    )
    .optional()
    .describe("With find: the first matches, in order."),
  total_matches: z.number().int().optional().describe("With find: how many matches in all."),
  outline: z
    .array(
      z.object({
        level: z.number().int(),
        text: z.string(),
        offset: z.number().int(),
        size: z.number().int().describe("Characters up to the next heading of the same or a higher level."),
      }),
    )
    .optional()
    .describe("With outline: the headings, to read one section with offset and max_length = size."),
});
export type NotebookOut = z.infer<typeof NotebookOut>;

const MAX_VALUE_CHARS = 400;

/** Keeps an activity value readable: small values as they are, big ones (documents) as a note. */
function clipValue(value: unknown): unknown {
  if (value === undefined) return null;
  const json = JSON.stringify(value);
  if (json === undefined || json.length <= MAX_VALUE_CHARS) return value;
  if (typeof value === "string") {
    return `${value.slice(0, MAX_VALUE_CHARS)}… [${value.length} characters]`;
  }
  return `[${json.length} characters of JSON omitted; retrieve the notebook for its current content]`;
}

export const ActivityOut = z.object({
  activity: z.string(),
  created_at: z.string().nullable(),
  user: z.string().nullable().describe("Who did it (email or first name); null for system changes."),
  short_id: z.string().nullable(),
  title: z.string().nullable(),
  changes: z.array(
    z.object({
      field: z.string().nullable(),
      action: z.string().nullable(),
      before: z.unknown(),
      after: z.unknown(),
    }),
  ),
});
export type ActivityOut = z.infer<typeof ActivityOut>;

export function activity(entry: ActivityEntry): ActivityOut {
  return {
    activity: entry.activity,
    created_at: entry.created_at ?? null,
    user: entry.user?.email ?? entry.user?.first_name ?? null,
    short_id: entry.detail?.short_id ?? entry.item_id ?? null,
    title: entry.detail?.name ?? null,
    changes: (entry.detail?.changes ?? []).map((change) => ({
      field: change.field ?? null,
      action: change.action ?? null,
      before: clipValue(change.before),
      after: clipValue(change.after),
    })),
  };
}

/** The query parameters of an absolute `next`/`previous` URL from PostHog. */
export function queryOf(url: string | null | undefined): URLSearchParams | null {
  if (!url) return null;
  try {
    return new URL(url).searchParams;
  } catch {
    return null;
  }
}

/** A whole number from a query parameter, or undefined. */
export function intParam(params: URLSearchParams | null, name: string): number | undefined {
  const raw = params?.get(name);
  if (raw === null || raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isInteger(value) ? value : undefined;
}
