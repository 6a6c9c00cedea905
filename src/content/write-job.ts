/**
 * One write, made in one piece: from what the agent sent (Markdown, a title, a JSON document) and
 * the stored version (for changes to a notebook), the request body PostHog is sent, as JSON bytes
 * ready to go. Conversion, the write-time guard, the title and text_content are all done here, so
 * that a big write is one job for a conversion worker: the server's own thread hands over
 * strings and bytes, gets bytes back, and never holds or copies the document itself.
 *
 * Stored versions and JSON documents come as they are, or as the bytes of their JSON (what the
 * server keeps of a notebook PostHog sent it: see `Stored`).
 */
import type { Refusal } from "./guard.js";
import { restoreInvisible, revealInvisible } from "./invisible.js";
import { type DocJSON, type DocumentFormat, formatOf, markdownNotebookNode, type NodeJSON } from "./nodes.js";
import { listedNotes, type WriteNote } from "./notes.js";
import { sanitize } from "./sanitize.js";
import { readSentDocument } from "./sent-document.js";
import { deriveTextContent } from "./text-content.js";
import { documentTitle, withTitle } from "./title.js";
import { documentToMarkdown } from "./to-markdown.js";
import {
  appendToDocument,
  checkMarkdown,
  convertInPieces,
  PIECE_CHARS,
  POSTHOG_BODY_LIMIT,
  rewriteDocument,
  tooLarge,
} from "./write-back.js";

/** A document as it is, or the UTF-8 bytes of its JSON. */
export type Stored = { json: Uint8Array } | { value: unknown };

/** The document a `Stored` holds (parsed here: in a worker, off the server's thread). */
export function storedValue(stored: Stored): unknown {
  return "json" in stored ? JSON.parse(new TextDecoder().decode(stored.json)) : stored.value;
}

export type { WriteNote };

export type WriteJob =
  /** A new notebook from Markdown; `title` given by the agent, if any. */
  | { kind: "create"; markdown: string; title?: string | null | undefined }
  /**
   * A JSON document the agent sent, cleaned; its title taken from it when `title` is undefined
   * (and `titleFrom` is true).
   */
  | {
      kind: "content";
      /** `sent`: the JSON text the agent sent to `tool`, parsed and checked here. */
      content: Stored | { sent: string; tool: string } | null;
      titleFrom: boolean;
    }
  /**
   * A change to a stored notebook: the Markdown rewrites it or is appended to it, and/or `title`
   * renames it (its first heading follows).
   */
  | {
      kind: "change";
      base: Stored | null;
      /** The stored notebook's title, to tell whether the change implies a new one. */
      baseTitle: string | null;
      rewrite?: string | undefined;
      append?: string | undefined;
      /** A new title (null: none); undefined leaves it. */
      title?: string | null | undefined;
    };

export interface WriteRequest {
  job: WriteJob;
  /** The rest of the body, sent as it is (text_content given by the agent, deleted, version…). */
  fields: Record<string, unknown>;
}

export interface WriteMade {
  /** The request body as UTF-8 JSON, or null when the guard refused the write. */
  body: Uint8Array | null;
  /**
   * Where the document's JSON lies in `body` (bytes), when it carries one: PostHog echoes the
   * document it stored, and an echo holding these very bytes there need not be read through.
   */
  contentSpan: { start: number; end: number } | null;
  refused: Refusal | null;
  notes: WriteNote[];
  /** The title the body sets (or null when it sets none). */
  title: string | null;
  /** Top-level blocks kept as stored and written from Markdown (changes from Markdown). */
  kept: number;
  written: number;
  /** Whether the body carries a document. */
  content: boolean;
}

function refusedWith(refused: Refusal, notes: WriteNote[]): WriteMade {
  return {
    body: null,
    contentSpan: null,
    refused,
    notes: listedNotes(notes),
    title: null,
    kept: 0,
    written: 0,
    content: false,
  };
}

