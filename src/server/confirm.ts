/**
 * Confirmation by the user (form elicitation) of what the agent alone cannot take back: deleting a
 * notebook, replacing a whole notebook's document, and `replace_all` over many passages. Asked
 * only of clients that declare form elicitation; every other client's calls run as they always did.
 *
 * One handler serves both eras: it answers an `input_required` result (a form, and a signed
 * `requestState`); a 2026-07-28 client shows the form and sends the call again with the answer,
 * and on a 2025 connection the SDK's legacy shim asks with `elicitation/create` and re-enters the
 * handler itself.
 *
 * The `requestState` (the SDK's HMAC-SHA256 codec) names the tool and a digest of the arguments,
 * expires after a few minutes, and is bound to a digest of the key: state that was altered, signed
 * with another secret, expired or bound to another key is refused by the SDK before any handler
 * runs (JSON-RPC -32602, as MCP says); state for other arguments is an `isError` result. Neither
 * sends anything to PostHog. Answers without state are never trusted: the form is asked first.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  createRequestStateCodec,
  type InputRequiredResult,
  inputRequired,
  inputResponse,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { ProjectId } from "../config.js";
import { revealInvisible } from "../content/invisible.js";
import { shownMarkdown } from "../notebooks/documents.js";
import { readNotebook } from "../notebooks/io.js";
import type { OpContext, Operation } from "../operations/types.js";
import type { Session } from "../session.js";
import { findApart } from "../text-search.js";
import { awaitClient } from "./request-scope.js";

/** How long the user has to answer, in seconds. */
export const CONFIRM_TTL_SECONDS = 300;

/**
 * `replace_all` replacing more passages than this is confirmed. Up to five places, the result's
 * diff shows each of them and the agent can put each back with one exact edit; beyond, the diff is
 * cut and the edit cannot be reversed as a whole: a `replace_all` back would also change the
 * passages that already read like the replacement.
 */
export const MANY_MATCHES = 5;

/**
 * Passages counted for the form, at most: past it, the form says "more than". (Counting them all
 * kept every place of every edit: a hundred `replace_all` edits of "a" in 1 MB of Markdown held
 * 32 million places and took the server's thread for 3 s.)
 */
export const COUNTED_MATCHES = 10_000;

/** The one question of every form, and the key its answer comes back under. */
const KEY = "confirm";

/** What the state carries: the tool and a digest of its arguments (and project). */
interface Pending {
  tool: string;
  args: string;
}

/** A hook that runs once an operation's arguments are checked, and may answer in its place. */
export type BeforeRun = (
  op: Operation,
  args: Record<string, unknown>,
  projectId: ProjectId,
  ctx: OpContext,
) => Promise<CallToolResult | InputRequiredResult | undefined>;

export interface Confirmations {
  /** For `ServerOptions.requestState.verify`: the payload, or a throw (the SDK's -32602). */
  verify(state: string, ctx: ServerContext): Promise<Pending>;
  /** The hook for one tool call. */
  before(ctx: ServerContext, legacyCapabilities: () => ClientCapabilities | undefined): BeforeRun;
}

/** Signs when no POSTHOG_MCP_STATE_SECRET is set: good for this process only. */
const PROCESS_SECRET = randomBytes(32);
let warnedStateless = false;

