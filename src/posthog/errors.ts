/**
 * The error policy: every upstream failure becomes one or two sentences an agent can act on,
 * saying what happened and what to do next. Upstream bodies are summarised, never dumped.
 */
import { z } from "zod";
import type { HttpMethod, UpstreamError, UpstreamResponse } from "./client.js";
import { type Grants, keySettingsUrl } from "./scopes.js";

/** PostHog's error envelope (drf-exceptions-hog); every field optional because not every 4xx uses it. */
export const ErrorEnvelopeSchema = z.looseObject({
  type: z.string().nullish(),
  code: z.string().nullish(),
  detail: z.unknown().optional(),
  attr: z.string().nullish(),
});

export interface ErrorContext {
  /** The tool that failed, e.g. `notebooks-retrieve`. */
  tool: string;
  host: string;
  projectId: number | "@current";
  shortId?: string | undefined;
  /** Set when this server soft-deleted the notebook earlier in the session. */
  deletedHere?: boolean;
  /** The projects the key is limited to, when it is and that is known. */
  allowedProjects?: readonly number[] | undefined;
}

export interface ToolFailure {
  /** Short machine-readable reason, e.g. `conflict`, `not_found`, `missing_scope`. */
  reason: string;
  message: string;
  /** For 429s: seconds after which a retry is expected to succeed. */
  retryAfterSeconds?: number;
}

const MAX_DETAIL = 300;

/** Upstream text, short (what is shown is redacted with the session's key, pieces included). */
function clip(text: string, max = MAX_DETAIL): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The envelope's `detail`, or the first message of a DRF field-error object, as one short string. */
export function upstreamDetail(body: unknown): string | undefined {
  const envelope = ErrorEnvelopeSchema.safeParse(body);
  if (envelope.success && typeof envelope.data.detail === "string") return clip(envelope.data.detail);
  if (body && typeof body === "object" && !Array.isArray(body)) {
    for (const [field, value] of Object.entries(body)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === "string") return clip(`${field}: ${first}`);
    }
  }
  return undefined;
}

export function upstreamAttr(body: unknown): string | undefined {
  const envelope = ErrorEnvelopeSchema.safeParse(body);
  return envelope.success ? (envelope.data.attr ?? undefined) : undefined;
}

/** Seconds to wait from `Retry-After`, or from a 429's "Expected available in N seconds." */
export function retryAfterSeconds(response: Pick<UpstreamResponse, "headers" | "body">): number | undefined {
  const header = response.headers["retry-after"];
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw !== undefined) {
    const seconds = Number(raw);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
    const date = Date.parse(raw);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  }
  const detail = upstreamDetail(response.body);
  const match = detail?.match(/available in (\d+(?:\.\d+)?) seconds?/i);
  return match?.[1] ? Math.ceil(Number(match[1])) : undefined;
}

export function isScopeRefusal(body: unknown): string | undefined {
  const detail = upstreamDetail(body);
  return detail?.match(/missing required scope '([^']+)'/i)?.[1];
}

export function isProjectRefusal(body: unknown): boolean {
  return /access to the requested (project|organization)/i.test(upstreamDetail(body) ?? "");
}

export function isPersonalKeyRefusal(status: number, body: unknown): boolean {
  return status === 403 && /does not support personal api key/i.test(upstreamDetail(body) ?? "");
}

/**
 * What to do after a write (POST, PATCH) whose answer was lost or was a server error: PostHog may
 * have applied it, and calling the tool again blindly could create a second notebook or apply an
 * update twice. Reads, and writes that provably never arrived, are simply tried again.
 */
function checkBeforeRepeating(method: HttpMethod | undefined, tool: string): string | undefined {
  if (method !== "POST" && method !== "PATCH") return undefined;
  return `PostHog may have made the change before the answer was lost: check with notebooks-retrieve or notebooks-list before calling ${tool} again, so that it is not made twice.`;
}

function projectLabel(projectId: number | "@current"): string {
  return projectId === "@current" ? "the key's current project" : `project ${projectId}`;
}

function notebookLabel(ctx: ErrorContext): string {
  return ctx.shortId ? `Notebook "${ctx.shortId}"` : "The notebook";
}

