import { z } from "zod";
import { revealInvisible } from "../content/invisible.js";
import { formatOfSnapshot, shownMarkdown } from "../notebooks/documents.js";
import { findPassages, type Heading, outlineOf, REGEX_BUDGET_MS } from "../notebooks/find.js";
import { readNotebook } from "../notebooks/io.js";
import { toolError } from "../posthog/errors.js";
import { NotebookRef } from "./shared/args.js";
import { NotebookOut, notebookWritten, peoplesLines, person, quoted, titled } from "./shared/present.js";
import { defineOperation, type OpResult, READ } from "./types.js";

/**
 * Where a part of `text` starting at `offset` ends, at most `max` characters on: at a blank line
 * (between blocks), else a line end, else a space, never inside a word, a surrogate pair or a
 * `⟦U+…⟧` marker (unless a single word is longer than the part).
 */
export function partEnd(text: string, offset: number, max: number): number {
  const hard = Math.min(text.length, offset + max);
  if (hard >= text.length) return text.length;
  const window = text.slice(offset, hard);
  const floor = Math.floor(max / 4);
  for (const boundary of ["\n\n", "\n", " "]) {
    const at = window.lastIndexOf(boundary);
    if (at >= floor || (boundary === " " && at > 0)) return offset + at + boundary.length;
  }
  let end = hard;
  const open = window.lastIndexOf("⟦");
  if (open !== -1 && !window.slice(open).includes("⟧") && open > 0) end = offset + open;
  const code = text.charCodeAt(end);
  if (code >= 0xdc00 && code <= 0xdfff) end -= 1;
  return end;
}

