/**
 * Notebook documents as the tools handle them: shown as PostHog's Markdown (characters that can
 * only hide something made visible), written back block by block so that nothing the agent did
 * not change is changed, new notebooks as v1 documents, titles in step with the first heading and
 * text_content derived as PostHog's editor derives it. The converters load on first use, so a
 * server that never converts never pays for them.
 */
import { type DocumentFormat, formatOf } from "../content/nodes.js";
import { SentDocument } from "../content/sent-document.js";
import type { Stored, WriteMade, WriteRequest } from "../content/write-job.js";
import { JsonBody } from "../posthog/client.js";
import { toolError } from "../posthog/errors.js";
import { charsOf, type Snapshot } from "./snapshots.js";
import { convert } from "./worker-pool.js";

export { type DocumentFormat, formatOf } from "../content/nodes.js";

/**
 * The format of a snapshot's document: told from its shape, or, for a document kept as bytes, by
 * the conversion that makes its Markdown (not parsed on the server's thread only for this).
 */
export async function formatOfSnapshot(snapshot: Snapshot): Promise<DocumentFormat> {
  if (!snapshot.raw) return formatOf(snapshot.notebook.content);
  await shownMarkdown(snapshot);
  return snapshot.format ?? "other";
}

/** Something a write could not understand, with its line in what the agent sent. */
export type { WriteNote } from "../content/write-job.js";

/**
 * The stored document of a snapshot as a conversion takes it: the bytes of its JSON when it was
 * kept so (nothing to copy but bytes), else the document itself.
 */
export function storedOf(snapshot: Snapshot): Stored | null {
  if (snapshot.raw) return { json: snapshot.raw };
  const content = snapshot.notebook.content;
  return content === null || content === undefined ? null : { value: content };
}

/** A notebook's Markdown as agents are shown it, made once per snapshot. */
export async function shownMarkdown(snapshot: Snapshot): Promise<string> {
  if (snapshot.markdown === undefined) {
    const shown = await convert("shownMarkdown", snapshot.size, storedOf(snapshot));
    snapshot.format = shown.format;
    snapshot.markdown = shown.markdown;
  }
  return snapshot.markdown;
}

/**
 * The request body of one write, made in one conversion job (in a worker when `size`, about the
 * characters involved, is big): the document converted and checked by the write-time guard, its
 * title and text_content, all as JSON bytes ready to send. A write the guard refuses throws the
 * tool error saying why, and nothing is sent.
 */
export async function prepareWrite(
  request: WriteRequest,
  size: number,
): Promise<Omit<WriteMade, "body"> & { body: JsonBody }> {
  const made = await convert("makeWrite", size, request);
  if (made.refused || made.body === null) {
    throw toolError(
      made.refused?.reason ?? "would_damage",
      made.refused?.message ?? "The write was refused.",
    );
  }
  const { start, end } = made.contentSpan ?? { start: 0, end: 0 };
  return {
    ...made,
    body: new JsonBody(made.body, made.contentSpan ? made.body.subarray(start, end) : undefined),
  };
}

/**
 * A change to the stored notebook `base` (Markdown rewriting it or appended to it, and/or a new
 * title) as one write job: the body is made against `base`'s version, with `fields` beside it.
 */
export function prepareChange(
  base: Snapshot,
  change: { rewrite?: string | undefined; append?: string | undefined; title?: string | null | undefined },
  fields: Record<string, unknown> = {},
): Promise<Omit<WriteMade, "body"> & { body: JsonBody }> {
  return prepareWrite(
    {
      job: { kind: "change", base: storedOf(base), baseTitle: base.notebook.title ?? null, ...change },
      fields: { ...fields, version: base.notebook.version },
    },
    base.size + (change.append?.length ?? change.rewrite?.length ?? 0),
  );
}

/**
 * A JSON document the agent sent to `tool` as one write job: cleaned, its title (when `titleFrom`)
 * and text_content derived, with `fields` beside it. Sent as text, it is parsed and checked in the
 * job (in a worker, for a long one), and refused there as invalid arguments.
 */
export function prepareContent(
  tool: string,
  content: Record<string, unknown> | SentDocument,
  titleFrom: boolean,
  fields: Record<string, unknown>,
): Promise<Omit<WriteMade, "body"> & { body: JsonBody }> {
  const sent = content instanceof SentDocument;
  return prepareWrite(
    {
      job: {
        kind: "content",
        content: sent ? { sent: content.json, tool } : { value: content },
        titleFrom,
      },
      fields,
    },
    sent ? content.json.length : charsOf(content),
  );
}
