/**
 * Argument schemas shared by the operations. Identifiers are checked so that no value can change
 * a path or a query.
 */
import { z } from "zod";
import { documentProblem, SentDocument } from "../../content/sent-document.js";
import { toolError } from "../../posthog/errors.js";

export const ShortId = z
  .string()
  .regex(/^[A-Za-z0-9]{1,32}$/, "must be a notebook short id: letters and digits only, like 'aB3dE6gH'")
  .describe("Notebook short id (aB3dE6gH).");

export const ProjectIdArg = z
  .union([
    z.number().int().positive(),
    z.literal("@current"),
    z
      .string()
      .regex(/^[1-9][0-9]{0,14}$/, "must be a project id (up to 15 digits) or '@current'")
      .transform(Number),
  ])
  .describe("Project id, or '@current' for the key's current project. Defaults to the configured project.");

export const RecordingId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,200}$/, "must be a session recording id: letters, digits, '.', '_' or '-'")
  .describe("Session recording id.");

export const Title = z.string().max(256, "must be at most 256 characters").nullable().describe("Title.");

export const Content = z
  // Sent as its text, the document is parsed and checked where it is converted (in a worker, when
  // long), as one sent as an object is checked here: refused in the same words either way.
  .union([z.record(z.string(), z.unknown()), z.string().transform((json) => new SentDocument(json))])
  .nullable()
  .superRefine((doc, ctx) => {
    if (doc === null || doc instanceof SentDocument) return;
    const problem = documentProblem(doc);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe("TipTap JSON document (or its JSON text); prefer markdown.");

export const MAX_MARKDOWN = 5_000_000;

export const MarkdownArg = z.string().max(MAX_MARKDOWN);

export const TextContent = z.string().nullable().describe("Derived if omitted.");

export const Limit = (max: number, fallback: number) =>
  z.number().int().min(1).max(max).describe(`Page size (default ${fallback}).`);

export const Offset = z.number().int().min(0).describe("How many to skip (from next).");

export const Page = z.number().int().min(1).describe("Page number (from next).");

export const Cursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,512}$/, "must be the cursor from a previous result's next")
  .describe("From a previous result's next.");

export const FullActivity = z
  .boolean()
  .describe("true: each change's whole value before and after instead of a line diff (costly).");

export const NotebookRef = { short_id: ShortId } as const;

/** At most one of `keys` may be given. */
export function exclusive(args: Record<string, unknown>, keys: string[]): void {
  const given = keys.filter((key) => args[key] !== undefined);
  if (given.length > 1) {
    throw toolError(
      "invalid_arguments",
      `Pass only one of ${given.join(" and ")}: each replaces or extends the same document. Nothing was sent to PostHog.`,
    );
  }
}

/** The arguments without those left undefined. */
export function defined(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
}