export const retrieve = defineOperation({
  name: "notebooks-retrieve",
  title: "Get a notebook",
  description:
    "Get a notebook as Markdown (keep tags like <Query …/> when editing) and its version; long ones in parts (offset = range.next_offset); find locates text.",
  scope: "notebook:read",
  writes: false,
  upstream: "GET notebooks/{short_id}/",
  input: {
    ...NotebookRef,
    format: z
      .enum(["markdown", "json", "both", "outline"])
      .optional()
      .describe("markdown (default), json, both, or outline (headings, offsets, sizes)."),
    offset: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Where to start reading (range.next_offset) or finding."),
    max_length: z.number().int().min(100).optional().describe("Most characters of Markdown to return."),
    find: z
      .string()
      .min(1)
      .max(1_000)
      .optional()
      .describe("Text to find: passages, headings and offsets instead."),
    regex: z.boolean().optional().describe("find is an RE2 pattern, matched within lines ((?i): any case)."),
  },
  output: NotebookOut,
  annotations: READ,
  async run(args, ctx) {
    // A later part comes from the version the first part was cut from, so that the parts fit.
    const outline = args.format === "outline";
    const locating = args.find !== undefined || outline;
    if (args.find !== undefined && (args.format === "json" || args.format === "both")) {
      throw toolError(
        "invalid_arguments",
        "find looks in the Markdown: leave format out with it (or pass outline for the headings too). Nothing was read.",
      );
    }
    if (args.find === undefined && args.regex !== undefined) {
      throw toolError(
        "invalid_arguments",
        "regex only applies with find: add find (the pattern to look for), or leave regex out. Nothing was read.",
      );
    }
    const held = args.offset ? ctx.memory.notebooks.get(ctx.projectId, args.short_id) : undefined;
    const snapshot = held ?? (await readNotebook(ctx, args.short_id));
    const nb = snapshot.notebook;
    const format = args.format ?? "markdown";
    const out: NotebookOut = {
      ...notebookWritten(nb, ctx.webUrl(nb.short_id)),
      last_modified_by: person(nb.last_modified_by),
      format: await formatOfSnapshot(snapshot),
      shown: [],
    };
    const documents: NonNullable<OpResult<unknown>["documents"]> = [];
    let budget = ctx.maxResultChars;
    if (locating) {
      return locate({ ...args, outline }, ctx, out, await shownMarkdown(snapshot), held !== undefined);
    }
    if (format !== "json") {
      // (Each part is redacted with the session's key as it is shown, pieces at the cuts included.)
      const markdown = await shownMarkdown(snapshot);
      const offset = Math.min(args.offset ?? 0, markdown.length);
      const end = partEnd(markdown, offset, Math.min(args.max_length ?? budget, budget));
      documents.push({ label: "markdown", text: markdown.slice(offset, end) });
      out.shown.push("markdown");
      budget -= end - offset;
      if (offset > 0 || end < markdown.length) {
        out.range = {
          offset,
          length: end - offset,
          total: markdown.length,
          next_offset: end < markdown.length ? end : null,
        };
      }
    }
    const overCap = (chars: string) =>
      `The JSON document (${chars} characters) is over this server's result cap (${ctx.maxResultChars}), so it is left out: read the notebook as Markdown in parts with offset and max_length.`;
    // (A document known to be over the cap is not parsed and written out only to be left out.)
    if (format !== "markdown" && snapshot.size > Math.max(budget, 0)) {
      out.note = overCap(`about ${snapshot.size}`);
    } else if (format !== "markdown") {
      const json = JSON.stringify(nb.content ?? null);
      const text = nb.text_content ?? "";
      if (json.length + text.length <= Math.max(budget, 0)) {
        documents.push(
          { label: "json", text: revealInvisible(json) },
          { label: "text", text: revealInvisible(text) },
        );
        out.shown.push("json", "text_content");
      } else {
        out.note = overCap(String(json.length));
      }
    }
    const part = out.range
      ? ` Characters ${out.range.offset}–${out.range.offset + out.range.length} of ${out.range.total}${held ? " of the version read before" : ""}${out.range.next_offset === null ? "" : `: call again with offset ${out.range.next_offset} for the rest`}.`
      : "";
    // The text block says in its sentence what the structured result holds (no JSON repeated).
    // A later part of what was read before says only where it is: the rest was said with the first.
    const later = held !== undefined && out.range !== undefined && out.range.offset > 0;
    if (later) {
      for (const key of ["title", "deleted", "last_modified_at", "url", "last_modified_by"] as const)
        delete out[key];
    }
    const by = out.last_modified_by;
    const who = by
      ? ` by ${quoted(by.name && by.email ? `${by.name} <${by.email}>` : (by.name ?? by.email ?? by.uuid ?? "?"))}`
      : "";
    const changed = out.last_modified_at && !later ? `, changed ${out.last_modified_at}${who}` : "";
    const where = out.url && !later ? ` ${out.url}` : "";
    return {
      structured: out,
      summary: later
        ? `Notebook ${nb.short_id}, version ${nb.version} as read before: characters ${out.range?.offset}–${(out.range?.offset ?? 0) + (out.range?.length ?? 0)} of ${out.range?.total}${out.range?.next_offset ? `: call again with offset ${out.range.next_offset} for the rest` : ""}.`
        : `Notebook ${nb.short_id}${titled(nb)}, version ${nb.version} (${out.format}${out.deleted ? ", deleted" : ""})${changed}.${where}${part}${out.note ? ` ${out.note}` : ""}`,
      documents,
      text: "",
    };
  },
});

interface LocateArgs {
  short_id: string;
  offset?: number | undefined;
  find?: string | undefined;
  regex?: boolean | undefined;
  outline?: boolean | undefined;
}

/** Characters of its line shown either side of a match. */
const CONTEXT = 80;

/** Most matches shown in one result (offset shows the next ones). */
const MAX_MATCHES = 20;

/** Longest part of one match shown in its passage. */
const MAX_MATCH_SHOWN = 1_000;

/**
 * A retrieve with `find` or `outline`: where things are in the Markdown, without the Markdown.
 * Everything shown stays within the result cap: matches stop there, and an outline too long for
 * it keeps its higher levels.
 */
