/**
 * Reading and writing one notebook: reads are remembered as snapshots (see snapshots.ts); writes
 * to one notebook from this process go one at a time, each against the version last seen, and a
 * change that can be re-applied (an append, an edit) is rebased when someone else wrote first.
 */
import { partlyParsed } from "../json-fields.js";
import type { Attempt, OpContext, OpRequest } from "../operations/types.js";
import { type JsonBody, UpstreamError } from "../posthog/client.js";
import { conflict, ToolError } from "../posthog/errors.js";
import { sleep } from "../posthog/rate-limit.js";
import { type Notebook, NotebookSchema } from "../posthog/schemas.js";
import type { Snapshot } from "./snapshots.js";

/** How many bytes of notebooks read in part (`readPartly`) this process has parsed on its own thread (for tests). */
export function echoParsing(): number {
  return partlyParsed.bytes;
}

/**
 * A notebook PostHog sends (read, or echoed after a write), read only as far as needed: its small
 * fields (id, version, title, who changed it when) parsed and checked, its document and text kept
 * as the bytes of their JSON (parsed only where they are used: in a conversion worker, for a big
 * notebook), and remembered. An HTTP error answer is handed back as it is.
 */
async function readPartly(ctx: OpContext, req: OpRequest): Promise<Attempt<Snapshot>> {
  const answer = await ctx.attemptPartly(req, NotebookSchema, ["content", "text_content"]);
  if (!answer.ok) return answer;
  const { value, kept } = answer.data;
  const bytesOf = (name: string): Uint8Array | null => {
    const bytes = kept.get(name);
    // (`null` is four bytes: worth a look, not a parse.)
    return bytes === undefined || (bytes.length === 4 && new TextDecoder().decode(bytes) === "null")
      ? null
      : bytes;
  };
  const text = bytesOf("text_content");
  if (text !== null && text[0] !== 0x22) {
    throw new ToolError({
      reason: "bad_upstream_answer",
      message: `PostHog answered with a notebook whose text_content is not a string. ${req.method === "GET" ? "This PostHog version may differ from what this server supports; try again, and report it if it repeats." : "The change was probably made: check with notebooks-retrieve or notebooks-list before calling again, and report this if it repeats."}`,
    });
  }
  const raw = { content: bytesOf("content"), text };
  return { ok: true, data: ctx.memory.notebooks.remember(ctx.projectId, value, raw) };
}

/**
 * Sends a write whose body is ready (`JsonBody`) and reads PostHog's echo of the notebook as far as
 * needed (`readEcho`), remembering it; an HTTP error answer is handed back as it is.
 */
export async function sendWrite(
  ctx: OpContext,
  req: OpRequest & { body: JsonBody },
): Promise<Attempt<Notebook>> {
  const answer = await readPartly(ctx, req);
  return answer.ok ? { ok: true, data: answer.data.notebook } : answer;
}

/**
 * Reads a notebook from PostHog and remembers it: its small fields parsed, its document and text
 * kept as the bytes of their JSON (see `readEcho`).
 */
export async function readNotebook(ctx: OpContext, shortId: string): Promise<Snapshot> {
  // The document held of it, most likely unchanged: compared whole, not read through.
  const held = ctx.memory.notebooks.get(ctx.projectId, shortId)?.raw;
  const answer = await readPartly(ctx, {
    method: "GET",
    segments: ["notebooks", shortId],
    ...(held ? { expect: new Map([["content", held]]) } : {}),
  });
  return answer.ok ? answer.data : ctx.fail(answer.response);
}

const queues = new Map<string, Promise<unknown>>();

/** The queue of one notebook's writes: per key (`ctx.writer`), so that no key waits behind another's. */
export function writeQueue(ctx: OpContext, shortId: string): string {
  return `${ctx.writer}/${ctx.projectId}/${shortId}`;
}

/** Runs `task` after every write to the same notebook that this process started before it. */
export function oneAtATime<T>(key: string, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const start = () => {
    if (signal.aborted) throw new UpstreamError("aborted", "the request was cancelled");
    return task();
  };
  const run = previous.then(start, start);
  const done = run.catch(() => undefined);
  queues.set(key, done);
  void done.then(() => {
    if (queues.get(key) === done) queues.delete(key);
  });
  return run;
}

/**
 * What a change writes, given the notebook it applies to: the request body, ready to send, with
 * `version` the base's. `rebased`: someone else wrote after the change was first made, and it is
 * being made again.
 */
export type Change = (base: Snapshot, rebased: boolean) => Promise<JsonBody>;

export interface WriteOptions {
  /**
   * `rebase`: re-apply the change to the newer version when someone else wrote first (appends,
   * edits). A number: the version the agent's change was made against; when the notebook has
   * moved on, the change is refused, as PostHog would refuse it.
   */
  against: "rebase" | number;
  /** Most attempts when rebasing (default 6). */
  attempts?: number;
}

export interface Written {
  notebook: Notebook;
  /** Times the change was re-applied because someone else had written first. */
  rebased: number;
}

/**
 * Writes `change` to a notebook with PATCH, against the version this session last saw (read now if
 * it saw none). On a conflict (409) a rebasing change is applied again to the notebook read anew,
 * after a short, jittered pause, a bounded number of times; a change that can no longer apply
 * throws its own error from `change`. Writes to one notebook from this process never overlap.
 */
export function writeNotebook(
  ctx: OpContext,
  shortId: string,
  change: Change,
  options: WriteOptions,
): Promise<Written> {
  const rebase = options.against === "rebase";
  const attempts = rebase ? (options.attempts ?? 6) : 1;
  return oneAtATime(writeQueue(ctx, shortId), ctx.signal, async () => {
    const held = ctx.memory.notebooks.get(ctx.projectId, shortId);
    let base = held ?? (await readNotebook(ctx, shortId));
    if (typeof options.against === "number" && base.notebook.version !== options.against) {
      // The snapshot may be older than the agent's read (another session of the key wrote since).
      base = await readNotebook(ctx, shortId);
      if (base.notebook.version !== options.against) {
        throw conflict(
          shortId,
          `you sent version ${options.against}; it is now at version ${base.notebook.version}`,
        );
      }
    }
    for (let attempt = 1; ; attempt++) {
      let body: JsonBody;
      try {
        body = await change(base, attempt > 1);
      } catch (error) {
        // A change that cannot apply to the version remembered may apply to the one PostHog has now.
        if (!(error instanceof ToolError) || base !== held) throw error;
        base = await readNotebook(ctx, shortId);
        body = await change(base, attempt > 1);
      }
      const answer = await sendWrite(ctx, { method: "PATCH", segments: ["notebooks", shortId], body });
      if (answer.ok) return { notebook: answer.data, rebased: attempt - 1 };
      if (answer.response.status !== 409 || attempt >= attempts) {
        if (answer.response.status === 409 || answer.response.status === 404) {
          ctx.memory.notebooks.forget(ctx.projectId, shortId);
        }
        return ctx.fail(answer.response);
      }
      await sleep(
        Math.round(Math.min(1_000, 40 * 2 ** attempt) * (0.5 + Math.random() / 2)),
        ctx.signal,
      ).catch(() => {
        throw new UpstreamError("aborted", "the request was cancelled");
      });
      base = await readNotebook(ctx, shortId);
    }
  });
}