/** A JSON document as PostHog should store it: links and sources that would run a script dropped. */
export function cleanDocument(content: unknown): { content: unknown; notes: WriteNote[] } {
  const v2 = markdownNotebookNode(content);
  if (v2 && typeof v2.attrs?.markdown === "string") {
    const checked = checkMarkdown(v2.attrs.markdown);
    if (checked.markdown === v2.attrs.markdown) return { content, notes: checked.diagnostics };
    const node = { ...v2, attrs: { ...v2.attrs, markdown: checked.markdown } };
    return { content: { ...(content as object), content: [node] }, notes: checked.diagnostics };
  }
  const cleaned = sanitize(content);
  return {
    content: cleaned.value,
    notes: cleaned.dropped.map((drop) => ({
      line: 0,
      message: `the ${drop.what} of ${drop.type} is a script or file address (${JSON.stringify(drop.value.slice(0, 60))}): dropped`,
    })),
  };
}

export type { DocumentFormat };

/**
 * A new notebook's request body, made a piece of its Markdown at a time (`convertInPieces`): each
 * piece's nodes are written out as JSON bytes and as text_content, then dropped, so that the
 * document is never held whole as objects. The bytes are those `JSON.stringify` would give.
 */
export function createWrite(
  job: Extract<WriteJob, { kind: "create" }>,
  fields: Record<string, unknown>,
  pieceChars = PIECE_CHARS,
): WriteMade {
  // A title as agents are shown it: its ⟦U+…⟧ markers are the characters again, in both places.
  const title = job.title ? restoreInvisible(job.title) : job.title;
  const encoder = new TextEncoder();
  /** The document's JSON, as written so far, and its bytes. */
  const parts: Uint8Array[] = [];
  let documentBytes = 0;
  const push = (json: string) => {
    const part = encoder.encode(json);
    parts.push(part);
    documentBytes += part.byteLength;
  };
  push('{"type":"doc","content":[');
  const texts: string[] = [];
  let bodyTitle: string | undefined;
  let started = false;
  /** The first nodes written: the title is its leading heading's, or the heading says the title. */
  const titled = (nodes: NodeJSON[]): NodeJSON[] => {
    const doc: DocJSON = { type: "doc", content: nodes };
    const leading = documentTitle(doc);
    if (title) {
      bodyTitle = title;
      return leading === title ? nodes : withTitle(doc, title).content;
    }
    if (leading !== null) bodyTitle = leading;
    return nodes;
  };
  let over = false;
  const write = (written: NodeJSON[]) => {
    const nodes = started ? written : titled(written);
    if (nodes.length === 0 || over) return;
    push(`${started ? "," : ""}${JSON.stringify(nodes).slice(1, -1)}`);
    // Over what PostHog takes already: the rest is not converted.
    if (documentBytes > POSTHOG_BODY_LIMIT) over = true;
    // text_content: every top-level block but the very first starts on a line of its own.
    const text = deriveTextContent({ type: "doc", content: nodes });
    texts.push(started ? `\n${text}` : text);
    started = true;
  };
  const { diagnostics: notes, refused } = convertInPieces(
    restoreInvisible(job.markdown),
    (nodes) => {
      if (started || nodes.length > 0) write(nodes);
      return !over;
    },
    pieceChars,
    POSTHOG_BODY_LIMIT,
  );
  if (refused) return refusedWith(refused, notes);
  if (over) return refusedWith(tooLarge(documentBytes, true), notes);
  if (!started) write([]);
  push("]}");
  const rest: Record<string, unknown> = { ...fields };
  if (bodyTitle !== undefined) rest.title = bodyTitle;
  // Derived as PostHog's web editor derives it, so that PostHog's search finds what agents write.
  if (rest.text_content === undefined) rest.text_content = texts.join("");
  const others = JSON.stringify(rest);
  const head = encoder.encode('{"content":');
  const tail = encoder.encode(others === "{}" ? "}" : `,${others.slice(1)}`);
  const size = head.byteLength + documentBytes + tail.byteLength;
  if (size > POSTHOG_BODY_LIMIT) return refusedWith(tooLarge(size, false), notes);
  const body = new Uint8Array(size);
  body.set(head, 0);
  let at = head.byteLength;
  for (const part of parts) {
    body.set(part, at);
    at += part.byteLength;
  }
  body.set(tail, at);
  return {
    body,
    contentSpan: { start: head.byteLength, end: head.byteLength + documentBytes },
    refused: null,
    notes: listedNotes(notes),
    title: bodyTitle ?? null,
    kept: 0,
    written: 0,
    content: true,
  };
}

