/**
 * Tools, generated from the operations table: their listing (only what the key and the mode allow)
 * and their dispatch (validate → check scope, mode and project → proxy → one response convention).
 */
import type {
  CallToolResult,
  StandardSchemaWithJSON,
  Tool,
  ToolAnnotations,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ProjectId } from "../config.js";
import { revealInvisible } from "../content/invisible.js";
import { ProjectIdArg } from "../operations/args.js";
import { OPERATIONS } from "../operations/index.js";
import type { Operation, OpResult } from "../operations/types.js";
import { UpstreamError } from "../posthog/client.js";
import {
  describeTransportError,
  missingScope,
  projectRefusal,
  ToolError,
  type ToolFailure,
} from "../posthog/errors.js";
import { createOpContext } from "../posthog/gateway.js";
import { grantsAllow, keySettingsUrl, projectAllowed } from "../posthog/scopes.js";
import type { Session } from "../session.js";
import { inputJsonSchema, outputJsonSchema, standardSchema } from "./json-schema.js";
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
        outputSchema: outputJsonSchema(),
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
      outputSchema: outputJsonSchema(),
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
    outputSchema: standardSchema(tool.outputSchema ?? { type: "object" }),
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
 * Text as an agent is shown it, once: characters that can only hide something made visible, and
 * never the key (should someone have pasted it into a notebook, or an error repeat it).
 */
function shown(session: Session, text: string): string {
  return session.client.redact(revealInvisible(text));
}

/** The value at `path` in what the agent sent (zod 4 does not report it in issues). */
function sentAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A value the agent sent, shown short and escaped. */
function showSent(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  const kind = Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`;
  return `${json.length > 40 ? `${json.slice(0, 39)}…` : json} (${kind})`;
}

const EXPECTED: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "an object",
  array: "an array",
};

function describeIssues(toolName: string, error: z.ZodError, schema: z.ZodObject, raw: unknown): string {
  const known = Object.keys(schema.shape);
  const parts = error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      return `unknown argument${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")} (accepted: ${known.join(", ")})`;
    }
    const path = issue.path.length > 0 ? issue.path.join(".") : "arguments";
    const sent = sentAt(raw, issue.path);
    if (sent === undefined && issue.path.length > 0) return `${path} is required`;
    if (issue.code === "invalid_type") {
      return `${path} must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${showSent(sent)}`;
    }
    if (issue.code === "invalid_union") {
      if (issue.path[0] === "project_id")
        return `${path} must be a project id (a positive integer) or '@current', not ${showSent(sent)}`;
      const custom = issue.errors.flat().find((inner) => inner.code === "custom");
      return `${path} ${custom?.message ?? "has the wrong type or shape"}`;
    }
    return `${path} ${issue.message.replace(/^Invalid input: /, "").replace(/^expected/, "must be")}`;
  });
  return `Invalid arguments for ${toolName}: ${parts.join("; ")}. Nothing was sent to PostHog; correct the arguments and call again.`;
}

/** Runs one tool call. Never throws: every failure is an `isError` result the agent can act on. */
export async function callTool(
  session: Session,
  op: Operation,
  rawArgs: Record<string, unknown> | undefined,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const result = await dispatch(session, op, rawArgs, signal);
  // An error's sentence may repeat what people wrote (a title) or what was sent (an argument).
  if (result.isError) {
    for (const block of result.content) if (block.type === "text") block.text = shown(session, block.text);
  }
  return result;
}

async function dispatch(
  session: Session,
  op: Operation,
  rawArgs: Record<string, unknown> | undefined,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const { config, logger } = session;
  if (op.writes && config.readOnly) {
    return errorResult({
      reason: "read_only",
      message:
        config.readOnlyFrom === "POSTHOG_MCP_READ_ONLY"
          ? `${op.name} changes notebooks, and this server runs read-only (POSTHOG_MCP_READ_ONLY is set), so nothing was sent. Remove POSTHOG_MCP_READ_ONLY from the server's environment in the MCP client configuration to allow writes.`
          : `${op.name} changes notebooks, and this server runs with --read-only, so nothing was sent. Remove --read-only from the server's arguments in the MCP client configuration to allow writes.`,
    });
  }
  const known = session.grants.fresh();
  const grants = known instanceof Promise ? await known : known;
  if (grants.status === "rejected") {
    return errorResult({
      reason: "key_rejected",
      message: `PostHog rejected the personal API key (${grants.reason}), so nothing was sent. Create a new personal API key at ${keySettingsUrl(config.host)}, set it as POSTHOG_PERSONAL_API_KEY in the MCP client's configuration and restart the server.`,
    });
  }
  if (!grantsAllow(grants, op.scope)) {
    return errorResult(missingScope(op.name, op.scope, config.host));
  }
  const { schema } = compile(op);
  const parsed = schema.safeParse(rawArgs ?? {});
  if (!parsed.success) {
    return errorResult({
      reason: "invalid_arguments",
      message: describeIssues(op.name, parsed.error, schema, rawArgs ?? {}),
    });
  }
  const { project_id, ...args } = parsed.data as Record<string, unknown> & { project_id?: ProjectId };
  const projectId: ProjectId = project_id ?? config.projectId;

  if (!projectAllowed(grants, projectId)) return errorResult(projectRefusal(grants, projectId, config.host));

  const shortId = typeof args.short_id === "string" ? args.short_id : undefined;
  const ctx = createOpContext(session, op.name, projectId, signal, shortId);
  const started = performance.now();
  try {
    const result = await op.run(args, ctx);
    const show = (text: string) => shown(session, text);
    result.structured = cleanStringsDeep(result.structured, show);
    result.summary = show(result.summary);
    if (result.text !== undefined) result.text = show(result.text);
    // Documents come as agents are shown them (the operation revealed what hides): only the key is kept out.
    for (const document of result.documents ?? []) document.text = session.client.redact(document.text);
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
  for (const document of result.documents ?? []) text += `\n${untrustedBlock(document.text, document.label)}`;
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
