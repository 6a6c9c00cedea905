/** Endpoints PostHog refuses to personal API keys, and the fallbacks that serve them another way. */
import type { z } from "zod";
import { isPersonalKeyRefusal } from "../posthog/errors.js";
import type { OpContext, OpRequest } from "./types.js";

/**
 * Calls an endpoint that PostHog refuses to personal API keys (in every version seen so far, but
 * not promised): its answer, or undefined when it refuses, so the caller serves the call another
 * way. A refusal is remembered per project, so the endpoint is asked once a session.
 */
export async function unlessPersonalKeyRefused<T>(
  ctx: OpContext,
  req: OpRequest,
  schema: z.ZodType<T>,
): Promise<T | undefined> {
  const endpoint = `${req.segments.join("/")}@${ctx.projectId}`;
  if (ctx.memory.personalKeyRefused.has(endpoint)) return undefined;
  const answer = await ctx.attempt(req, schema);
  if (answer.ok) return answer.data;
  if (!isPersonalKeyRefusal(answer.response.status, answer.response.body)) return ctx.fail(answer.response);
  ctx.memory.personalKeyRefused.add(endpoint);
  return undefined;
}