/** One server's confirmations (its key, the process's secret or the configured one). */
export function createConfirmations(session: Session): Confirmations {
  const { config, logger } = session;
  if (config.http?.stateless && !config.stateSecret && !warnedStateless) {
    warnedStateless = true;
    logger.warn(
      "--stateless without POSTHOG_MCP_STATE_SECRET: a confirmation asked by one replica is refused by another; set it to the same value on every replica.",
    );
  }
  const codec = createRequestStateCodec<Pending>({
    key: config.stateSecret ?? PROCESS_SECRET,
    ttlSeconds: CONFIRM_TTL_SECONDS,
    bind: () => `posthog-notebooks-mcp/key:${session.client.keyHash}`,
  });
  return {
    async verify(state, ctx) {
      try {
        return await codec.verify(state, ctx);
      } catch (error) {
        // The SDK answers with its fixed -32602; why is told here, without the state.
        logger.info({ reason: error instanceof Error ? error.message : "unknown" }, "requestState refused");
        throw error;
      }
    },
    before(request, legacyCapabilities) {
      return async (op, args, projectId, ctx) => {
        const kind = riskOf(op.name, args);
        if (!kind || !asksByForm(request, legacyCapabilities)) return undefined;
        const digest = digestOf(op.name, projectId, args);
        const pending = request.mcpReq.requestState<Pending | string>();
        if (pending !== undefined) {
          if (typeof pending !== "object" || pending.tool !== op.name || pending.args !== digest) {
            return refused(
              `This requestState was issued for ${typeof pending === "object" && pending.tool !== op.name ? `another tool (${pending.tool})` : `another ${op.name} call, with other arguments`}: nothing was done and nothing was sent to PostHog. Call ${op.name} again without requestState and inputResponses, and the user will be asked anew.`,
            );
          }
          const answer = inputResponse(request.mcpReq.inputResponses, KEY);
          if (answer.kind === "elicit") {
            if (answer.action === "accept" && answer.content?.[KEY] === true) return undefined;
            return refused(declined(op.name, args, answer.action));
          }
          // Sent again without the answer: the form is asked again.
        }
        const question = await ask(kind, args, ctx);
        if (!question) return undefined;
        return inputRequired({
          inputRequests: {
            [KEY]: inputRequired.elicit({
              mode: "form",
              message: question.message,
              requestedSchema: {
                type: "object",
                properties: {
                  [KEY]: { type: "boolean", title: question.label, default: false },
                },
                required: [KEY],
              },
            }),
          },
          requestState: await codec.mint({ tool: op.name, args: digest }, request),
        });
      };
    },
  };
}

/**
 * A form returned on a 2025 connection: the SDK now asks the user (`elicitation/create`) and waits
 * for the answer, the call's request left open. Over HTTP the request meanwhile takes no place
 * in flight, for the answer comes as another request of the same key, and what it holds is
 * counted in the memory kept for clients; when it may not wait so, the call is refused instead,
 * saying why. `givenUp` hears if the call is cancelled (`signal`, the SDK's for the call: its client
 * cancelled it or went away) before the user answers.
 */
export function askedOnConnection(
  result: InputRequiredResult,
  signal: AbortSignal,
  givenUp: () => void,
): InputRequiredResult | CallToolResult {
  const why = awaitClient();
  if (why === undefined) {
    signal.addEventListener("abort", givenUp, { once: true });
    return result;
  }
  return refused(why);
}

type Risk = "delete" | "replace" | "replace_all";

/** Which confirmation a call may need, from its arguments alone (no request yet). */
export function riskOf(tool: string, args: Record<string, unknown>): Risk | undefined {
  if (tool === "notebooks-destroy") return "delete";
  if (tool === "notebooks-partial-update") {
    if (args.deleted === true) return "delete";
    if (args.markdown !== undefined || args.content !== undefined) return "replace";
  }
  if (tool === "notebooks-edit") {
    const edits = Array.isArray(args.edits) ? (args.edits as { replace_all?: unknown }[]) : [args];
    if (edits.some((edit) => edit.replace_all === true)) return "replace_all";
  }
  return undefined;
}