async function locate(
  args: LocateArgs,
  ctx: { maxResultChars: number; signal?: AbortSignal },
  out: NotebookOut,
  markdown: string,
  held: boolean,
): Promise<OpResult<NotebookOut>> {
  const nb = `Notebook ${out.short_id}${titled(out)}, version ${out.version}${held ? " (the version read before)" : ""}`;
  const outline = outlineOf(markdown);
  out.markdown_chars = markdown.length;
  const said: string[] = [];
  let budget = ctx.maxResultChars;
  if (args.find !== undefined) {
    const from = Math.min(args.offset ?? 0, markdown.length);
    const found = await findPassages(
      markdown,
      {
        find: args.find,
        regex: args.regex ?? false,
        context: CONTEXT,
        maxMatches: MAX_MATCHES,
        from,
        signal: ctx.signal,
      },
      outline,
    );
    const shown: NonNullable<NotebookOut["matches"]> = [];
    let next = found.next;
    for (const match of found.matches) {
      const clipped =
        match.length > MAX_MATCH_SHOWN
          ? { ...match, passage: match.passage.slice(0, match.at + MAX_MATCH_SHOWN) }
          : match;
      const cost = clipped.passage.length + (clipped.heading?.text.length ?? 0) + 80;
      if (shown.length > 0 && cost > budget) {
        next = match.offset;
        break;
      }
      shown.push(clipped);
      budget -= cost;
    }
    out.matches = shown;
    out.total_matches = found.total;
    const total = `${found.total}${found.more ? "+" : ""}`;
    const what = args.regex ? "the pattern" : JSON.stringify(args.find);
    const region = args.regex && from > 0 ? ` from offset ${from}` : "";
    const partly =
      found.stoppedAt !== null ? `, as far as it searched (up to offset ${found.stoppedAt})` : "";
    if (found.total === 0 && found.stoppedAt === null) {
      said.push(
        `${what} does not occur in ${found.skipped > 0 ? "the lines it searched of " : ""}its Markdown${region}${args.regex ? "" : " (found as written, case included: regex with (?i) ignores case)"}.`,
      );
    } else {
      const earlier = found.before > 0 ? ` (${found.before} before offset ${from})` : "";
      said.push(
        `${total} match${found.total === 1 ? "" : "es"} of ${what}${region}${partly}${earlier}; ${shown.length === 0 ? "none shown" : `${next === null ? "" : "the first "}${shown.length} shown, with offsets in the Markdown`}.`,
      );
      if (next !== null) said.push(`Call again with offset ${next} for the next ones.`);
      else if (found.stoppedAt !== null) {
        said.push(
          `A pattern searches for ${REGEX_BUDGET_MS / 1_000} s at most: call again with offset ${found.stoppedAt} to search the rest.`,
        );
      }
      if (found.matches.some((match) => match.length > MAX_MATCH_SHOWN)) {
        said.push(`A match longer than ${MAX_MATCH_SHOWN} characters is shown cut there.`);
      }
    }
    if (found.skipped > 0) {
      said.push(
        `${found.skipped} line${found.skipped === 1 ? "" : "s"} ${found.skipped === 1 ? "was" : "were"} not searched by the pattern: over ${(found.longestLine ?? 0).toLocaleString("en")} characters (the longest line a pattern this costly searches; fewer repetitions, alternatives and classes search longer ones), or too costly to search within ${REGEX_BUDGET_MS / 1_000} s. To search ${found.skipped === 1 ? "it" : "them"}, find the text as written (leave regex out) or use a simpler pattern.`,
      );
    }
  }
  if (args.outline) {
    let kept: Heading[] = outline;
    const cost = (list: Heading[]) => list.reduce((sum, h) => sum + h.text.length + 50, 0);
    let depth = 6;
    while (kept.length > 0 && cost(kept) > budget && depth > 1) {
      depth -= 1;
      const limit = depth;
      kept = outline.filter((heading) => heading.level <= limit);
    }
    while (kept.length > 0 && cost(kept) > budget) kept = kept.slice(0, Math.floor(kept.length / 2));
    out.outline = kept.map(({ level, text, offset, size }) => ({ level, text, offset, size }));
    said.push(
      outline.length === 0
        ? "It has no headings."
        : kept.length === outline.length
          ? `${outline.length} heading${outline.length === 1 ? "" : "s"}: read one section with offset and max_length = its size.`
          : `${kept.length} of its ${outline.length} headings (${depth === 1 ? "level 1" : depth < 6 ? `levels 1–${depth}` : "the first"}: all would pass this server's result cap).`,
    );
  }
  // The text block lists what the structured result holds, a line each (no JSON repeated).
  const lines = [
    ...(out.matches ?? []).map(
      (m) =>
        `- at ${m.offset}${m.heading ? `, under ${quoted(m.heading.text)} (at ${m.heading.offset})` : ""}: ${quoted(m.passage)}`,
    ),
    ...(out.outline ?? []).map(
      (h) => `- ${"#".repeat(h.level)} ${quoted(h.text)} at ${h.offset}, ${h.size} characters`,
    ),
  ];
  return {
    structured: out,
    summary: `${nb} (${out.format}, ${markdown.length} characters of Markdown). ${said.join(" ")}`,
    text: "",
    documents: peoplesLines(lines, "The passages and headings"),
  };
}