/** Turns an HTTP error answer into the sentence the agent reads. */
export function describeHttpError(response: UpstreamResponse, ctx: ErrorContext): ToolFailure {
  const { status, body } = response;
  const detail = upstreamDetail(body);
  const keys = keySettingsUrl(ctx.host);
  switch (status) {
    case 400: {
      const attr = upstreamAttr(body);
      const what = detail ?? "the request was not accepted";
      return {
        reason: "invalid_request",
        message: `PostHog rejected the arguments${attr ? ` (field "${attr}")` : ""}: ${what}. Correct ${attr ? `"${attr}"` : "the arguments"} and call ${ctx.tool} again.`,
      };
    }
    case 401:
      return {
        reason: "key_rejected",
        message: `PostHog rejected the personal API key (${detail ?? "authentication failed"}). Create a new personal API key at ${keys}, set it as POSTHOG_PERSONAL_API_KEY in the MCP client's configuration and restart the server.`,
      };
    case 403: {
      const scope = isScopeRefusal(body);
      if (scope) return missingScope(ctx.tool, scope, ctx.host);
      if (isPersonalKeyRefusal(status, body)) {
        return {
          reason: "personal_key_refused",
          message: `PostHog does not allow personal API keys on this endpoint, so ${ctx.tool} cannot be served by it. No retry will help; use the related tools instead.`,
        };
      }
      if (isProjectRefusal(body)) {
        const allowed = ctx.allowedProjects;
        const use =
          allowed && allowed.length > 0
            ? `The key may use project${allowed.length > 1 ? "s" : ""} ${allowed.join(", ")}: pass one as project_id (or set POSTHOG_PROJECT_ID)`
            : "Use a project the key is scoped to (pass project_id)";
        return {
          reason: "project_not_allowed",
          message: `${detail} ${use}, or widen the key's projects at ${keys}.`,
        };
      }
      return {
        reason: "forbidden",
        message: `PostHog refused access to ${ctx.shortId ? `the notebook "${ctx.shortId}"` : projectLabel(ctx.projectId)}: ${detail ?? "permission denied"}. Ask a project admin for access, or use a key with more access.`,
      };
    }
    case 404: {
      if (detail && /project not found/i.test(detail)) {
        return {
          reason: "project_not_found",
          message: `PostHog has no ${projectLabel(ctx.projectId)} that this key can see. Check project_id (or POSTHOG_PROJECT_ID) and POSTHOG_HOST (US and EU are separate).`,
        };
      }
      if (!ctx.shortId) {
        return {
          reason: "not_found",
          message: `PostHog answered 404 for ${ctx.tool} in ${projectLabel(ctx.projectId)}. Check project_id and POSTHOG_HOST.`,
        };
      }
      if (ctx.deletedHere) {
        return {
          reason: "deleted",
          message: `${notebookLabel(ctx)} is deleted (it was soft-deleted earlier in this session). Restore it with notebooks-partial-update {"short_id": "${ctx.shortId}", "deleted": false}.`,
        };
      }
      return {
        reason: "not_found",
        message: `${notebookLabel(ctx)} was not found in ${projectLabel(ctx.projectId)}: it does not exist, or it was deleted. Find notebooks with notebooks-list; a deleted one can be restored with notebooks-partial-update {"short_id": "${ctx.shortId}", "deleted": false}.`,
      };
    }
    case 405:
      return {
        reason: "method_not_allowed",
        message: `PostHog does not allow this method here (405)${ctx.tool === "notebooks-destroy" ? ": notebooks cannot be hard-deleted" : ""}. To delete a notebook use notebooks-destroy, which soft-deletes it.`,
      };
    case 409:
      return conflict(ctx.shortId, detail ?? "version conflict").failure;
    case 429: {
      const seconds = retryAfterSeconds(response);
      const when = seconds === undefined ? "in a minute" : `in ${seconds} second${seconds === 1 ? "" : "s"}`;
      return {
        reason: "rate_limited",
        message: `PostHog is rate-limiting this key (${detail ?? "too many requests"}). Try again ${when}; personal API keys are allowed 480 requests a minute and 4800 an hour.`,
        ...(seconds === undefined ? {} : { retryAfterSeconds: seconds }),
      };
    }
    default: {
      const summary = detail ?? (response.text ? `"${clip(response.text, 120)}"` : "no details");
      if (status >= 500) {
        const unsure = checkBeforeRepeating(response.method, ctx.tool);
        return {
          reason: "upstream_error",
          message: unsure
            ? `PostHog answered ${status} (a server error on PostHog's side: ${summary}). ${unsure} If it persists, check https://status.posthog.com.`
            : `PostHog answered ${status} (a server error on PostHog's side: ${summary}). Try again in a few seconds; if it persists, check https://status.posthog.com.`,
        };
      }
      return {
        reason: "unexpected_status",
        message: `PostHog answered ${status} to ${ctx.tool} (${summary}). Check the arguments and try again.`,
      };
    }
  }
}