/** Whether the client declared form elicitation: on the request (2026-07-28) or at initialize. */
function asksByForm(ctx: ServerContext, legacy: () => ClientCapabilities | undefined): boolean {
  const envelope = ctx.mcpReq.envelope;
  // (The SDK's published type of the envelope is `{}`; its keys are the meta-key constants.)
  const declared = envelope
    ? ((envelope as Record<string, unknown>)[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined)
    : legacy();
  const elicitation = declared?.elicitation;
  if (!elicitation) return false;
  // An empty object declares form mode (what clients wrote before there were modes).
  return elicitation.form !== undefined || elicitation.url === undefined;
}

/** A digest of what the call would do: the tool, the project and the arguments, keys sorted. */
function digestOf(tool: string, projectId: ProjectId, args: Record<string, unknown>): string {
  return createHash("sha256").update(stableJson({ tool, projectId, args })).digest("base64url");
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The form's sentence, from the notebook as PostHog has it now; undefined when nothing needs
 * asking (a `replace_all` over few passages) or the notebook cannot be read (the operation then
 * runs and says why, as it always did).
 */
async function ask(
  kind: Risk,
  args: Record<string, unknown>,
  ctx: OpContext,
): Promise<{ message: string; label: string } | undefined> {
  const shortId = String(args.short_id);
  let snapshot: Awaited<ReturnType<typeof readNotebook>>;
  try {
    snapshot = await readNotebook(ctx, shortId);
  } catch {
    return undefined;
  }
  const nb = snapshot.notebook;
  const named = `PostHog notebook ${shortId}${nb.title ? `, titled ${quoted(nb.title)}` : ""}`;
  if (kind === "delete") {
    return {
      message: `Delete ${named}? It leaves the notebook list; it can be restored later.`,
      label: "Yes, delete this notebook",
    };
  }
  if (kind === "replace") {
    const what =
      args.markdown !== undefined
        ? `new Markdown of ${String(args.markdown).length.toLocaleString("en-US")} characters`
        : args.content === null
          ? "nothing (it will be empty)"
          : "a new document";
    return {
      message: `Replace everything in ${named} (version ${nb.version}) with ${what}? What it holds now is not kept.`,
      label: "Yes, replace the whole notebook",
    };
  }
  let markdown: string;
  try {
    markdown = await shownMarkdown(snapshot);
  } catch {
    return undefined;
  }
  const edits = (Array.isArray(args.edits) ? args.edits : [args]) as {
    old_markdown?: unknown;
    new_markdown?: unknown;
    replace_all?: unknown;
  }[];
  let count = 0;
  let first: { old: string; new: string } | undefined;
  for (const edit of edits) {
    if (edit.replace_all !== true || typeof edit.old_markdown !== "string") continue;
    if (count > COUNTED_MATCHES) break;
    const found = findApart(markdown, edit.old_markdown, undefined, COUNTED_MATCHES + 1 - count).length;
    count += found;
    if (found > 0) first ??= { old: edit.old_markdown, new: String(edit.new_markdown ?? "") };
  }
  if (count <= MANY_MATCHES || !first) return undefined;
  const replacement = first.new === "" ? "nothing (deleting them)" : quoted(first.new);
  const many =
    count > COUNTED_MATCHES
      ? `more than ${COUNTED_MATCHES.toLocaleString("en-US")}`
      : count.toLocaleString("en-US");
  return {
    message: `Replace ${many} passages in ${named}: every ${quoted(first.old)} with ${replacement}${edits.length > 1 ? ", with the other edits of this call" : ""}? The places changed are too many to put back one by one.`,
    label: count > COUNTED_MATCHES ? "Yes, replace them all" : `Yes, replace all ${many}`,
  };
}

/** Text people or agents wrote, as data: one line, characters that hide something shown, cut, quoted. */
function quoted(text: string): string {
  const line = revealInvisible(text).replace(/\s+/g, " ").trim();
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 79)}…` : line);
}

function declined(tool: string, args: Record<string, unknown>, action: string): string {
  const who = action === "cancel" ? "The user dismissed the confirmation" : "The user declined";
  const what =
    riskOf(tool, args) === "delete"
      ? `notebook ${String(args.short_id)} was not deleted`
      : `notebook ${String(args.short_id)} was not changed`;
  return `${who}: ${what}, and nothing was sent to PostHog. Do not try again unless the user asks for it.`;
}

function refused(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}
