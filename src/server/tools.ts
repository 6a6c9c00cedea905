/**
 * Tools, generated from the operations table: their listing (only what the key and the mode allow)
 * and their dispatch (validate → check scope, mode and project → proxy → one response convention).
 */
import {
  type CallToolResult,
  type InputRequiredResult,
  isInputRequiredResult,
  type StandardSchemaWithJSON,
  type Tool,
  type ToolAnnotations,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ProjectId } from "../config.js";
import { revealInvisible } from "../content/invisible.js";
import { accountedTo } from "../cpu-account.js";
import { describeInvalidArguments, describeProtoKeys, protoKeyPaths } from "../invalid-arguments.js";
import { OPERATIONS } from "../operations/index.js";
import { ProjectIdArg } from "../operations/shared/args.js";
import type { Operation, OpResult } from "../operations/types.js";
import { UpstreamError } from "../posthog/client.js";
import { describeTransportError, ToolError, type ToolFailure } from "../posthog/errors.js";
import { grantsAllow } from "../posthog/scopes.js";
import type { Session } from "../session.js";
import type { BeforeRun } from "./confirm.js";
import { inputJsonSchema, outputJsonSchema, standardSchema } from "./json-schema.js";
import { createOpContext } from "./op-context.js";
import { admit, budget, overShare, reach } from "./request-guard.js";
import { holdRequest, requestSignal } from "./request-scope.js";
import { cleanStringsDeep, untrustedBlock } from "./untrusted.js";

interface Compiled {
  op: Operation;
  schema: z.ZodObject;
  tool: Tool;
}

const compiled = new Map<string, Compiled>();

/** project_id as agents see it (an integer is taken too). */
const PROJECT_ID_JSON = {
  type: "string",
  description: "Project id or @current; default: the configured one.",
};

type ToolSchemas = Record<string, Pick<Tool, "inputSchema" | "outputSchema">>;

/**
 * The tools' JSON Schemas, generated from the zod schemas at build time (scripts/build.mjs), so
 * that a starting server does not spend its first tools/list generating them. Undefined when the
 * sources run directly (tests), which generate them on first use instead.
 */
declare const __TOOL_SCHEMAS__: ToolSchemas | undefined;
const prebuilt: ToolSchemas | undefined = typeof __TOOL_SCHEMAS__ === "object" ? __TOOL_SCHEMAS__ : undefined;

/** Every tool's JSON Schemas, generated from the zod schemas (what the build fixes in). */
export function generateToolSchemas(): ToolSchemas {
  return Object.fromEntries(
    OPERATIONS.map((op) => [
      op.name,
      {
        inputSchema: inputJsonSchema(argumentsSchema(op), PROJECT_ID_JSON),
        outputSchema: outputJsonSchema(op.output),
      },
    ]),
  );
}

function argumentsSchema(op: Operation): z.ZodObject {
  return z.strictObject({ ...op.input, project_id: ProjectIdArg.optional() });
}

function compile(op: Operation): Compiled {
  let entry = compiled.get(op.name);
  if (!entry) {
    const schema = argumentsSchema(op);
    const { inputSchema, outputSchema } = prebuilt?.[op.name] ?? {
      inputSchema: inputJsonSchema(schema, PROJECT_ID_JSON),
      outputSchema: outputJsonSchema(op.output),
    };
    entry = {
      op,
      schema,
      tool: {
        name: op.name,
        title: op.title,
        description: op.description,
        inputSchema,
        outputSchema,
        annotations: toolAnnotations(op.annotations),
      },
    };
    compiled.set(op.name, entry);
  }
  return entry;
}

/** What `registerTool` is given for `op`: the same definition `tools/list` shows. */
export function toolConfig(op: Operation): {
  title: string;
  description: string;
  inputSchema: StandardSchemaWithJSON<Record<string, unknown>>;
  outputSchema: StandardSchemaWithJSON<Record<string, unknown>>;
  annotations: ToolAnnotations;
} {
  const { tool } = compile(op);
  return {
    title: op.title,
    description: op.description,
    inputSchema: standardSchema(tool.inputSchema),
    // The SDK checks every result against the operation's own schema before it leaves.
    outputSchema: standardSchema(tool.outputSchema ?? { type: "object" }, (value) => {
      const checked = op.output.safeParse(value);
      return checked.success ? { ok: true } : { ok: false, message: checked.error.issues[0]?.message ?? "" };
    }),
    annotations: tool.annotations ?? {},
  };
}

/**
 * The hints a client needs, without those equal to MCP's defaults (destructive, not idempotent,
 * open world), or meaningless for a read-only tool: the same for every client, in fewer bytes.
 */
export function toolAnnotations(a: Operation["annotations"]): Tool["annotations"] {
  const out: NonNullable<Tool["annotations"]> = { readOnlyHint: a.readOnlyHint };
  if (!a.readOnlyHint) {
    if (!a.destructiveHint) out.destructiveHint = false;
    if (a.idempotentHint) out.idempotentHint = true;
  }
  if (!a.openWorldHint) out.openWorldHint = false;
  return out;
}

/** Whether `op` is offered right now: allowed by the mode and by what the key holds. */
export function isAvailable(op: Operation, session: Session): boolean {
  if (op.writes && session.config.readOnly) return false;
  return grantsAllow(session.grants.current, op.scope);
}

export function listTools(session: Session): Tool[] {
  return OPERATIONS.filter((op) => isAvailable(op, session)).map((op) => compile(op).tool);
}

/** One operation's tool definition, as tools/list shows it. */
export function toolDefinition(op: Operation): Tool {
  return compile(op).tool;
}

/** Every tool, whatever the key: for documentation and snapshots. */
export function allTools(): Tool[] {
  return OPERATIONS.map((op) => compile(op).tool);
}

