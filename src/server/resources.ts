/**
 * Resources: each notebook's text_content at `posthog://notebooks/{short_id}`. The listing is paged
 * with MCP cursors mapped onto PostHog's offsets, so a project of any size lists page by page.
 */
import {
  type ListResourcesResult,
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  ResourceNotFoundError,
} from "@modelcontextprotocol/server";
import { revealInvisible } from "../content/invisible.js";
import { accountedTo } from "../cpu-account.js";
import { shownMarkdown } from "../notebooks/documents.js";
import { readNotebook } from "../notebooks/io.js";
import { ShortId } from "../operations/shared/args.js";
import { UpstreamError } from "../posthog/client.js";
import { describeTransportError, ToolError, type ToolFailure } from "../posthog/errors.js";
import { NotebookPageSchema } from "../posthog/schemas.js";
import type { Session } from "../session.js";
import { createOpContext } from "./op-context.js";
import { budget, guard, overShare } from "./request-guard.js";
import { holdRequest, requestSignal } from "./request-scope.js";

export const NOTEBOOK_URI_TEMPLATE = "posthog://notebooks/{short_id}";
export const NOTEBOOK_MARKDOWN_URI_TEMPLATE = "posthog://notebooks/{short_id}/markdown";
const URI_PATTERN = /^posthog:\/\/notebooks\/([^/?#]+)(\/markdown)?$/;
/** A notebook URI whose short id is one `ShortId` accepts (letters and digits, 1 to 32). */
const WATCHABLE_URI = /^posthog:\/\/notebooks\/[A-Za-z0-9]{1,32}(?:\/markdown)?$/;
export const RESOURCE_PAGE_SIZE = 100;

/** Resources one session, or one listen stream, may watch at once. */
export const MAX_SUBSCRIPTIONS = 1_000;

/**
 * What a listen stream keeps of the URIs it is asked to watch: notebook URIs (the only resources
 * that change here), each once; it stops past MAX_SUBSCRIPTIONS of them (more are refused).
 */
export function watchedUris(asked: readonly unknown[]): string[] {
  const kept = new Set<string>();
  for (const uri of asked) {
    if (typeof uri !== "string" || !isNotebookUri(uri)) continue;
    kept.add(uri);
    if (kept.size > MAX_SUBSCRIPTIONS) break;
  }
  return [...kept];
}

/**
 * Whether `uri` names a notebook resource as this server writes them (the only resources that
 * change here, so the only ones worth watching).
 */
export function isNotebookUri(uri: string): boolean {
  // One pattern, not zod: a refused `safeParse` builds its issues, 10 µs each, and a listen
  // request may name tens of thousands of URIs.
  return WATCHABLE_URI.test(uri);
}

export function notebookUri(shortId: string): string {
  return `posthog://notebooks/${shortId}`;
}

export function notebookMarkdownUri(shortId: string): string {
  return `posthog://notebooks/${shortId}/markdown`;
}

function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString("base64url");
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const match = /^offset:(\d{1,9})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match?.[1])
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      "Invalid cursor: pass the nextCursor of a previous resources/list.",
    );
  return Number(match[1]);
}

/** A refusal's sentence, as the JSON-RPC error a resource read or listing answers with. */
function asProtocolError(failure: ToolFailure): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InternalError, failure.message, { reason: failure.reason });
}

/** Turns a failure into the JSON-RPC error a resource request answers with (never the key). */
function asMcpError(error: unknown, session: Session, uri?: string): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (error instanceof ToolError) {
    const { reason, message } = error.failure;
    if ((reason === "not_found" || reason === "deleted") && uri) {
      return new ResourceNotFoundError(uri, `Resource not found: ${message}`);
    }
    return asProtocolError(error.failure);
  }
  if (error instanceof UpstreamError) {
    const failure = describeTransportError(error, {
      tool: "resources",
      host: session.config.host,
      projectId: session.config.projectId,
    });
    return asProtocolError(failure);
  }
  session.logger.error({ err: error }, "unexpected error serving a resource");
  return new ProtocolError(-32603, "Reading the resource failed inside this server; try again.");
}

/** The guard tools pass, for resources: mode, key, scope and project, before anything is sent. */
async function requireRead(session: Session): Promise<void> {
  const refused = await guard(session, { name: "resources", scope: "notebook:read", writes: false });
  if (refused) throw asProtocolError(refused);
}

