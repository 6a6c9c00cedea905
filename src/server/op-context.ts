/**
 * The context an operation (or a resource read) runs with, bound to one project: each
 * request goes through the client, HTTP errors become the sentence the agent reads, PostHog's
 * answers are checked by zod, and a refused key or scope has the grants read again.
 */
import { z } from "zod";
import type { ProjectId } from "../config.js";
import { partlyParsed } from "../json-fields.js";
import type { OpContext, OpRequest } from "../operations/types.js";
import { projectPath, type UpstreamResponse } from "../posthog/client.js";
import {
  describeHttpError,
  type ErrorContext,
  isProjectRefusal,
  isScopeRefusal,
  ToolError,
} from "../posthog/errors.js";
import type { Grants } from "../posthog/scopes.js";
import type { Session } from "../session.js";

function allowedProjects(grants: Grants): readonly number[] | undefined {
  return grants.status === "known" ? (grants.scopedTeams ?? undefined) : undefined;
}

export type Gateway = OpContext & { errorContext(): ErrorContext };

export function createOpContext(
  session: Session,
  tool: string,
  projectId: ProjectId,
  signal: AbortSignal,
  shortId?: string,
): Gateway {
  const errorContext = (): ErrorContext => ({
    tool,
    host: session.config.host,
    projectId,
    shortId,
    deletedHere: shortId !== undefined && session.memory.deleted.has(shortId),
    allowedProjects: allowedProjects(session.grants.current),
  });
  const send = (req: OpRequest, raw = false): Promise<UpstreamResponse> =>
    session.client.request({
      method: req.method,
      path: projectPath(projectId, ...req.segments),
      query: req.query,
      body: req.body,
      signal,
      raw,
      expect: req.expect,
    });

  const validate = <T>(response: UpstreamResponse, schema: z.ZodType<T>): T => {
    const checked = schema.safeParse(response.body);
    if (!checked.success) {
      session.logger.warn({ tool, issues: checked.error.issues.slice(0, 3) }, "unexpected upstream shape");
      const what = `PostHog answered ${tool} with data of an unexpected shape (${z.prettifyError(checked.error).split("\n")[0]}).`;
      const next =
        response.method === "GET"
          ? "This PostHog version may differ from what this server supports; try again, and report it if it repeats."
          : "The change was probably made: check with notebooks-retrieve or notebooks-list before calling again, and report this if it repeats.";
      throw new ToolError({ reason: "bad_upstream_answer", message: `${what} ${next}` });
    }
    return checked.data;
  };

  const fail = (response: UpstreamResponse): never => {
    throw new ToolError(describeHttpError(response, errorContext()));
  };

  /** Sends, and when PostHog refuses the key or a scope, re-reads the grants before answering. */
  const exchange = async (req: OpRequest, raw = false): Promise<UpstreamResponse> => {
    const response = await send(req, raw);
    const refused =
      response.status === 401 ||
      (response.status === 403 &&
        (isScopeRefusal(response.body) !== undefined ||
          (session.grants.current.status !== "known" && isProjectRefusal(response.body))));
    if (refused) await session.grants.refresh();
    return response;
  };

  return {
    projectId,
    signal,
    errorContext,
    memory: session.memory,
    writer: session.client.id,
    maxResultChars: session.config.maxResultChars,
    webUrl: (shortId) => session.webUrl(projectId, shortId),
    fail,
    async call(req, schema) {
      const response = await exchange(req);
      if (response.status < 200 || response.status >= 300) fail(response);
      return validate(response, schema);
    },
    async attempt(req, schema) {
      const response = await exchange(req);
      if (response.status < 200 || response.status >= 300) return { ok: false, response };
      return { ok: true, data: validate(response, schema) };
    },
    async attemptPartly(req, schema, keep) {
      const response = await exchange(req, true);
      if (response.status < 200 || response.status >= 300) return { ok: false, response };
      const kept = new Map<string, Uint8Array>();
      const { bytes, fields } = response;
      if (!bytes || !fields) return { ok: true, data: { value: validate(response, schema), kept } };
      const decoder = new TextDecoder();
      // (Collected as entries: a field named `__proto__` stays a field.)
      const small: [string, unknown][] = [];
      for (const [name, span] of fields) {
        const value = bytes.subarray(span.start, span.end);
        if (keep.includes(name)) {
          kept.set(name, value);
          continue;
        }
        partlyParsed.bytes += value.length;
        try {
          small.push([name, JSON.parse(decoder.decode(value))]);
        } catch {
          // A value that is not JSON: the answer has no usable shape.
          small.push([name, Symbol("not JSON")]);
        }
      }
      return {
        ok: true,
        data: { value: validate({ ...response, body: Object.fromEntries(small) }, schema), kept },
      };
    },
  };
}
