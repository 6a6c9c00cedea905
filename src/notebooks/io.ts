/**
 * Reading and writing one notebook: reads are remembered as snapshots (see snapshots.ts); writes
 * to one notebook from this process go one at a time, each against the version last seen, and a
 * change that can be re-applied (an append, an edit) is rebased when someone else wrote first.
 */

import type { OpContext } from "../operations/types.js";
import { UpstreamError } from "../posthog/client.js";
import { conflict, ToolError } from "../posthog/errors.js";
import { sleep } from "../posthog/rate-limit.js";
import { type Notebook, NotebookSchema } from "../posthog/schemas.js";
import type { Snapshot } from "./snapshots.js";

/** Reads a notebook from PostHog and remembers it. */
export async function readNotebook(ctx: OpContext, shortId: string): Promise<Snapshot> {
  const nb = await ctx.call({ method: "GET", segments: ["notebooks", shortId] }, NotebookSchema);
  return ctx.memory.notebooks.remember(ctx.projectId, nb);
}

const queues = new Map<string, Promise<unknown>>();

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
 * What a change writes, given the notebook it applies to (without `version`: that is the base's).
 * `rebased`: someone else wrote after the change was first made, and it is being made again.
 */
export type Change = (base: Snapshot, rebased: boolean) => Promise<Record<string, unknown>>;

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
  return oneAtATime(`${ctx.writer}/${ctx.projectId}/${shortId}`, ctx.signal, async () => {
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
      let made: Record<string, unknown>;
      try {
        made = await change(base, attempt > 1);
      } catch (error) {
        // A change that cannot apply to the version remembered may apply to the one PostHog has now.
        if (!(error instanceof ToolError) || base !== held) throw error;
        base = await readNotebook(ctx, shortId);
        made = await change(base, attempt > 1);
      }
      const body = { ...made, version: base.notebook.version };
      const answer = await ctx.attempt(
        { method: "PATCH", segments: ["notebooks", shortId], body },
        NotebookSchema,
      );
      if (answer.ok) {
        ctx.memory.notebooks.remember(ctx.projectId, answer.data);
        return { notebook: answer.data, rebased: attempt - 1 };
      }
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