/** Makes the request body of one write (see the module's comment). */
export function makeWrite(request: WriteRequest): WriteMade {
  const { job } = request;
  const body: Record<string, unknown> = { ...request.fields };
  let notes: WriteNote[] = [];
  let kept = 0;
  let written = 0;
  if (job.kind === "create") return createWrite(job, request.fields);
  if (job.kind === "content") {
    if (job.content === null) body.content = null;
    else {
      const sent = "sent" in job.content ? readSentDocument(job.content.sent, job.content.tool) : undefined;
      if (sent && "refused" in sent) return refusedWith(sent.refused, []);
      const cleaned = cleanDocument(sent ? sent.value : storedValue(job.content as Stored));
      body.content = cleaned.content;
      notes = cleaned.notes;
      if (job.titleFrom && cleaned.content !== null) {
        const title = documentTitle(cleaned.content);
        if (title !== null) body.title = title;
      }
    }
  } else {
    const before = job.base === null ? null : storedValue(job.base);
    let doc: unknown = before;
    if (job.append !== undefined || job.rewrite !== undefined) {
      const done =
        job.append !== undefined
          ? appendToDocument(doc, restoreInvisible(job.append))
          : rewriteDocument(doc, restoreInvisible(job.rewrite as string));
      if (done.refused) return refusedWith(done.refused, done.diagnostics);
      ({ content: doc, diagnostics: notes, kept, written } = done);
    }
    const format = formatOf(doc);
    const title = typeof job.title === "string" ? restoreInvisible(job.title) : job.title;
    if (typeof title === "string" && (format === "v1" || format === "v2")) doc = withTitle(doc, title);
    if (doc !== before) body.content = doc;
    if (title !== undefined) body.title = title;
    else if (doc !== before) {
      const implied = documentTitle(doc);
      if (implied !== null && implied !== job.baseTitle) body.title = implied;
    }
  }
  // Whenever content is written without text_content, it is derived as PostHog's web editor
  // derives it, so that PostHog's search finds what agents write.
  if (body.content !== undefined && body.content !== null && body.text_content === undefined) {
    body.text_content = deriveTextContent(body.content);
  }
  const title = typeof body.title === "string" ? body.title : null;
  const { bytes, contentSpan } = encodeBody(body);
  if (bytes.byteLength > POSTHOG_BODY_LIMIT) return refusedWith(tooLarge(bytes.byteLength, false), notes);
  return {
    body: bytes,
    contentSpan,
    refused: null,
    notes: listedNotes(notes),
    title,
    kept,
    written,
    content: body.content !== undefined,
  };
}

/** The body as UTF-8 JSON, its document first (so that where it lies is known). */
function encodeBody(body: Record<string, unknown>): {
  bytes: Uint8Array;
  contentSpan: WriteMade["contentSpan"];
} {
  if (body.content === undefined)
    return { bytes: new TextEncoder().encode(JSON.stringify(body)), contentSpan: null };
  const { content, ...rest } = body;
  const document = JSON.stringify(content);
  const others = JSON.stringify(rest);
  const head = '{"content":';
  const json = `${head}${document}${others === "{}" ? "}" : `,${others.slice(1)}`}`;
  const bytes = new TextEncoder().encode(json);
  const start = head.length;
  return { bytes, contentSpan: { start, end: start + Buffer.byteLength(document) } };
}

/**
 * A notebook's Markdown as agents are shown it (characters that can only hide something made
 * visible), and its document's format.
 */
export function shownMarkdown(stored: Stored | null): { markdown: string; format: DocumentFormat } {
  const value = stored === null ? null : storedValue(stored);
  return { markdown: revealInvisible(documentToMarkdown(value)), format: formatOf(value) };
}
