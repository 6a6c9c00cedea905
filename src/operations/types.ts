/**
 * The contract between an operation and whatever runs it: the tool dispatcher (src/server/) and
 * the documentation. An operation is data (name, scope, schemas, annotations) plus `run`, which
 * talks to PostHog only through the `OpContext` it is handed.
 */
import type { z } from "zod";
import type { ProjectId } from "../config.js";
import type { NotebookSnapshots } from "../notebooks/snapshots.js";
import type { HttpMethod, QueryValue, UpstreamResponse } from "../posthog/client.js";
import type { Scope } from "../posthog/scopes.js";

export interface OpRequest {
  method: HttpMethod;
  /** Path segments after `/api/projects/{project_id}/`; each is percent-encoded. */
  segments: string[];
  query?: Record<string, QueryValue>;
  /** Written as JSON, unless it is a `JsonBody` (posthog/client.ts) already. */
  body?: unknown;
  /** For `attemptPartly`: values likely in the answer, by field (see `UpstreamRequest.expect`). */
  expect?: ReadonlyMap<string, Uint8Array>;
}

export type Attempt<T> = { ok: true; data: T } | { ok: false; response: UpstreamResponse };

/**
 * What this session has learned: endpoints that refuse personal keys, notebooks it deleted, and
 * the notebooks it read or wrote last.
 */
export interface SessionMemory {
  personalKeyRefused: Set<string>;
  deleted: Set<string>;
  notebooks: NotebookSnapshots;
}

/** What an operation may do while it runs. */
export interface OpContext {
  projectId: ProjectId;
  signal: AbortSignal;
  /** One upstream request; a 2xx body is checked by `schema`, anything else throws a `ToolError`. */
  call<T>(req: OpRequest, schema: z.ZodType<T>): Promise<T>;
  /** Like `call`, but an HTTP error answer is returned instead of thrown (for fallbacks). */
  attempt<T>(req: OpRequest, schema: z.ZodType<T>): Promise<Attempt<T>>;
  /**
   * Like `attempt`, for answers too big to parse whole on the server's thread (a notebook): the
   * top-level fields named in `keep` are handed back as the bytes of their JSON, unparsed (absent
   * ones too: not there), and the others parsed and checked by `schema`.
   */
  attemptPartly<T>(
    req: OpRequest,
    schema: z.ZodType<T>,
    keep: readonly string[],
  ): Promise<Attempt<{ value: T; kept: Map<string, Uint8Array> }>>;
  /** Throws the `ToolError` that describes an HTTP error answer (from `attempt`). */
  fail(response: UpstreamResponse): never;
  /** Where a person opens the notebook, or null when there is no web app (the sandbox). */
  webUrl(shortId: string): string | null;
  memory: SessionMemory;
  /** Whose writes queue one at a time per notebook: one key's (other keys' never wait on them). */
  writer: string;
  /** Most characters of notebook text one result may carry. */
  maxResultChars: number;
}

export interface OpResult<Out> {
  structured: Out;
  /** One line for the text block, in front of the JSON. */
  summary: string;
  /**
   * Notebook text written by people, shown in the text block after the JSON, each fenced with a
   * note saying it is data (and not repeated in the structured result). Already as agents are
   * shown it: characters that can only hide something made visible (`revealInvisible`).
   */
  documents?: {
    label: "markdown" | "json" | "text" | "diff";
    text: string;
    /** The note in front of the fence (default: notebook content written by people). */
    note?: string;
  }[];
  /**
   * The text block's body in place of the structured result as JSON, for results whose JSON would
   * spend an agent's context on repetition (lists of notebooks, one line each).
   */
  text?: string;
  /** A notebook this call changed, for resource subscribers; `listed` when the listing changed too. */
  changed?: { shortId: string; listed: boolean };
}

export interface Annotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface Operation<Shape extends z.ZodRawShape = z.ZodRawShape, Out = unknown> {
  name: string;
  title: string;
  description: string;
  /** The key scope PostHog requires; checked locally before anything is sent. */
  scope: Scope;
  /** Write operations are hidden and refused in read-only mode. */
  writes: boolean;
  /** The upstream call, for documentation (`GET notebooks/{short_id}/`). */
  upstream: string;
  input: Shape;
  output: z.ZodType<Out>;
  annotations: Annotations;
  run(args: z.output<z.ZodObject<Shape>>, ctx: OpContext): Promise<OpResult<Out>>;
}

/** Types one operation against its own schemas, and files it in the table's common type. */
export function defineOperation<Shape extends z.ZodRawShape, Out>(op: Operation<Shape, Out>): Operation {
  return op as unknown as Operation;
}

export const READ: Annotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};
