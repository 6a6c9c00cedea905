/**
 * The one guard every tool call, resource read and completion passes before anything is sent to
 * PostHog: the mode (read-only), the key (rejected by PostHog?), its scope, and the project it may
 * reach. A refusal is the sentence the caller is shown: an `isError` result for a tool, a JSON-RPC
 * error for a resource, no completions for a completion.
 */
import type { ProjectId } from "../config.js";
import { UpstreamError } from "../posthog/client.js";
import { describeTransportError, missingScope, projectRefusal, type ToolFailure } from "../posthog/errors.js";
import { CpuBudgetSpent } from "../posthog/rate-limit.js";
import { grantsAllow, keySettingsUrl, projectAllowed, type Scope } from "../posthog/scopes.js";
import type { Session } from "../session.js";

export interface Request {
  /** What is asked for, as the sentences name it: a tool's name, `resources`, `completion`. */
  name: string;
  scope: Scope;
  writes: boolean;
}

/** Mode, key and scope: undefined when `request` may go on to its arguments. */
export async function admit(session: Session, request: Request): Promise<ToolFailure | undefined> {
  const { config } = session;
  if (request.writes && config.readOnly) {
    return {
      reason: "read_only",
      message:
        config.readOnlyFrom === "POSTHOG_MCP_READ_ONLY"
          ? `${request.name} changes notebooks, and this server runs read-only (POSTHOG_MCP_READ_ONLY is set), so nothing was sent. Remove POSTHOG_MCP_READ_ONLY from the server's environment in the MCP client configuration to allow writes.`
          : `${request.name} changes notebooks, and this server runs with --read-only, so nothing was sent. Remove --read-only from the server's arguments in the MCP client configuration to allow writes.`,
    };
  }
  const known = session.grants.fresh();
  const grants = known instanceof Promise ? await known : known;
  if (grants.status === "rejected") {
    return {
      reason: "key_rejected",
      message: `PostHog rejected the personal API key (${grants.reason}), so nothing was sent. Create a new personal API key at ${keySettingsUrl(config.host)}, set it as POSTHOG_PERSONAL_API_KEY in the MCP client's configuration and restart the server.`,
    };
  }
  if (!grantsAllow(grants, request.scope)) return missingScope(request.name, request.scope, config.host);
  return undefined;
}

/** The project: undefined when the key may reach `projectId`. */
export function reach(session: Session, projectId: ProjectId): ToolFailure | undefined {
  const grants = session.grants.current;
  return projectAllowed(grants, projectId)
    ? undefined
    : projectRefusal(grants, projectId, session.config.host);
}

/** Mode, key, scope and project at once, for what takes no project argument (resources, completion). */
export async function guard(session: Session, request: Request): Promise<ToolFailure | undefined> {
  return (await admit(session, request)) ?? reach(session, session.config.projectId);
}

/**
 * The key's budgets, before a call does any work (converting, searching, sending): undefined when
 * it may go on, after waiting a little if its room is near; otherwise why not and when to retry.
 * A call held back here has converted nothing and sent nothing.
 */
export async function budget(
  session: Session,
  request: Pick<Request, "name">,
  signal: AbortSignal,
): Promise<ToolFailure | undefined> {
  try {
    await session.client.admit(signal);
    return undefined;
  } catch (error) {
    if (error instanceof CpuBudgetSpent) return overShareFailure(error, request.name);
    if (error instanceof UpstreamError) {
      return describeTransportError(error, {
        tool: request.name,
        host: session.config.host,
        projectId: session.config.projectId,
      });
    }
    throw error;
  }
}

/**
 * Whether the key is over its share of processing time now, as the sentence to answer with: for
 * calls refused before their budget (arguments, scope, project), which would otherwise cost this
 * server's thread without end once the share is spent.
 */
export function overShare(session: Session, name: string): ToolFailure | undefined {
  const spent = session.client.cpuAccount?.overShare();
  return spent && overShareFailure(spent, name);
}

function overShareFailure(error: CpuBudgetSpent, name: string): ToolFailure {
  const wait = Math.ceil(error.waitMs / 1000);
  return {
    reason: "busy",
    message: `This key has used ${Math.round(error.spentMs / 1000)} s of this server's processing time in the last minute, over its share of ${Math.ceil(error.budgetMs / 1000)} s a minute${error.busy > 1 ? ` (this server's time is shared among the ${error.busy} keys busy on it)` : ""}, so ${name} was not run and nothing was sent to PostHog. Try again in ${wait} second${wait === 1 ? "" : "s"}; big notebooks (converting, editing, searching them) cost the most.`,
    retryAfterSeconds: wait,
  };
}