/** Turns a transport failure (no usable HTTP answer) into the sentence the agent reads. */
export function describeTransportError(error: UpstreamError, ctx: ErrorContext): ToolFailure {
  const unsure = error.neverSent ? undefined : checkBeforeRepeating(error.method, ctx.tool);
  switch (error.kind) {
    case "aborted":
      return {
        reason: "cancelled",
        message: `${ctx.tool} was cancelled before PostHog answered.${unsure ? ` ${unsure}` : ""}`,
      };
    case "timeout":
      return {
        reason: "timeout",
        message: unsure
          ? `PostHog did not answer in time (${error.message}). ${unsure} If it keeps happening, raise POSTHOG_MCP_TIMEOUT_MS.`
          : `PostHog did not answer in time (${error.message}). Try again; if it keeps happening, check POSTHOG_HOST (${ctx.host}) and your network, or raise POSTHOG_MCP_TIMEOUT_MS.`,
      };
    case "network":
      return {
        reason: "network",
        message: unsure
          ? `Could not reach PostHog (${error.message}). ${unsure}`
          : `Could not reach PostHog (${error.message}). Check POSTHOG_HOST (${ctx.host}) and your network connection, then try again.`,
      };
    case "rate-limited":
      return {
        reason: "rate_limited",
        message: `Too many PostHog requests in a short time (${error.message}); nothing was sent. Wait a minute and try again: personal API keys are allowed 480 requests a minute and 4800 an hour.`,
      };
    case "malformed":
      return {
        reason: "bad_upstream_answer",
        message: unsure
          ? `${error.message}. ${unsure}`
          : `${error.message}. This is usually a proxy or an outage between you and PostHog; try again in a few seconds.`,
      };
    case "too-large":
      return {
        reason: "bad_upstream_answer",
        message: unsure
          ? `${error.message}. ${unsure}`
          : `${error.message}, so it cannot be passed on; trying again will not help. Ask for less where the tool allows it (a smaller limit, a narrower filter).`,
      };
  }
}

/** A project the key is not limited to: refused before anything is sent. */
export function projectRefusal(grants: Grants, projectId: number | "@current", host: string): ToolFailure {
  const allowed = grants.status === "known" ? (grants.scopedTeams ?? []) : [];
  const list = allowed.join(", ");
  return {
    reason: "project_not_allowed",
    message: `The personal API key is limited to project${allowed.length > 1 ? "s" : ""} ${list}, not project ${projectId}, so nothing was sent. Pass one of those as project_id (or set POSTHOG_PROJECT_ID to one), or add project ${projectId} to the key at ${keySettingsUrl(host)}.`,
  };
}

/** `tool`: a tool's name, or "resources" for reading notebooks as MCP resources. */
export function missingScope(tool: string, scope: string, host: string): ToolFailure {
  const resources = tool === "resources";
  const what = resources ? "reading notebooks as resources" : tool;
  const again = resources ? "read the resource again" : `call ${tool} again`;
  return {
    reason: "missing_scope",
    message: `The personal API key lacks the '${scope}' scope that ${what} needs, so nothing was sent to PostHog. Add '${scope}' to the key at ${keySettingsUrl(host)} (or create a key with it), then ${again}.`,
  };
}

/** A write made against a version of the notebook that is no longer the current one. */
export function conflict(shortId: string | undefined, detail: string): ToolError {
  const label = shortId ? `Notebook "${shortId}"` : "The notebook";
  return toolError(
    "conflict",
    `${label} was changed by someone else since the version you sent (${detail}). Retrieve it again with notebooks-retrieve, reapply your change to the new content and send the new version.`,
  );
}

/** A failure already put into words; the tool dispatcher turns it into an `isError` result. */
export class ToolError extends Error {
  override name = "ToolError";
  constructor(readonly failure: ToolFailure) {
    super(failure.message);
  }
}

export function toolError(reason: string, message: string): ToolError {
  return new ToolError({ reason, message });
}