export function errorResult(failure: ToolFailure): CallToolResult {
  return { isError: true, content: [{ type: "text", text: failure.message }] };
}

/**
 * Runs one tool call. Never throws: every failure is an `isError` result the agent can act on.
 * `before` (confirmations) runs once the call is admitted, and may answer in the operation's place.
 */
export async function callTool(
  session: Session,
  op: Operation,
  rawArgs: Record<string, unknown> | undefined,
  signal: AbortSignal,
  before?: BeforeRun,
): Promise<CallToolResult | InputRequiredResult> {
  // Over HTTP: aborted once the request's client is gone, and its place held until this ends.
  const release = holdRequest();
  let result: CallToolResult | InputRequiredResult;
  try {
    result = await dispatch(session, op, rawArgs, requestSignal(signal), before);
  } finally {
    release();
  }
  // An error's sentence may repeat what people wrote (a title) or what was sent (an argument).
  if (!isInputRequiredResult(result) && result.isError) {
    for (const block of result.content) if (block.type === "text") block.text = revealInvisible(block.text);
  }
  return result;
}

/** Mode, key, scope, arguments and project: the call's arguments, or why it is refused. */
async function checkCall(
  session: Session,
  op: Operation,
  rawArgs: Record<string, unknown> | undefined,
): Promise<{ failure: ToolFailure } | { args: Record<string, unknown>; projectId: ProjectId }> {
  const refused = await admit(session, { name: op.name, scope: op.scope, writes: op.writes });
  if (refused) return { failure: refused };
  const { schema } = compile(op);
  // A `__proto__` key (kept by JSON.parse, dropped or misread by object code) is refused by name.
  const proto = protoKeyPaths(rawArgs ?? {});
  if (proto.length > 0) {
    return { failure: { reason: "invalid_arguments", message: describeProtoKeys(op.name, proto) } };
  }
  const parsed = schema.safeParse(rawArgs ?? {});
  if (!parsed.success) {
    return {
      failure: {
        reason: "invalid_arguments",
        message: describeInvalidArguments(op.name, parsed.error, schema, rawArgs ?? {}),
      },
    };
  }
  const { project_id, ...args } = parsed.data as Record<string, unknown> & { project_id?: ProjectId };
  const projectId: ProjectId = project_id ?? session.config.projectId;
  const unreachable = reach(session, projectId);
  return unreachable ? { failure: unreachable } : { args, projectId };
}

async function dispatch(
  session: Session,
  op: Operation,
  rawArgs: Record<string, unknown> | undefined,
  signal: AbortSignal,
  before: BeforeRun | undefined,
): Promise<CallToolResult | InputRequiredResult> {
  const { logger } = session;
  const checked = await checkCall(session, op, rawArgs);
  // A call refused before its budget costs this server's thread alone: once the key is over its
  // share of that, it is told so instead (such calls are otherwise never refused for it).
  if ("failure" in checked) return errorResult(overShare(session, op.name) ?? checked.failure);
  const { args, projectId } = checked;
  // The key's request and processing budgets, before any work (a conversion, a search).
  const spent = await budget(session, op, signal);
  if (spent) return errorResult(spent);

  const shortId = typeof args.short_id === "string" ? args.short_id : undefined;
  const ctx = createOpContext(session, op.name, projectId, signal, shortId);
  const started = performance.now();
  try {
    // What the call's work costs (the confirmation's read included) is charged to its key.
    let answered: CallToolResult | InputRequiredResult | undefined;
    const result = await accountedTo(session.client.cpuAccount, async () => {
      answered = await before?.(op, args, projectId, ctx);
      return answered ? undefined : op.run(args, ctx);
    });
    if (answered || !result) return answered as CallToolResult | InputRequiredResult;
    const show = revealInvisible;
    result.structured = cleanStringsDeep(result.structured, show);
    result.summary = show(result.summary);
    if (result.text !== undefined) result.text = show(result.text);
    const structured = result.structured as Record<string, unknown>;
    logger.debug({ tool: op.name, ms: Math.round(performance.now() - started) }, "tool call succeeded");
    if (result.changed) session.notebookChanged(result.changed.shortId, result.changed.listed);
    return {
      content: [{ type: "text", text: resultText(result, session.config.maxResultChars) }],
      structuredContent: structured,
    };
  } catch (error) {
    const failure =
      error instanceof ToolError
        ? error.failure
        : error instanceof UpstreamError
          ? describeTransportError(error, ctx.errorContext())
          : unexpected(error, op.name, session);
    logger.info(
      { tool: op.name, reason: failure.reason, ms: Math.round(performance.now() - started) },
      "tool call failed",
    );
    return errorResult(failure);
  }
}

/**
 * The text block: the summary sentence, the structured result as compact JSON (or the result's
 * own lines), and notebook text after it, fenced, marked as people's data. Held to the result
 * cap, saying so when cut.
 */
function resultText(result: OpResult<unknown>, cap: number): string {
  let text = `${result.summary}\n${result.text ?? JSON.stringify(result.structured)}`;
  for (const document of result.documents ?? [])
    text += `\n${untrustedBlock(document.text, document.label, document.note)}`;
  const limit = cap + 4_000;
  if (text.length > limit) {
    text = `${text.slice(0, limit)}\n[Cut at ${limit} characters: ask for less, with a smaller limit or a narrower filter.]`;
  }
  return text;
}

function unexpected(error: unknown, tool: string, session: Session): ToolFailure {
  session.logger.error({ err: error, tool }, "unexpected error in a tool call");
  return {
    reason: "internal_error",
    message: `${tool} failed inside this server (${error instanceof Error ? error.name : "error"}). Nothing more is known; try again, and report it if it repeats.`,
  };
}