export async function listResources(
  session: Session,
  cursor: string | undefined,
  signal: AbortSignal,
): Promise<ListResourcesResult> {
  const offset = decodeCursor(cursor);
  await requireRead(session);
  const ctx = createOpContext(session, "resources/list", session.config.projectId, signal);
  try {
    const page = await ctx.call(
      { method: "GET", segments: ["notebooks"], query: { limit: RESOURCE_PAGE_SIZE, offset } },
      NotebookPageSchema,
    );
    const resources = page.results.map((nb) => ({
      uri: notebookUri(nb.short_id),
      name: nb.short_id,
      title: revealInvisible(nb.title || `Untitled notebook ${nb.short_id}`),
      mimeType: "text/plain",
      ...(nb.last_modified_at ? { annotations: { lastModified: nb.last_modified_at } } : {}),
    }));
    const more = page.next !== null && page.next !== undefined && page.results.length > 0;
    return { resources, ...(more ? { nextCursor: encodeCursor(offset + page.results.length) } : {}) };
  } catch (error) {
    throw asMcpError(error, session);
  }
}

export async function readResource(
  session: Session,
  uri: string,
  signal: AbortSignal,
): Promise<ReadResourceResult> {
  // Over HTTP: aborted once the request's client is gone, and its place held until this ends.
  const release = holdRequest();
  try {
    return await read(session, uri, requestSignal(signal));
  } finally {
    release();
  }
}

async function read(session: Session, uri: string, signal: AbortSignal): Promise<ReadResourceResult> {
  const match = URI_PATTERN.exec(uri);
  const shortId = match?.[1] ? decodeURIComponent(match[1]) : undefined;
  if (!shortId || !ShortId.safeParse(shortId).success) {
    // Refused before the key's budget: once the key is over its share, it is told that instead.
    const over = overShare(session, "resources/read");
    if (over) throw asProtocolError(over);
    throw new ResourceNotFoundError(
      uri,
      `Resource not found: ${uri} is not a notebook URI (posthog://notebooks/{short_id}).`,
    );
  }
  await requireRead(session);
  const spent = await budget(session, { name: "resources/read" }, signal);
  if (spent) throw asProtocolError(spent);
  const ctx = createOpContext(session, "resources/read", session.config.projectId, signal, shortId);
  try {
    return await accountedTo(session.client.cpuAccount, async (): Promise<ReadResourceResult> => {
      const snapshot = await readNotebook(ctx, shortId);
      const nb = snapshot.notebook;
      if (match?.[2]) {
        const markdown = await shownMarkdown(snapshot);
        return { contents: [{ uri, mimeType: "text/markdown", text: markdown }] };
      }
      return { contents: [{ uri, mimeType: "text/plain", text: revealInvisible(nb.text_content ?? "") }] };
    });
  } catch (error) {
    throw asMcpError(error, session, uri);
  }
}

const COMPLETIONS = 20;

export type Completions = {
  values: string[];
  /** How many match, when every match was seen. */
  total?: number;
  hasMore: boolean;
};

/**
 * Completes `{short_id}` in the notebook URI templates: notebooks whose id starts with what was
 * typed, then notebooks whose title or text matches it (PostHog's search), newest first. Nothing is
 * asked of PostHog that the key may not do.
 */
export async function completeShortId(
  session: Session,
  typed: string,
  signal: AbortSignal = AbortSignal.timeout(session.config.timeouts.headers + session.config.timeouts.body),
): Promise<Completions> {
  const none: Completions = { values: [], total: 0, hasMore: false };
  if (await guard(session, { name: "completion", scope: "notebook:read", writes: false })) return none;
  const value = typed.trim().slice(0, 200);
  const ctx = createOpContext(session, "completion", session.config.projectId, signal);
  const recent = ctx.call(
    { method: "GET", segments: ["notebooks"], query: { limit: 100 } },
    NotebookPageSchema,
  );
  const searched =
    value.length >= 2
      ? ctx.call(
          { method: "GET", segments: ["notebooks"], query: { limit: COMPLETIONS, search: value } },
          NotebookPageSchema,
        )
      : undefined;
  try {
    const [byId, byText] = await Promise.all([recent, searched]);
    const prefix = value.toLowerCase();
    const ids = [
      ...new Set(
        [
          ...byId.results.filter((nb) => nb.short_id.toLowerCase().startsWith(prefix)),
          ...(byText?.results ?? []),
        ].map((nb) => nb.short_id),
      ),
    ];
    const cut = Boolean(byId.next) || Boolean(byText?.next);
    return {
      values: ids.slice(0, COMPLETIONS),
      ...(cut ? {} : { total: ids.length }),
      hasMore: ids.length > COMPLETIONS || Boolean(byText?.next),
    };
  } catch {
    return none;
  }
}
